"""An emulator of the vendor's Identity Server settings API, on loopback, for the tests.

It follows ../shared/reference/vendor-api.md: ``POST /identity/connect/token`` (client
credentials checked, tokens that expire), ``GET /identity/api/Setting`` (nothing without explicit
``key`` parameters; the password answered masked), bulk ``PUT``, ``DELETE`` of keys, and
``POST /identity/api/Setting/VerifySmtpSettings`` (really sends through the SMTP server set in
``smtp_target``). An empty value stores nothing (a blank field). Scopes are enforced as documented:
a token carries the scopes it was granted (``PM.Setting``, ``PM.Setting.Read``,
``PM.Setting.Write``, limited to ``allowed_scopes``); GET needs ``PM.Setting`` or
``PM.Setting.Read``, every other call ``PM.Setting`` or ``PM.Setting.Write`` (else 403).

Tests switch faults on (``fail_next(n, status, retry_after)``, ``delay_next(n, seconds)``,
``expire_tokens()``) and read ``requests`` (method, path, query, headers, body, client, time) to count
round trips, and ``state`` ({partition: {key: value}}).

CLI: ``python tests/lib/identity_emulator.py --ready-file F`` writes {"url", "client_id",
"client_secret"} and serves until SIGTERM (``--help`` for TLS and token lifetime).
"""
import argparse
import json
import os
import signal
import ssl
import smtplib
import threading
import time
import uuid
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl, urlsplit

MASK = "********"
PASSWORD_KEY = "Email.Smtp.Password"
KNOWN_SCOPES = ("PM.Setting", "PM.Setting.Read", "PM.Setting.Write")
READ_SCOPES = frozenset(["PM.Setting", "PM.Setting.Read"])
WRITE_SCOPES = frozenset(["PM.Setting", "PM.Setting.Write"])


class IdentityEmulator(object):
    def __init__(self, client_id="orchestrator-email-tests", client_secret="Emulator-Client-Secret-3a9f",
                 token_ttl=300, tls_context=None, pascal_case=False, allowed_scopes=KNOWN_SCOPES):
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_ttl = token_ttl
        self.tls_context = tls_context
        self.pascal_case = pascal_case
        self.state = {}
        self.tokens = {}
        self.token_scopes = {}
        self.allowed_scopes = tuple(allowed_scopes)
        self.requests = []
        self.faults = []
        self.smtp_target = None
        self.connections = set()
        self.lock = threading.Lock()
        self.server = None
        self.thread = None

    # -- test controls --------------------------------------------------------------------------
    def fail_next(self, count, status=500, retry_after=None, method=None, message=None):
        """Answer the next ``count`` requests (of ``method``, if given) with ``status``, a
        ``Retry-After`` header when given, and ``message`` (default: "injected fault <status>")."""
        with self.lock:
            self.faults.extend([("status", status, retry_after, method, message)] * count)

    def delay_next(self, count, seconds, method=None):
        """Answer the next ``count`` requests (of ``method``, if given) only after ``seconds``."""
        with self.lock:
            self.faults.extend([("delay", seconds, None, method, None)] * count)

    def expire_tokens(self):
        with self.lock:
            for token in self.tokens:
                self.tokens[token] = 0

    def api_requests(self):
        return [r for r in self.requests if "/api/" in r["path"]]

    @property
    def url(self):
        scheme = "https" if self.tls_context else "http"
        return "%s://127.0.0.1:%d/identity" % (scheme, self.server.server_address[1])

    def start(self):
        emulator = self

        class Handler(_Handler):
            pass
        Handler.emulator = emulator
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if self.tls_context is not None:
            self.server.socket = self.tls_context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK add 40 ms to every keep-alive request (a real server does not).
    disable_nagle_algorithm = True
    emulator = None

    def log_message(self, *args):
        pass

    def _reply(self, status, payload=None, headers=None):
        body = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _handle(self, method):
        emu = self.emulator
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with emu.lock:
            emu.connections.add(self.client_address)
            emu.requests.append({"method": method, "path": parts.path, "query": parts.query,
                                 "headers": dict(self.headers), "body": body.decode("utf-8", "replace"),
                                 "client": self.client_address, "time": time.time()})
            fault = None
            for index, candidate in enumerate(emu.faults):
                if candidate[3] in (None, method):
                    fault = emu.faults.pop(index)
                    break
        if fault and fault[0] == "delay":
            time.sleep(fault[1])
        elif fault and fault[0] == "status":
            headers = {"Retry-After": str(fault[2])} if fault[2] is not None else {}
            return self._reply(fault[1], {"message": fault[4] or "injected fault %s" % fault[1]}, headers)
        if parts.path == "/identity/connect/token" and method == "POST":
            return self._token(body)
        if not parts.path.startswith("/identity/api/Setting"):
            return self._reply(404, {"message": "no such endpoint"})
        token = (self.headers.get("Authorization") or "").replace("Bearer ", "")
        with emu.lock:
            expiry = emu.tokens.get(token)
            granted = emu.token_scopes.get(token, frozenset())
        if expiry is None or expiry < time.time():
            return self._reply(401, {"message": "invalid or expired token"},
                               {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        needed = READ_SCOPES if method == "GET" else WRITE_SCOPES
        if not granted & needed:
            return self._reply(403, {"message": "the token lacks one of the scopes %s" % " or ".join(sorted(needed))})
        query = parse_qs(parts.query, keep_blank_values=True)
        if parts.path == "/identity/api/Setting/VerifySmtpSettings" and method == "POST":
            return self._verify(json.loads(body or b"{}"))
        if parts.path != "/identity/api/Setting":
            return self._reply(404, {"message": "no such endpoint"})
        partition = (query.get("partitionGlobalId") or [""])[0]
        if method == "GET":
            keys = query.get("key") or []
            with emu.lock:
                stored = dict(emu.state.get(partition, {}))
            items = []
            for index, key in enumerate(keys):
                if key in stored:
                    value = MASK if key == PASSWORD_KEY else stored[key]
                    item = {"id": index + 1, "key": key, "value": value, "partitionGlobalId": partition,
                            "userId": None}
                    if emu.pascal_case:
                        item = dict((k[0].upper() + k[1:], v) for k, v in item.items())
                    items.append(item)
            return self._reply(200, items)
        if method == "PUT":
            payload = json.loads(body or b"{}")
            settings = payload.get("settings", payload.get("Settings", []))
            partition = payload.get("partitionGlobalId", payload.get("PartitionGlobalId", "")) or ""
            wrong = [i.get("key", i.get("Key")) for i in settings
                     if not isinstance(i.get("value", i.get("Value")), (str, type(None)))]
            if wrong:  # SettingDto.value is a string: the server's JSON binding refuses 587 or true
                return self._reply(400, {"message": "The JSON value could not be converted to System.String "
                                                    "(keys: %s)" % ", ".join(map(str, wrong))})
            with emu.lock:
                scope = emu.state.setdefault(partition, {})
                for item in settings:
                    key, value = item.get("key", item.get("Key")), item.get("value", item.get("Value"))
                    if value in (None, ""):
                        scope.pop(key, None)
                    else:
                        scope[key] = str(value)
                if not scope:
                    emu.state.pop(partition, None)
            return self._reply(200, [{"key": i.get("key"), "value": i.get("value")} for i in settings])
        if method == "DELETE":
            with emu.lock:
                scope = emu.state.get(partition, {})
                for key in query.get("key") or []:
                    scope.pop(key, None)
                if not scope:
                    emu.state.pop(partition, None)
            return self._reply(204)
        return self._reply(405, {"message": "method not allowed"})

    def _token(self, body):
        emu = self.emulator
        form = dict(parse_qsl(body.decode()))
        if form.get("grant_type") != "client_credentials":
            return self._reply(400, {"error": "unsupported_grant_type"})
        if form.get("client_id") != emu.client_id or form.get("client_secret") != emu.client_secret:
            return self._reply(400, {"error": "invalid_client"})
        requested = (form.get("scope") or "").split()
        if not requested or [s for s in requested if s not in emu.allowed_scopes]:
            return self._reply(400, {"error": "invalid_scope"})
        token = uuid.uuid4().hex
        with emu.lock:
            emu.tokens[token] = time.time() + emu.token_ttl
            emu.token_scopes[token] = frozenset(requested)
        return self._reply(200, {"access_token": token, "expires_in": emu.token_ttl, "token_type": "Bearer",
                                 "scope": form.get("scope", "")})

    def _verify(self, payload):
        emu = self.emulator
        partition = payload.get("partitionGlobalId", "") or ""
        with emu.lock:
            settings = dict(emu.state.get(partition) or emu.state.get("", {}))
        if emu.smtp_target is None or not settings:
            return self._reply(400, {"message": "SMTP settings are not configured"})
        recipients = payload.get("to") or [payload.get("sendTo")]
        message = EmailMessage()
        message["From"] = settings.get("Email.Smtp.FromEmail", "orchestrator@localhost")
        message["To"] = ", ".join(recipients)
        message["Subject"] = payload.get("subject") or "Orchestrator SMTP settings test"
        message["X-Identity-Partition"] = partition or "host"
        message.set_content(payload.get("body") or "Test email sent by the Identity Server emulator.")
        try:
            with smtplib.SMTP(emu.smtp_target[0], emu.smtp_target[1], timeout=10) as client:
                client.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            return self._reply(400, {"message": "sending failed: %s" % exc})
        return self._reply(200, {"message": "Test email sent"})

    def _safely(self, method):
        try:
            self._handle(method)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a timeout test): nothing to answer

    def do_GET(self):  # noqa: N802
        self._safely("GET")

    def do_PUT(self):  # noqa: N802
        self._safely("PUT")

    def do_POST(self):  # noqa: N802
        self._safely("POST")

    def do_DELETE(self):  # noqa: N802
        self._safely("DELETE")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Identity Server settings API emulator on 127.0.0.1")
    parser.add_argument("--ready-file", required=True)
    parser.add_argument("--max-seconds", type=float, default=3600)
    parser.add_argument("--token-ttl", type=int, default=300, help="token lifetime in seconds")
    parser.add_argument("--tls-cert", help="PEM certificate chain (with --tls-key): serve HTTPS")
    parser.add_argument("--tls-key", help="PEM private key of --tls-cert")
    args = parser.parse_args(argv)
    context = None
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
    emulator = IdentityEmulator(token_ttl=args.token_ttl, tls_context=context).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    partial = args.ready_file + ".partial"
    with open(partial, "w") as handle:  # then renamed: a reader never sees half a file
        json.dump({"url": emulator.url, "client_id": emulator.client_id,
                   "client_secret": emulator.client_secret}, handle)
    os.replace(partial, args.ready_file)
    stop.wait(args.max_seconds)
    emulator.stop()


if __name__ == "__main__":
    main()
