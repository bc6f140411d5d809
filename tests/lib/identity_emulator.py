"""A model of the vendor's Identity Server settings API, on loopback, for the tests.

It models the vendor's *published* behaviour (../shared/reference/vendor-api.md, which names the
sources), not what our client happens to send: each rule below carries a comment naming its
source, and the parts that no public source confirms are marked "unconfirmed" (they are modelled
the way the client guesses, so that a change of guess is one change in each place).

Who may call what:
- External applications (client credentials) are registered per organization
  (``add_application``); a token of one is refused (403) for any other partition and for the host.
  ``single_client=True`` models a server that lets one application manage everything.
- The host partition is allowed only to the host administrator's token from the documented
  resource-owner password login (``POST {orchestrator}/api/account/authenticate``, tenancy
  ``host``, served at ``login_path``; unconfirmed: that the settings API takes that token).
- Scopes per method: GET needs PM.Setting or PM.Setting.Read, PUT (and the other calls)
  PM.Setting or PM.Setting.Write.

Tests inject faults that target a kind of request and a point in the run
(``inject(kind, target=..., method=..., nth=k)``: the k-th matching request from now gets a
status (with ``Retry-After``), a dropped connection, a delay or an expired token) and read
``requests`` (method, path, query, headers, body, client, time) and ``state``
({partition (None = host): {key: value}}).

CLI: ``python tests/lib/identity_emulator.py --ready-file F`` writes the URL and credentials as
JSON and serves until SIGTERM (``--help`` for TLS and token lifetime).
"""
import argparse
import json
import os
import re
import signal
import smtplib
import socket
import ssl
import threading
import time
import uuid
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl, urlsplit

MASK = "********"
PASSWORD_KEY = "Email.Smtp.Password"
KNOWN_SCOPES = ("PM.Setting", "PM.Setting.Read", "PM.Setting.Write")
# identity.yaml (UiPath/uipathcli): GET needs PM.Setting or PM.Setting.Read; PUT PM.Setting or PM.Setting.Write.
READ_SCOPES = frozenset(["PM.Setting", "PM.Setting.Read"])
WRITE_SCOPES = frozenset(["PM.Setting", "PM.Setting.Write"])
# vendor CLI docs ("uip admin smtp"): the server needs these three together in one PUT.
REQUIRED_TOGETHER = ("Email.Smtp.Host", "Email.Smtp.Port", "Email.Smtp.FromEmail")
GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# vendor-api.md: standalone /identity, Automation Suite /identity_ (host-level), Cloud also /{org}/identity_.
IDENTITY_PATH_RE = re.compile(r"^(?:/identity|(?:/[^/]+)?/identity_)(/.*)$")
HOST = None
ANY = object()


class IdentityEmulator(object):
    def __init__(self, client_id="orchestrator-email-tests", client_secret="Emulator-Client-Secret-3a9f",
                 token_ttl=300, tls_context=None, pascal_case=False, allowed_scopes=KNOWN_SCOPES,
                 single_client=False, host_admin=("host-admin", "Host-Admin-Password-7c1d"),
                 inherit_host_rows=False, path="/identity", login_path="/api/account/authenticate"):
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_ttl = token_ttl
        self.tls_context = tls_context
        self.pascal_case = pascal_case
        self.inherit_host_rows = inherit_host_rows
        self.path = path
        self.login_path = login_path
        self.host_admin = host_admin
        # client_id -> {"secret", "partition" (GUID, or ANY), "scopes"}
        self.applications = {}
        # The default application: bound to no organization yet (add_application binds it), or to
        # every partition when the server allows one application for everything.
        self.add_application(client_id, client_secret, ANY if single_client else "unbound",
                             scopes=allowed_scopes)
        self.state = {}
        self.tokens = {}  # token -> {"expires", "scopes", "partition", "kind", "who"}
        self.requests = []
        self.faults = []
        self.smtp_target = None
        self.connections = set()
        self.lock = threading.Lock()
        self.server = None
        self.thread = None

    # -- registration -------------------------------------------------------------------------
    def add_application(self, client_id, client_secret, partition, scopes=KNOWN_SCOPES):
        """Register an external application in the organization with partition GUID ``partition``."""
        self.applications[client_id] = {"secret": client_secret, "partition": partition,
                                        "scopes": tuple(scopes)}

    # -- test controls --------------------------------------------------------------------------
    def inject(self, kind="status", status=500, target=None, method=None, nth=1, count=1, retry_after=None,
               message=None, body=None, seconds=0.0, contains=None, func=None):
        """A fault on the ``nth`` request from now that matches ``target`` (``token``: either login
        endpoint; ``settings``: /api/Setting; ``verify``; None: any) and ``method``, and on the
        ``count - 1`` matching requests after it. Kinds: ``status`` (answer ``status`` with
        ``Retry-After`` when given, and ``body`` or ``{"message": message}``), ``drop`` (close the
        connection without an answer), ``delay`` (answer after ``seconds``), ``expire`` (every
        token expires just before the request is handled, so it gets a 401). ``contains``: only
        requests whose query or body holds this text (a partition GUID: one scope's requests).
        ``func``: called when the fault fires, before it acts (another writer, for example)."""
        with self.lock:
            self.faults.append({"kind": kind, "status": status, "target": target, "method": method,
                                "skip": nth - 1, "count": count, "retry_after": retry_after,
                                "message": message, "body": body, "seconds": seconds, "contains": contains, "func": func})

    def fail_next(self, count, status=500, retry_after=None, method=None, message=None, target=None):
        self.inject("status", status, target=target, method=method, count=count, retry_after=retry_after,
                    message=message)

    def delay_next(self, count, seconds, method=None, target=None):
        self.inject("delay", target=target, method=method, count=count, seconds=seconds)

    def expire_tokens(self):
        with self.lock:
            for token in self.tokens.values():
                token["expires"] = 0

    def api_requests(self):
        return [r for r in self.requests if "/api/Setting" in r["path"]]

    def settings_requests(self, method=None):
        return [r for r in self.api_requests() if method is None or r["method"] == method]

    def _take_fault(self, method, target, text):
        with self.lock:
            for fault in self.faults:
                if fault["method"] not in (None, method) or fault["target"] not in (None, target):
                    continue
                if fault["contains"] is not None and fault["contains"] not in text:
                    continue
                if fault["skip"] > 0:
                    fault["skip"] -= 1
                    return None
                fault["count"] -= 1
                if fault["count"] <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    @property
    def base(self):
        scheme = "https" if self.tls_context else "http"
        return "%s://127.0.0.1:%d" % (scheme, self.server.server_address[1])

    @property
    def url(self):
        return self.base + self.path

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


def _invalid(field, value):
    # vendor-api.md: error bodies look like {"errors": {"partitionGlobalId": ["The value 'X' is not valid."]}}
    return {"errors": {field: ["The value '%s' is not valid." % value]}, "title": "One or more validation errors "
            "occurred.", "status": 400}


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

    def _row(self, item):
        if self.emulator.pascal_case:
            return dict((k[0].upper() + k[1:], v) for k, v in item.items())
        return item

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
        login = parts.path == emu.login_path
        match = IDENTITY_PATH_RE.match(parts.path)
        rest = match.group(1) if match else None
        if login or rest == "/connect/token":
            target = "token"
        elif rest == "/api/Setting/VerifySmtpSettings":
            target = "verify"
        elif rest == "/api/Setting":
            target = "settings"
        else:
            target = "other"
        fault = emu._take_fault(method, target, parts.query + body.decode("utf-8", "replace"))
        if fault and fault["func"] is not None:
            fault["func"]()
        if fault and fault["kind"] == "delay":
            time.sleep(fault["seconds"])
        elif fault and fault["kind"] == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return None
        elif fault and fault["kind"] == "expire":
            emu.expire_tokens()
        elif fault and fault["kind"] == "status":
            headers = {"Retry-After": str(fault["retry_after"])} if fault["retry_after"] is not None else {}
            payload = fault["body"] if fault["body"] is not None else {
                "message": fault["message"] or "injected fault %s" % fault["status"]}
            return self._reply(fault["status"], payload, headers)
        if login and method == "POST":
            return self._host_admin_login(body)
        if rest == "/connect/token" and method == "POST":
            return self._token(body)
        if target not in ("settings", "verify"):
            return self._reply(404, {"message": "no such endpoint"})
        token = self._authorize(method)
        if token is None:
            return None
        query = parse_qs(parts.query, keep_blank_values=True)
        if target == "verify" and method == "POST":
            payload = json.loads(body or b"{}")
            partition = payload.get("partitionGlobalId")
            if not self._allowed(token, partition):
                return None
            return self._verify(payload, partition)
        if method in ("GET", "DELETE"):
            # The TypeScript SDK omits partitionGlobalId for the host; an empty value is not a GUID.
            if "partitionGlobalId" in query:
                partition = query["partitionGlobalId"][0]
                if not GUID_RE.match(partition):
                    return self._reply(400, _invalid("partitionGlobalId", partition))
                partition = partition.lower()
            else:
                partition = HOST
            if not self._allowed(token, partition):
                return None
            if method == "GET":
                return self._get(query.get("key") or [], partition)
            return self._delete(query.get("key") or [], partition)
        if method == "PUT":
            return self._put(token, json.loads(body or b"{}"))
        return self._reply(405, {"message": "method not allowed"})

    def _authorize(self, method):
        emu = self.emulator
        token = (self.headers.get("Authorization") or "").replace("Bearer ", "")
        with emu.lock:
            info = emu.tokens.get(token)
        if info is None or info["expires"] < time.time():
            self._reply(401, {"message": "invalid or expired token"}, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
            return None
        needed = READ_SCOPES if method == "GET" else WRITE_SCOPES
        if info["kind"] == "client" and not info["scopes"] & needed:
            self._reply(403, {"message": "the token lacks one of the scopes %s" % " or ".join(sorted(needed))})
            return None
        return info

    def _allowed(self, token, partition):
        """TypeScript SDK: an external application is refused (403) for the host partition; an
        application is registered in one organization. The host admin manages the host."""
        bound = token["partition"]
        if bound is ANY or bound == partition:
            return True
        if token["kind"] == "host_admin":
            reason = "the host administrator's login manages the host settings, not an organization's"
        elif partition is HOST:
            reason = "an external application cannot access the host partition"
        else:
            reason = "the application %s is not registered in this organization" % token["who"]
        self._reply(403, {"message": "Forbidden: " + reason})
        return False

    def _get(self, keys, partition):
        emu = self.emulator
        with emu.lock:
            stored = dict(emu.state.get(partition, {}))
            host = dict(emu.state.get(HOST, {}))
        items = []
        # identity.yaml: only the keys asked for, and only those with a stored value.
        for index, key in enumerate(keys):
            if key in stored:
                # vendor CLI docs: the password reads back masked.
                value = MASK if key == PASSWORD_KEY else stored[key]
                items.append(self._row({"id": index + 1, "key": key, "value": value, "partitionGlobalId": partition,
                                        "userId": None}))
            elif emu.inherit_host_rows and partition is not HOST and key in host:
                # Not documented either way: whether an organization's GET returns inherited host rows.
                value = MASK if key == PASSWORD_KEY else host[key]
                items.append(self._row({"id": 1000 + index, "key": key, "value": value, "partitionGlobalId": None,
                                        "userId": None}))
        return self._reply(200, items)

    def _put(self, token, payload):
        emu = self.emulator
        settings = payload.get("settings", payload.get("Settings", []))
        # BulkCreateOrUpdateSettingsCommand: partitionGlobalId is a uuid or null (null = host).
        partition = payload.get("partitionGlobalId", payload.get("PartitionGlobalId"))
        if partition is not None:
            if not isinstance(partition, str) or not GUID_RE.match(partition):
                return self._reply(400, _invalid("partitionGlobalId", partition))
            partition = partition.lower()
        if not self._allowed(token, partition):
            return None
        # SettingDto.value is a string: the server's JSON binding refuses 587 or true.
        wrong = [i.get("key", i.get("Key")) for i in settings
                 if not isinstance(i.get("value", i.get("Value")), (str, type(None)))]
        if wrong:
            return self._reply(400, {"errors": {"settings": ["The JSON value could not be converted to System.String "
                                                             "(keys: %s)" % ", ".join(map(str, wrong))]}})
        given = dict((i.get("key", i.get("Key")), i.get("value", i.get("Value"))) for i in settings)
        missing = [k for k in REQUIRED_TOGETHER if not given.get(k)]
        if missing:
            # vendor CLI docs: Host, Port and FromEmail are required together in one request.
            return self._reply(400, {"errors": {"settings": ["%s are required together; missing: %s"
                                                             % (", ".join(REQUIRED_TOGETHER), ", ".join(missing))]}})
        with emu.lock:
            scope = emu.state.setdefault(partition, {})
            for key, value in given.items():
                if value in (None, ""):  # vendor-api.md: "" clears a value
                    scope.pop(key, None)
                else:
                    scope[key] = value
            if not scope:
                emu.state.pop(partition, None)
        return self._reply(200, [self._row({"key": k, "value": v, "partitionGlobalId": partition})
                                 for k, v in given.items()])

    def _delete(self, keys, partition):
        # Unconfirmed: DELETE /api/Setting is in the vendor's internal endpoint list only.
        emu = self.emulator
        with emu.lock:
            scope = emu.state.get(partition, {})
            for key in keys:
                scope.pop(key, None)
            if not scope:
                emu.state.pop(partition, None)
        return self._reply(204)

    def _issue(self, kind, scopes, partition, who):
        emu = self.emulator
        token = uuid.uuid4().hex
        with emu.lock:
            emu.tokens[token] = {"expires": time.time() + emu.token_ttl, "scopes": frozenset(scopes),
                                 "partition": partition, "kind": kind, "who": who}
        return token

    def _token(self, body):
        """identity.token.yaml: POST /connect/token, grant_type=client_credentials, client_id,
        client_secret, scope."""
        emu = self.emulator
        form = dict(parse_qsl(body.decode()))
        if form.get("grant_type") != "client_credentials":
            return self._reply(400, {"error": "unsupported_grant_type"})
        app = emu.applications.get(form.get("client_id"))
        if app is None or form.get("client_secret") != app["secret"]:
            return self._reply(400, {"error": "invalid_client"})
        # OAuth2 (RFC 6749 4.4.2): without "scope" the server grants the application's scopes.
        requested = (form.get("scope") or "").split() or list(app["scopes"])
        if [s for s in requested if s not in app["scopes"]]:
            return self._reply(400, {"error": "invalid_scope"})
        token = self._issue("client", requested, app["partition"], form.get("client_id"))
        return self._reply(200, {"access_token": token, "expires_in": emu.token_ttl, "token_type": "Bearer",
                                 "scope": form.get("scope", "")})

    def _host_admin_login(self, body):
        """Automation Suite API guide, "ROPC": POST /api/account/authenticate with TenancyName,
        UsernameOrEmailAddress, Password; only host administrators; the token is in "result"."""
        emu = self.emulator
        try:
            form = json.loads(body or b"{}")
        except ValueError:
            form = {}
        user, password = emu.host_admin or (None, None)
        if (str(form.get("TenancyName", "")).lower() != "host" or form.get("UsernameOrEmailAddress") != user
                or form.get("Password") != password or user is None):
            return self._reply(400, {"result": None, "success": False, "unAuthorizedRequest": True, "__abp": True,
                                     "error": {"message": "Login failed!", "details": "Invalid user name or password"}})
        token = self._issue("host_admin", KNOWN_SCOPES, HOST, user)
        return self._reply(200, {"result": token, "targetUrl": None, "success": True, "error": None,
                                 "unAuthorizedRequest": False, "__abp": True})

    def _verify(self, payload, partition):
        """Unconfirmed: VerifySmtpSettings is catalogued, not published; modelled as one recipient
        (sendTo) and the scope's stored settings (the vendor CLI tests the saved settings)."""
        emu = self.emulator
        with emu.lock:
            settings = dict(emu.state.get(partition) or emu.state.get(HOST, {}))
        if emu.smtp_target is None or not settings:
            return self._reply(400, {"message": "SMTP settings are not configured"})
        recipient = payload.get("sendTo")
        if not recipient:
            return self._reply(400, _invalid("sendTo", ""))
        message = EmailMessage()
        message["From"] = settings.get("Email.Smtp.FromEmail", "orchestrator@localhost")
        message["To"] = recipient
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
        except (BrokenPipeError, ConnectionResetError, OSError):
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
    parser.add_argument("--single-client", action="store_true", help="one application may manage every scope")
    args = parser.parse_args(argv)
    context = None
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
    emulator = IdentityEmulator(token_ttl=args.token_ttl, tls_context=context, single_client=args.single_client)
    emulator.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    partial = args.ready_file + ".partial"
    with open(partial, "w") as handle:  # then renamed: a reader never sees half a file
        json.dump({"url": emulator.url, "client_id": emulator.client_id, "client_secret": emulator.client_secret,
                   "host_admin_username": emulator.host_admin[0], "host_admin_password": emulator.host_admin[1]},
                  handle)
    os.replace(partial, args.ready_file)
    stop.wait(args.max_seconds)
    emulator.stop()


if __name__ == "__main__":
    main()
