# -*- coding: utf-8 -*-
# Copyright: mailops.orchestrator_email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SMTP connections for ``preflight`` and ``verify`` (standard library only).

- TLS always verifies certificates (``ssl.create_default_context``), ``ca_path`` adds CAs, and
  only an explicit ``validate_certs: false`` turns verification off.
- TLS mode: implicit TLS on port 465, STARTTLS on any other port when ``secure`` (``tls_mode``
  overrides this for non-standard ports). A TLS failure is never retried in clear text.
- Every failure becomes a ``MailError`` whose ``cause`` is one of the diagnosis codes below.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hmac
import smtplib
import socket
import ssl
import threading
import time

from ansible_collections.mailops.orchestrator_email.plugins.module_utils._errors import MailError
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._engine import effective_settings
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._masking import auth_plain_token, mask_wire
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._store import Scope, open_store

IMPLICIT_TLS_PORT = 465

REMEDIES = {
    "dns_failure": "The SMTP host name does not resolve: check the name and the DNS servers of this machine.",
    "port_closed": "Nothing listens on the SMTP port (connection refused): check the port and that the "
                   "server runs.",
    "port_filtered": "No answer on the SMTP port within the timeout: a firewall drops the traffic; open the "
                     "port (587 or 465) from this machine to the SMTP server.",
    "not_smtp": "The port accepts connections but does not speak SMTP: check the host and port.",
    "starttls_not_offered": "The server does not offer STARTTLS: use the port that does (usually 587), or "
                            "turn secure off only if the server really has no TLS.",
    "tls_mode_mismatch": "The TLS mode does not fit the port: 587 uses STARTTLS, 465 uses TLS from the first "
                         "byte (implicit TLS); change the port or the server's TLS mode.",
    "certificate_untrusted": "The server's certificate is not signed by a CA this machine trusts: install the "
                             "CA (or give ca_path).",
    "certificate_expired": "The server's certificate has expired (or is not valid yet): renew it.",
    "hostname_mismatch": "The server's certificate is for another name: use the host name the certificate "
                         "names, or fix the certificate.",
    "revocation_unreachable": "The certificate's revocation servers (CRL/OCSP, plain HTTP) cannot be reached: "
                              "open port 80 from this machine to them, or the TLS handshake of Orchestrator's "
                              "mail client fails with SslHandshakeException.",
    "tls_version_mismatch": "Client and server share no TLS version: enable TLS 1.2 or later on the server.",
    "auth_failed": "The server rejected the username or password (for Gmail, use an App Password).",
    "plaintext_auth_refused": "Credentials would be sent over an unencrypted connection: enable secure, or "
                              "set allow_plaintext_auth if that is really intended.",
    "auth_not_offered": "The server offers no AUTH mechanism on this connection.",
    "sender_refused": "The server refused the From address: use an address the account may send as.",
    "recipient_refused": "The server refused every recipient.",
    "message_refused": "The server refused the message.",
    "transient_failure": "The server answered with a temporary failure on every attempt: try again later.",
    "tls_error": "The TLS handshake failed.",
    "smtp_error": "The SMTP server answered with an error.",
}

TRANSIENT_CODES = frozenset(range(400, 500))


def remedy(cause):
    return REMEDIES.get(cause, "")


def tls_context(validate_certs=True, ca_path=None, min_tls_version=None):
    context = ssl.create_default_context()
    if ca_path:
        try:
            context.load_verify_locations(cafile=ca_path)
        except (IOError, OSError, ssl.SSLError) as exc:
            raise MailError("cannot load CA certificates from %s: %s" % (ca_path, exc), cause="tls_error")
    if not validate_certs:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if min_tls_version:
        context.minimum_version = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}[min_tls_version]
    return context


def uses_implicit_tls(settings, tls_mode="auto"):
    if not settings.get("secure"):
        return False
    if tls_mode == "implicit":
        return True
    if tls_mode == "starttls":
        return False
    return settings.get("smtp_port") == IMPLICIT_TLS_PORT


AUTH_PREFERENCE = ("PLAIN", "LOGIN", "CRAM-MD5")


def choose_mechanism(advertised):
    """The AUTH mechanism to use, given the server's ``AUTH`` EHLO line: PLAIN, else LOGIN (what
    Orchestrator's mail client uses with a network credential), else CRAM-MD5; None when the server
    offers none of them (NTLM or GSSAPI only, or no AUTH at all)."""
    offered = set(str(advertised or "").upper().split())
    for mechanism in AUTH_PREFERENCE:
        if mechanism in offered:
            return mechanism
    return None


def authenticate(client, mechanism, user, password):
    """AUTH ``mechanism`` on an smtplib client, with the user name and password as UTF-8 (what the
    vendor's .NET mail stack sends; smtplib's own ``auth`` encodes them as ASCII and fails on any
    other character). Raises smtplib.SMTPAuthenticationError with the server's reply."""
    user_bytes, password_bytes = user.encode("utf-8"), password.encode("utf-8")

    def b64(data):
        return base64.b64encode(data).decode("ascii")
    if mechanism == "PLAIN":
        code, reply = client.docmd("AUTH", "PLAIN " + auth_plain_token(user, password))
    elif mechanism == "LOGIN":
        code, reply = client.docmd("AUTH", "LOGIN " + b64(user_bytes))
        if code == 334:
            code, reply = client.docmd(b64(password_bytes))
    elif mechanism == "CRAM-MD5":
        code, reply = client.docmd("AUTH", "CRAM-MD5")
        if code == 334:
            challenge = base64.b64decode(reply)
            digest = hmac.new(password_bytes, challenge, "md5").hexdigest()
            code, reply = client.docmd(b64(user_bytes + b" " + digest.encode("ascii")))
    else:  # pragma: no cover - choose_mechanism returns one of the three
        raise ValueError(mechanism)
    if code not in (235, 503):  # 503: already authenticated
        raise smtplib.SMTPAuthenticationError(code, reply)
    return code, reply


def login_name(settings):
    """The login sent with AUTH PLAIN/LOGIN. Orchestrator's mail client builds a network credential
    from username, password and domain; over SMTP AUTH PLAIN/LOGIN (which have no domain field) the
    domain travels as ``DOMAIN\\username``, as Windows servers expect."""
    user = settings.get("smtp_username")
    domain = settings.get("smtp_domain")
    if user and domain and "\\" not in user:
        return "%s\\%s" % (domain, user)
    return user


def classify_tls_error(exc):
    """ssl exception -> diagnosis code."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        code = getattr(exc, "verify_code", None)
        message = (getattr(exc, "verify_message", "") or str(exc)).lower()
        if code in (9, 10) or "expired" in message or "not yet valid" in message:
            return "certificate_expired"
        if code in (62, 64) or "mismatch" in message:
            return "hostname_mismatch"
        return "certificate_untrusted"
    text = str(exc).upper()
    if "WRONG_VERSION_NUMBER" in text or "RECORD_LAYER_FAILURE" in text or "PACKET_LENGTH_TOO_LONG" in text \
            or "HTTP_REQUEST" in text or "UNKNOWN_PROTOCOL" in text:
        return "tls_mode_mismatch"
    if "PROTOCOL_VERSION" in text or "UNSUPPORTED_PROTOCOL" in text or "NO_PROTOCOLS_AVAILABLE" in text \
            or "VERSION_TOO_LOW" in text or "VERSION_TOO_HIGH" in text:
        return "tls_version_mismatch"
    return "tls_error"


def tls_details(sock):
    cert = sock.getpeercert() or {}

    def names(rdns):
        return ", ".join("%s=%s" % pair for rdn in rdns for pair in rdn)

    return {
        "tls_version": sock.version(),
        "cipher": (sock.cipher() or (None,))[0],
        "subject": names(cert.get("subject", ())),
        "issuer": names(cert.get("issuer", ())),
        "sans": ["%s:%s" % san for san in cert.get("subjectAltName", ())],
        "not_after": cert.get("notAfter"),
        "crl_urls": list(cert.get("crlDistributionPoints", ()) or ()),
        "ocsp_urls": list(cert.get("OCSP", ()) or ()),
    }


class Steps(object):
    """Records each step as ``{name, target, status, detail, elapsed_ms}`` (preflight's checks)."""

    def __init__(self):
        self.checks = []

    def run(self, name, target, func):
        started = time.monotonic()
        try:
            detail = func()
        except MailError as exc:
            self.add(name, target, "failed", exc.message, started, cause=exc.cause)
            raise
        self.add(name, target, "ok", detail, started)
        return detail

    def add(self, name, target, status, detail, started=None, cause=None):
        check = {"name": name, "target": target, "status": status, "detail": detail,
                 "elapsed_ms": int((time.monotonic() - started) * 1000) if started is not None else 0}
        if cause:
            check["cause"] = cause
        self.checks.append(check)


def resolve(host, port, timeout=None):
    """The addresses of ``host``. ``getaddrinfo`` has no timeout of its own, so with ``timeout`` it
    runs in a helper thread and a resolver that does not answer in time is a ``dns_failure`` too."""
    outcome = {}

    def lookup():
        try:
            outcome["infos"] = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            outcome["error"] = exc

    if timeout is None:
        lookup()
    else:
        worker = threading.Thread(target=lookup, name="resolve-%s" % host)
        worker.daemon = True
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            raise MailError("no answer from the resolver for %s within %ss" % (host, timeout), cause="dns_failure")
    if "error" in outcome:
        exc = outcome["error"]
        raise MailError("cannot resolve %s: %s" % (host, getattr(exc, "strerror", None) or exc), cause="dns_failure")
    return sorted(set(info[4][0] for info in outcome["infos"]))


def tcp_probe(host, port, timeout):
    """Connect and close. Refused -> port_closed, no answer within ``timeout`` -> port_filtered."""
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except socket.gaierror as exc:
        raise MailError("cannot resolve %s: %s" % (host, exc.strerror or exc), cause="dns_failure")
    except ConnectionRefusedError:
        raise MailError("connection to %s:%s refused" % (host, port), cause="port_closed")
    except socket.timeout:
        raise MailError("no answer from %s:%s within %ss (filtered?)" % (host, port, timeout), cause="port_filtered")
    except OSError as exc:
        raise MailError("cannot connect to %s:%s: %s" % (host, port, exc.strerror or exc), cause="port_closed")
    sock.close()
    return "connected"


def speaks_tls(host, port, timeout):
    """Whether the peer answers a TLS ClientHello (it is an implicit-TLS port)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError:
        return False
    try:
        context.wrap_socket(sock, server_hostname=host).close()
        return True
    except ssl.SSLError as exc:
        # An alert or a handshake failure still means a TLS server answered.
        return "WRONG_VERSION_NUMBER" not in str(exc).upper()
    except OSError:
        return False
    finally:
        sock.close()


def negotiable_version(host, port, timeout, starttls):
    """The TLS version the server negotiates with a client that accepts every version and every
    certificate, or None: tells a version mismatch from other handshake failures."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    except (ValueError, ssl.SSLError):
        pass
    client = None
    try:
        if starttls:
            client = smtplib.SMTP(host, port, timeout=timeout)
            client.ehlo()
            client.starttls(context=context)
        else:
            client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        return client.sock.version()
    except (smtplib.SMTPException, ssl.SSLError, OSError):
        return None
    finally:
        if client is not None:
            try:
                client.close()
            except OSError:
                pass


class SmtpSession(object):
    """One SMTP connection: connect (+TLS), EHLO, optional AUTH. Raises MailError with a cause.

    ``steps`` (a Steps) records each phase for preflight."""

    def __init__(self, settings, timeout, context, tls_mode="auto", allow_plaintext_auth=False, steps=None):
        self.settings = settings
        self.timeout = timeout
        self.context = context
        self.tls_mode = tls_mode
        self.allow_plaintext_auth = allow_plaintext_auth
        self.steps = steps or Steps()
        self.client = None
        self.tls = None
        self.banner = None
        self.auth_mechanism = None

    @property
    def target(self):
        return "%s:%s" % (self.settings["smtp_host"], self.settings["smtp_port"])

    def open(self):
        host, port = self.settings["smtp_host"], self.settings["smtp_port"]
        steps = self.steps
        steps.run("dns", host, lambda: "resolves to %s" % ", ".join(resolve(host, port, self.timeout)))
        steps.run("tcp", self.target, lambda: tcp_probe(host, port, self.timeout))
        implicit = uses_implicit_tls(self.settings, self.tls_mode)
        try:
            if implicit:
                steps.run("tls", self.target, self._implicit_tls)
                steps.run("smtp", self.target, self._banner_and_ehlo)
            else:
                steps.run("smtp", self.target, self._plain_connect)
                if self.settings.get("secure"):
                    steps.run("tls", self.target, self._starttls)
        except MailError:
            self.close()
            raise
        return self

    def _connect(self, client):
        """Connect ``client`` (an SMTP or SMTP_SSL made without a host) and read the banner.

        smtplib reads the TLS server name from ``_host``, which only its constructor sets - and a
        constructor given a host also connects, without returning the banner."""
        host, port = self.settings["smtp_host"], self.settings["smtp_port"]
        client._host = host  # pylint: disable=protected-access
        try:
            code, banner = client.connect(host, port)
        except BaseException:
            client.close()
            raise
        if code != 220:
            client.close()
            if code < 0:
                raise MailError("%s does not answer like an SMTP server (banner: %s)" % (self.target, _reply(banner)),
                                cause="not_smtp")
            raise _connect_refused(self.target, smtplib.SMTPConnectError(code, banner))
        self.client = client
        self.banner = "%s %s" % (code, _reply(banner))
        return self.banner

    def _implicit_tls(self):
        try:
            self._connect(smtplib.SMTP_SSL(timeout=self.timeout, context=self.context))
        except ssl.SSLError as exc:
            raise self._handshake_error("TLS handshake", exc, starttls=False)
        except (socket.timeout, smtplib.SMTPServerDisconnected) as exc:
            raise MailError("no TLS handshake or SMTP banner from %s within %ss: %s" % (self.target, self.timeout, exc),
                            cause="not_smtp")
        except OSError as exc:
            raise MailError("TLS connection to %s failed: %s" % (self.target, exc), cause="tls_error")
        self.tls = tls_details(self.client.sock)
        return _tls_summary(self.tls)

    def _plain_connect(self):
        host, port = self.settings["smtp_host"], self.settings["smtp_port"]
        try:
            self._connect(smtplib.SMTP(timeout=self.timeout))
        except (socket.timeout, smtplib.SMTPServerDisconnected, smtplib.SMTPResponseException, OSError) as exc:
            if self.settings.get("secure") and speaks_tls(host, port, self.timeout):
                raise MailError("%s speaks TLS from the first byte (implicit TLS), but port %s is used with "
                                "STARTTLS" % (self.target, port), cause="tls_mode_mismatch")
            raise MailError("%s does not answer like an SMTP server: %s" % (
                self.target, str(exc) or type(exc).__name__), cause="not_smtp")
        features = self._ehlo()
        if self.settings.get("secure") and not self.client.has_extn("starttls"):
            raise MailError("%s does not offer STARTTLS, and secure is on (EHLO: %s)" % (self.target, features),
                            cause="starttls_not_offered")
        return "banner %s; %s" % (self.banner, features)

    def _ehlo(self):
        try:
            code, reply = self.client.ehlo()
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError("EHLO to %s failed: %s" % (self.target, exc), cause="not_smtp")
        if code != 250:
            raise MailError("%s answered EHLO with %s %s" % (self.target, code, _reply(reply)), cause="not_smtp")
        extensions = sorted(self.client.esmtp_features)
        return "EHLO ok; extensions: %s" % ", ".join(extensions)

    def _banner_and_ehlo(self):
        return "banner %s; %s" % (self.banner, self._ehlo())

    def _handshake_error(self, what, exc, starttls):
        cause = classify_tls_error(exc)
        message = "%s with %s failed: %s" % (what, self.target, exc)
        if cause == "tls_error":
            version = negotiable_version(self.settings["smtp_host"], self.settings["smtp_port"], self.timeout,
                                         starttls)
            if version is not None:
                cause = "tls_version_mismatch"
                message += " (the server negotiates only %s, which this client does not accept)" % version
        return MailError(message, cause=cause)

    def _starttls(self):
        try:
            self.client.starttls(context=self.context)
        except ssl.SSLError as exc:
            raise self._handshake_error("STARTTLS handshake", exc, starttls=True)
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError("STARTTLS with %s failed: %s" % (self.target, exc), cause="tls_error")
        self.tls = tls_details(self.client.sock)
        self._ehlo()
        return _tls_summary(self.tls)

    def login(self):
        user = self.settings.get("smtp_username")
        if not user:
            return False
        if self.tls is None and not self.allow_plaintext_auth:
            raise MailError("refusing to send credentials over an unencrypted connection to %s:%s"
                            % (self.settings["smtp_host"], self.settings["smtp_port"]),
                            cause="plaintext_auth_refused")
        mechanism = choose_mechanism(self.client.esmtp_features.get("auth", ""))
        if mechanism is None:
            offered = self.client.esmtp_features.get("auth", "").strip()
            raise MailError("%s offers %s on this connection; this module authenticates with %s (the standard "
                            "library has no NTLM or GSSAPI)" % (
                                self.target, "AUTH " + offered if offered else "no AUTH", "/".join(AUTH_PREFERENCE)),
                            cause="auth_not_offered")
        login, password = login_name(self.settings), self.settings.get("smtp_password") or ""
        try:
            authenticate(self.client, mechanism, login, password)
        except smtplib.SMTPResponseException as exc:
            # 535 and other 5xx: the credentials (or the mechanism) are refused; 454 and other 4xx: try again.
            cause = "transient_failure" if exc.smtp_code in TRANSIENT_CODES else "auth_failed"
            # A server may echo what it was sent: the password, or the AUTH PLAIN token that holds it.
            reply = mask_wire(_reply(exc.smtp_error), [password, auth_plain_token(login, password)])
            raise MailError("authentication as %s (AUTH %s) failed: %s %s" % (
                user, mechanism, exc.smtp_code, reply), cause=cause, smtp_code=exc.smtp_code)
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError("the connection to %s dropped during AUTH %s: %s" % (self.target, mechanism, exc),
                            cause="transient_failure")
        self.auth_mechanism = mechanism
        return True

    def close(self):
        if self.client is not None:
            try:
                self.client.quit()
            except (smtplib.SMTPException, OSError):
                try:
                    self.client.close()
                except OSError:
                    pass
        self.client = None


def _connect_refused(target, exc):
    cause = "transient_failure" if exc.smtp_code in TRANSIENT_CODES else "smtp_error"
    return MailError("%s refused the session: %s %s" % (target, exc.smtp_code, _reply(exc.smtp_error)),
                     cause=cause, smtp_code=exc.smtp_code)


def _tls_summary(tls):
    return "%s %s; subject %s; issuer %s; expires %s" % (
        tls["tls_version"], tls["cipher"], tls["subject"] or "-", tls["issuer"] or "-", tls["not_after"] or "-")


def _reply(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


SETTING_OPTIONS = ("smtp_host", "smtp_port", "secure", "smtp_domain", "smtp_username", "smtp_password",
                   "from_address", "from_display_name")


def resolve_settings(params, need_password=True):
    """The settings under test: explicit options, or the effective settings of the host or
    ``organization`` read from the store, explicit options overriding stored ones.

    Returns (settings, scope label)."""
    explicit = dict((k, params.get(k)) for k in SETTING_OPTIONS if params.get(k) is not None)
    organization = params.get("organization")
    label = "host" if organization is None else "organization %s" % organization
    if explicit.get("smtp_host"):
        settings = {"smtp_port": 587, "secure": True}
        settings.update(explicit)
        return settings, label
    store = open_store(params)
    try:
        with store.session(write=False) as session:
            scopes = [Scope.host()]
            if organization is not None:
                scopes.append(Scope.org(organization, params.get("partition_id")))
            stored = session.read(scopes)
        host = stored[Scope.host()]
        own = stored.get(scopes[-1], {}) if organization is not None else {}
        settings, source = effective_settings(host, own)
        readable = store.password_readable
    finally:
        store.close()
    if not settings.get("smtp_host"):
        raise MailError("the %s store holds no email settings for the %s; apply them first or give smtp_host"
                        % (store.name, label), cause="no_settings")
    if organization is not None and source == "host":
        label = "organization %s (host settings)" % organization
    settings.update(explicit)
    if need_password and settings.get("smtp_username") and not readable and "smtp_password" not in explicit:
        raise MailError("the %s store does not return passwords; give smtp_password to test the settings of the %s"
                        % (store.name, label), cause="password_required")
    return settings, label
