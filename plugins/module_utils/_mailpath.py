# -*- coding: utf-8 -*-
# Copyright: mailops.orchestrator_email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What ``preflight`` and ``verify`` do, given their module parameters."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import smtplib
import time
import uuid
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover
    from urlparse import urlsplit  # type: ignore

from ansible_collections.mailops.orchestrator_email.plugins.module_utils._errors import InvalidOptionsError, MailError
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._fields import mask_settings
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._smtp import (
    TRANSIENT_CODES,
    SmtpSession,
    Steps,
    remedy,
    resolve_settings,
    tcp_probe,
    tls_context,
)
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._store import Scope, open_store
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._validation import check_mail_options

TOKEN_HEADER = "X-Orchestrator-Email-Verification"
HTTP_PORT = 80


def _dropped(session, exc):
    return MailError("the connection to %s dropped: %s" % (session.target, str(exc) or type(exc).__name__),
                     cause="transient_failure")


def _probe_targets(tls, extra):
    """(host, port) pairs for the port-80 check: every CRL and OCSP URL of the certificate, plus
    ``http_probe_hosts`` (``host`` or ``host:port``)."""
    targets = []
    for url in (tls or {}).get("crl_urls", []) + (tls or {}).get("ocsp_urls", []):
        parts = urlsplit(url)
        if parts.hostname:
            targets.append((parts.hostname, parts.port or HTTP_PORT))
    for item in extra or []:
        host, sep, port = str(item).rpartition(":")
        if sep and port.isdigit() and host and not host.endswith(":"):
            targets.append((host.strip("[]"), int(port)))
        else:
            targets.append((str(item), HTTP_PORT))
    seen, unique = set(), []
    for target in targets:
        if target not in seen:
            seen.add(target)
            unique.append(target)
    return unique


def check_options(params):
    """Refuse options that break a rule, before any connection (InvalidOptionsError)."""
    errors = check_mail_options(params)
    if errors:
        raise InvalidOptionsError(errors)


def preflight(params):
    check_options(params)
    settings, label = resolve_settings(params, need_password=bool(params.get("check_auth")))
    timeout = params["timeout"]
    steps = Steps()
    context = tls_context(params["validate_certs"], params.get("ca_path"), params.get("min_tls_version"))
    session = SmtpSession(settings, timeout, context, tls_mode=params["tls_mode"],
                          allow_plaintext_auth=bool(params.get("allow_plaintext_auth")), steps=steps)
    planned = ["dns", "tcp", "smtp", "tls", "revocation", "auth"]
    try:
        session.open()
        targets = _probe_targets(session.tls if params["validate_certs"] else None, params.get("http_probe_hosts"))
        if not targets:
            why = ("secure is off" if not settings.get("secure") else
                   "certificates are not validated" if not params["validate_certs"] else
                   "the certificate names no CRL or OCSP URL and no http_probe_hosts were given")
            steps.add("revocation", "-", "skipped", "nothing to check: %s" % why)
        for host, port in targets:
            try:
                steps.run("revocation", "%s:%s" % (host, port), lambda h=host, p=port: _http_probe(h, p, timeout))
            except MailError:
                pass
        if params.get("check_auth") and settings.get("smtp_username"):
            if session.tls is None and not params.get("allow_plaintext_auth"):
                steps.add("auth", session.target, "warning",
                          "credentials not sent: the connection is not encrypted (secure is off); set "
                          "allow_plaintext_auth to test them anyway")
            else:
                def auth():
                    session.login()
                    return "authenticated as %s with AUTH %s" % (settings["smtp_username"], session.auth_mechanism)
                steps.run("auth", session.target, auth)
        else:
            steps.add("auth", session.target, "skipped",
                      "check_auth is off" if not params.get("check_auth") else "anonymous settings (no username)")
    except MailError:
        pass
    finally:
        session.close()
    if not params["validate_certs"]:
        for check in steps.checks:
            if check["name"] == "tls" and check["status"] == "ok":
                check["status"] = "warning"
                check["detail"] = "certificate NOT verified (validate_certs is false); " + check["detail"]
    done = set(c["name"] for c in steps.checks)
    for name in planned:
        if name not in done:
            steps.add(name, session.target, "skipped", "not run after an earlier failure"
                      if any(c["status"] == "failed" for c in steps.checks) else "not needed (secure is off)")
    diagnosis, seen = [], set()
    for check in steps.checks:
        cause = check.get("cause")
        if cause and cause not in seen:
            seen.add(cause)
            diagnosis.append({"code": cause, "check": check["name"], "remedy": remedy(cause)})
    result = {
        "changed": False,
        "ok": not diagnosis,
        "scope": label,
        "settings": mask_settings(settings),
        "checks": steps.checks,
        "diagnosis": diagnosis,
        "tls": session.tls,
    }
    if diagnosis and params.get("fail_on_error", True):
        raise MailError("preflight of %s failed: %s" % (
            session.target, "; ".join("%s (%s)" % (d["code"], d["remedy"]) for d in diagnosis)),
            cause=diagnosis[0]["code"], **dict((k, v) for k, v in result.items() if k != "changed"))
    return result


def _http_probe(host, port, timeout):
    try:
        return tcp_probe(host, port, timeout)
    except MailError as exc:
        raise MailError("%s (certificate revocation lookups need plain HTTP to %s:%s)" % (exc.message, host, port),
                        cause="revocation_unreachable")


def build_message(settings, to, subject, body, label, token):
    now = datetime.datetime.now(datetime.timezone.utc)
    sender = settings["from_address"]
    msg = EmailMessage()
    msg["From"] = formataddr((settings.get("from_display_name") or "", sender))
    msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(idstring=token[:12], domain=sender.rpartition("@")[2] or None)
    msg["Subject"] = subject or "Orchestrator email verification (%s) %s" % (label, now.strftime("%Y-%m-%d %H:%M:%S UTC"))
    msg[TOKEN_HEADER] = token
    msg.set_content(body or (
        "This is a verification email for the UiPath Orchestrator system email settings of the %s.\n\n"
        "Sent at %s through %s:%s from the machine that sends Orchestrator's mail.\n"
        "Verification token: %s\n" % (label, now.isoformat(timespec="seconds"), settings["smtp_host"],
                                      settings["smtp_port"], token)))
    return msg


def should_retry(cause, attempts, retries):
    """Whether attempt number ``attempts`` (1-based), which failed with ``cause``, is tried again:
    only temporary failures (4xx replies, a dropped connection), at most ``retries`` more times.
    Every other cause is permanent (bad credentials, refused recipients, TLS and network faults:
    a filtered port costs one timeout, not one per attempt)."""
    return cause == "transient_failure" and attempts <= retries


def backoff(first_delay, attempts):
    """Seconds to wait after failed attempt number ``attempts``: first_delay, then doubled each time."""
    return first_delay * (2 ** (attempts - 1))


def _transaction(session, msg, sender, to, check_mode):
    client = session.client
    code, reply = client.mail(sender)
    if code != 250:
        cause = "transient_failure" if code in TRANSIENT_CODES else "sender_refused"
        raise MailError("MAIL FROM:<%s> refused: %s %s" % (sender, code, _text(reply)), cause=cause, smtp_code=code)
    accepted, refused = [], {}
    for rcpt in to:
        code, reply = client.rcpt(rcpt)
        if code in (250, 251):
            accepted.append(rcpt)
        else:
            refused[rcpt] = "%s %s" % (code, _text(reply))
    if not accepted:
        transient = all(r.split(" ", 1)[0].isdigit() and int(r.split(" ", 1)[0]) in TRANSIENT_CODES
                        for r in refused.values())
        raise MailError("every recipient was refused: %s" % "; ".join("%s: %s" % i for i in refused.items()),
                        cause="transient_failure" if transient else "recipient_refused", refused=refused)
    if check_mode:
        client.rset()
        return accepted, refused, "RSET after RCPT TO (check mode: nothing sent)"
    try:
        code, reply = client.data(msg.as_bytes())
    except smtplib.SMTPDataError as exc:  # a refusal of DATA itself (smtplib raises instead of returning it)
        code, reply = exc.smtp_code, exc.smtp_error
    if code != 250:
        cause = "transient_failure" if code in TRANSIENT_CODES else "message_refused"
        raise MailError("the message was refused: %s %s" % (code, _text(reply)), cause=cause, smtp_code=code)
    return accepted, refused, "%s %s" % (code, _text(reply))


def _text(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def verify(params, check_mode):
    check_options(params)
    to = params["to"]
    if params.get("via") == "store":
        return _verify_via_store(params, to, check_mode)
    settings, label = resolve_settings(params)
    if not settings.get("from_address"):
        raise MailError("no from_address in the settings of the %s" % label, cause="no_settings")
    token = uuid.uuid4().hex
    msg = build_message(settings, to, params.get("subject"), params.get("body"), label, token)
    context = tls_context(params["validate_certs"], params.get("ca_path"), params.get("min_tls_version"))
    started = time.monotonic()
    attempts = 0
    while True:
        attempts += 1
        session = SmtpSession(settings, params["timeout"], context, tls_mode=params["tls_mode"],
                              allow_plaintext_auth=params["allow_plaintext_auth"])
        error = None
        try:
            session.open()
            session.login()
            accepted, refused, reply = _transaction(session, msg, settings["from_address"], to, check_mode)
            break
        except smtplib.SMTPServerDisconnected as exc:
            error = _dropped(session, exc)
        except smtplib.SMTPResponseException as exc:
            error = MailError("%s answered %s %s" % (session.target, exc.smtp_code, _text(exc.smtp_error)),
                              cause="transient_failure" if exc.smtp_code in TRANSIENT_CODES else "smtp_error",
                              smtp_code=exc.smtp_code)
        except smtplib.SMTPException as exc:
            error = MailError("SMTP error from %s: %s" % (session.target, exc), cause="smtp_error")
        except OSError as exc:
            # socket.timeout, ConnectionError and ssl.SSLError (after the handshake) are OSErrors;
            # smtplib's own exceptions are OSErrors too, so they are caught above, first.
            error = _dropped(session, exc)
        except MailError as exc:
            error = exc
        finally:
            session.close()
        if not should_retry(error.cause, attempts, params["retries"]):
            error.details.setdefault("attempts", attempts)
            raise error
        time.sleep(backoff(params["retry_delay"], attempts))
    return {
        "changed": not check_mode,
        "sent": not check_mode,
        "scope": label,
        "token": token,
        "message_id": msg["Message-ID"],
        "subject": msg["Subject"],
        "accepted": accepted,
        "refused": refused,
        "server_reply": reply,
        "tls_version": (session.tls or {}).get("tls_version"),
        "auth_mechanism": session.auth_mechanism,
        "attempts": attempts,
        "elapsed_ms": int((time.monotonic() - started) * 1000),
    }


def _verify_via_store(params, to, check_mode):
    organization = params.get("organization")
    scope = Scope.host() if organization is None else Scope.org(organization, params.get("partition_id"))
    if len(to) != 1:
        raise MailError("via: store sends to one recipient (the server's test takes one address); to has %d"
                        % len(to), cause="invalid_option")
    store = open_store(params)
    try:
        if check_mode:
            return {"changed": False, "sent": False, "via": "store",
                    "msg": "check mode: the %s store was not asked to send" % store.name}
        started = time.monotonic()
        result = dict(store.send_test_email(scope, to, params.get("subject"), params.get("body")) or {})
    finally:
        store.close()
    result.update({"changed": True, "sent": True, "via": "store", "elapsed_ms": int((time.monotonic() - started) * 1000)})
    return result
