"""SMTP servers on loopback for the tests, the demo and molecule (aiosmtpd + trustme).

Library use::

    with SmtpServer(mode="starttls", auth=("user", "pass")) as server:
        server.port, server.ca_path, server.messages  # email.message.Message objects

Modes: ``plain`` (no TLS), ``starttls`` (STARTTLS offered, AUTH only after it), ``implicit``
(TLS from the first byte). Options: ``auth=(user, password)`` requires AUTH (PLAIN and LOGIN,
minus ``exclude_auth``), ``maildir=DIR`` also saves each message as a .eml file, ``fail_mail=N``
answers the next N MAIL FROM with 421, ``drop_data=N`` drops the connection at the next N DATA,
``refuse={addr}`` answers RCPT TO with 550, ``context=`` serves another certificate (see
``Authority.server_context``/``expired_context``). Received messages are in ``server.messages``,
envelopes in ``server.envelopes``, AUTH attempts as ``(login, ok)`` in ``server.logins``.

Fault helpers: ``closed_port()``, ``SilentServer`` (accepts, never speaks), ``FilteredPort``
(connects time out), ``revocation_cert()`` (a certificate whose CRL and OCSP URLs point at a
closed loopback port). Everything binds 127.0.0.1 on an ephemeral port.

CLI (for ``make run`` and molecule)::

    python tests/lib/smtp_servers.py serve --mode starttls --auth USER:PASS --maildir DIR \\
        --ca-out CA.pem --ready-file READY.json [--port N]

writes ``{"host", "port", "ca_path", "pid"}`` to the ready file once listening, saves each
message as a .eml file in DIR, and runs until SIGTERM/SIGINT.
"""
import argparse
import datetime
import email
import email.policy
import json
import os
import signal
import socket
import ssl
import sys
import tempfile
import threading
import time
import warnings

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

HOST = "127.0.0.1"
# aiosmtpd warns about its own deprecated attribute on every AUTH.
warnings.filterwarnings("ignore", message="Session.login_data")
# ... and about AUTH without STARTTLS, which the plain and implicit-TLS modes do on purpose.
warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")


def free_port():
    sock = socket.socket()
    sock.bind((HOST, 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def closed_port():
    """A loopback port nobody listens on (connections are refused)."""
    return free_port()


class Authority(object):
    """A test CA (trustme) that writes its certificate to a PEM file for ``ca_path``."""

    def __init__(self, directory=None):
        self.ca = trustme.CA()
        self.directory = directory or tempfile.mkdtemp(prefix="oe-ca-")
        self.ca_path = os.path.join(self.directory, "ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_path)

    def server_context(self, *names, not_after=None, max_version=None):
        leaf = self.ca.issue_cert(*(names or (HOST, "localhost")), not_after=not_after)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        leaf.configure_cert(context)
        if max_version is not None:
            context.maximum_version = max_version
        return context

    def expired_context(self):
        return self.server_context(HOST, "localhost", not_after=datetime.datetime(2020, 1, 1))


class _Handler(object):
    def __init__(self, server):
        self.server = server

    async def handle_MAIL(self, smtp, session, envelope, address, mail_options):
        if self.server.fail_mail > 0:
            self.server.fail_mail -= 1
            return "421 4.3.2 Service not available, try again later"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, smtp, session, envelope, address, rcpt_options):
        if address in self.server.refuse:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp, session, envelope):
        if self.server.drop_data > 0:
            self.server.drop_data -= 1
            smtp.transport.close()
            return "421 closing"
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        self.server.messages.append(message)
        self.server.envelopes.append({"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos)})
        if self.server.maildir:
            name = "%s-%d.eml" % (time.strftime("%Y%m%dT%H%M%S"), len(self.server.messages))
            with open(os.path.join(self.server.maildir, name), "wb") as handle:
                handle.write(raw)
        return "250 Message accepted for delivery"


class SmtpServer(object):
    def __init__(self, mode="starttls", auth=None, authority=None, context=None, port=None, maildir=None,
                 fail_mail=0, drop_data=0, refuse=(), exclude_auth=()):
        self.mode = mode
        self.auth = auth
        self.authority = authority or (Authority() if mode != "plain" else None)
        self.ca_path = self.authority.ca_path if self.authority else None
        self.context = context or (self.authority.server_context() if self.authority else None)
        self.port = port or free_port()
        self.maildir = maildir
        self.fail_mail = fail_mail
        self.drop_data = drop_data
        self.refuse = set(refuse)
        self.exclude_auth = list(exclude_auth)
        self.messages = []
        self.envelopes = []
        self.logins = []
        self.controller = None

    def _authenticator(self, server, session, envelope, mechanism, auth_data):
        login = auth_data.login.decode() if isinstance(auth_data.login, bytes) else auth_data.login
        password = auth_data.password.decode() if isinstance(auth_data.password, bytes) else auth_data.password
        ok = self.auth is not None and (login, password) == tuple(self.auth)
        self.logins.append((login, ok))
        return AuthResult(success=ok, handled=False)

    def start(self):
        kwargs = {}
        if self.auth is not None:
            kwargs.update(authenticator=self._authenticator, auth_required=True)
            if self.exclude_auth:
                kwargs.update(auth_exclude_mechanism=self.exclude_auth)
        if self.mode == "starttls":
            kwargs.update(tls_context=self.context, auth_require_tls=True)
        elif self.mode == "implicit":
            # aiosmtpd does not count an implicit-TLS connection as TLS for AUTH (toolchain.md).
            kwargs.update(ssl_context=self.context, auth_require_tls=False)
        else:
            kwargs.update(auth_require_tls=False)
        self.controller = Controller(_Handler(self), hostname=HOST, port=self.port, ready_timeout=10, **kwargs)
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class SilentServer(object):
    """Accepts TCP connections and never says a word."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind((HOST, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                conn, _addr = self.sock.accept()
                self.conns.append(conn)
            except socket.timeout:
                continue
            except OSError:
                return

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop = True
        self.thread.join(2)
        for conn in self.conns:
            conn.close()
        self.sock.close()


class FilteredPort(object):
    """A loopback port whose connections time out: a listener with a full backlog that never accepts,
    so the kernel drops further SYNs, as a firewall that drops packets would."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind((HOST, 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self.fillers = []
        for _index in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            try:
                filler.connect((HOST, self.port))
            except (BlockingIOError, OSError):
                pass
            self.fillers.append(filler)
        time.sleep(0.1)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for filler in self.fillers:
            filler.close()
        self.sock.close()


def revocation_cert(directory, crl_port, ocsp_port):
    """A CA and a leaf for 127.0.0.1 whose CRL distribution point and OCSP URL point at loopback
    ports (built with cryptography). Returns (server SSLContext, ca_path, crl_url, ocsp_url)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID
    import ipaddress

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Revocation Test CA")])
    ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                            crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
               .sign(ca_key, hashes.SHA256()))
    crl_url = "http://127.0.0.1:%d/ca.crl" % crl_port
    ocsp_url = "http://127.0.0.1:%d/ocsp" % ocsp_port
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                full_name=[x509.UniformResourceIdentifier(crl_url)], relative_name=None, reasons=None,
                crl_issuer=None)]), critical=False)
            .add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
                AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url))]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_path = os.path.join(directory, "revocation-ca.pem")
    cert_path = os.path.join(directory, "revocation-leaf.pem")
    key_path = os.path.join(directory, "revocation-leaf.key")
    with open(ca_path, "wb") as handle:
        handle.write(ca_cert.public_bytes(serialization.Encoding.PEM))
    with open(cert_path, "wb") as handle:
        handle.write(leaf.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context, ca_path, crl_url, ocsp_url


def _serve(args):
    os.makedirs(args.maildir, exist_ok=True)
    authority = Authority(os.path.dirname(os.path.abspath(args.ca_out)))
    if os.path.abspath(args.ca_out) != authority.ca_path:
        os.replace(authority.ca_path, args.ca_out)
        authority.ca_path = os.path.abspath(args.ca_out)
    auth = tuple(args.auth.split(":", 1)) if args.auth else None
    server = SmtpServer(mode=args.mode, auth=auth, authority=authority, port=args.port or None,
                        maildir=args.maildir)
    server.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    ready = {"host": HOST, "port": server.port, "ca_path": authority.ca_path, "pid": os.getpid(),
             "mode": args.mode, "maildir": os.path.abspath(args.maildir)}
    tmp = args.ready_file + ".tmp"
    with open(tmp, "w") as handle:
        json.dump(ready, handle)
    os.replace(tmp, args.ready_file)
    try:
        stop.wait(args.max_seconds)
    finally:
        server.stop()
        try:
            os.unlink(args.ready_file)
        except OSError:
            pass


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run an SMTP server on 127.0.0.1 until SIGTERM")
    serve.add_argument("--mode", choices=["plain", "starttls", "implicit"], default="starttls")
    serve.add_argument("--auth", help="USER:PASS required for AUTH")
    serve.add_argument("--maildir", required=True)
    serve.add_argument("--ca-out", required=True)
    serve.add_argument("--ready-file", required=True)
    serve.add_argument("--port", type=int, default=0)
    serve.add_argument("--max-seconds", type=float, default=600,
                       help="stop by itself after this many seconds (default 600)")
    args = parser.parse_args(argv)
    _serve(args)


if __name__ == "__main__":
    sys.exit(main())
