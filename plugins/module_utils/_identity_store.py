# -*- coding: utf-8 -*-
# Copyright: mailops.orchestrator_email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vendor's store: the Identity Server settings API (``{identity_url}/api/Setting``).

Follows the vendor's published API definition and clients (see the README's identity section):

- Who calls: an organization's settings with that organization's own external application
  (OAuth2 client credentials, ``organization_clients``), the host's as the host administrator
  (the documented resource-owner password login), or one application for everything where the
  server allows it (``client_id``/``client_secret``). Each grant has its own cached token,
  fetched again once on a 401.
- Reads name every ``Email.Smtp.*`` key (nothing is returned without keys); the host omits
  ``partitionGlobalId``; every row's partition is checked, so inherited host rows never pass for
  an organization's own override.
- Each scope is written with one PUT of its whole declared set (the server needs Host, Port and
  FromEmail together; the password only when it is written; cleared fields as ``""``); the host
  is ``partitionGlobalId: null``. A 409 is answered by re-reading the scope and retrying once.
- 429 and 5xx are retried with bounded backoff that honours ``Retry-After`` up to
  ``identity_max_retry_wait``; error bodies (``{"errors": {...}}``) are shown, secrets masked.
- HTTP through urllib's handler chain as ``ansible.module_utils.urls`` builds it (proxies from
  the environment, ansible's redirect handler: redirects are not followed), with the TLS context
  built once (``validate_certs``, ``ca_path``, client certificates) and keep-alive connections,
  one per worker thread, on a pool of 4 workers.

Every fact the published sources do not confirm is a constant or a function here, marked
"unconfirmed": the host-admin login request, the removal of an override (``DELETE``), and the
``VerifySmtpSettings`` payload.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import io
import json
import os
import socket
import ssl
import threading
import time
import urllib.request
import urllib.response
from concurrent.futures import ThreadPoolExecutor, wait
from email.utils import parsedate_to_datetime
from http.client import HTTPConnection, HTTPException, HTTPSConnection

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import urlencode, urlsplit

try:  # ansible-core 2.16 and later
    from ansible.module_utils.urls import HTTPRedirectHandler

    def _no_redirects():
        return HTTPRedirectHandler("none")
except ImportError:  # pragma: no cover - older ansible-core
    from ansible.module_utils.urls import RedirectHandlerFactory

    def _no_redirects():
        return RedirectHandlerFactory("none", True)()

try:
    from ansible.module_utils.urls import SSLValidationError
    TLS_VALIDATION_ERRORS = (SSLValidationError,)
except ImportError:  # pragma: no cover - not in every ansible-core
    TLS_VALIDATION_ERRORS = ()

from ansible_collections.mailops.orchestrator_email.plugins.module_utils._errors import (
    StoreApiError,
    StoreAuthenticationError,
    StoreConnectionError,
    StoreError,
)
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._fields import (
    FIELDS_BY_KEY,
    MASK,
    STORE_KEYS,
)
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._masking import mask_wire
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._store import (
    SettingsStore,
    StoreSession,
)

HTTP_AGENT = "mailops.orchestrator_email/0.1.0 (Ansible collection)"
SETTING_PATH = "/api/Setting"
TOKEN_PATH = "/connect/token"
# The three keys the server needs together in every PUT (vendor CLI docs, "uip admin smtp").
REQUIRED_TOGETHER = ("Email.Smtp.Host", "Email.Smtp.Port", "Email.Smtp.FromEmail")
MAX_ATTEMPTS = 4
MAX_BACKOFF = 30.0
DEFAULT_MAX_RETRY_WAIT = 60.0
POOL_SIZE = 4
RETRY_STATUSES = frozenset([429, 500, 502, 503, 504])
NOT_ACTED_STATUSES = frozenset([429, 503])
DEFAULT_SCOPES = "PM.Setting"
READ_SCOPES = "PM.Setting or PM.Setting.Read"
WRITE_SCOPES = "PM.Setting or PM.Setting.Write"
# The Identity Server's path on each deployment: /identity (standalone), /identity_ (Automation
# Suite, host-level; Automation Cloud also /{org}/identity_).
IDENTITY_PATHS = ("/identity", "/identity_")

# Unconfirmed (vendor-api.md): how an organization goes back to the host settings. Only GET and
# PUT are in the published definition; DELETE of the keys is in the vendor's internal list.
REMOVAL_METHOD = "DELETE"
# Unconfirmed: the server-side test email (catalogued, not published; payload unknown).
VERIFY_PATH = "/api/Setting/VerifySmtpSettings"
# The host administrator's resource-owner password login, as the vendor documents it for host
# administrators (Automation Suite API guide, "ROPC"): POST {orchestrator}/api/account/authenticate
# with TenancyName "host"; the answer's "result" is the token. It is an Orchestrator endpoint:
# standalone, {orchestrator} is identity_url without /identity; on Automation Suite it must be
# given (host_admin_login_url). Unconfirmed: that the Identity settings API takes this token.
# Its lifetime is not in the answer: 30 minutes is Orchestrator's default, and a 401 renews it.
HOST_ADMIN_LOGIN_PATH = "/api/account/authenticate"
HOST_TENANCY = "host"
HOST_ADMIN_TOKEN_LIFETIME = 1800.0


def partition_query(scope):
    """Query parameters that address a scope: the host omits partitionGlobalId (never empty)."""
    return [] if scope.is_host else [("partitionGlobalId", partition_of(scope))]


def partition_of(scope):
    """The partitionGlobalId of a scope: None for the host, the GUID of an organization."""
    if scope.is_host:
        return None
    if not scope.partition_id:
        raise StoreError("organization %r has no partition_id: the identity store addresses organizations "
                         "by their partition GUID (partitionGlobalId); add partition_id to its declaration"
                         % scope.name, cause="missing_partition_id")
    return scope.partition_id


def removal_request(scope, keys):
    """How an organization's override is removed (unconfirmed: DELETE of its keys)."""
    query = [("key", k) for k in keys] + partition_query(scope)
    return REMOVAL_METHOD, SETTING_PATH, query, None


def verify_request(scope, recipient, subject=None, body=None):
    """The VerifySmtpSettings call (unconfirmed payload): one recipient, the scope's partition."""
    payload = {"sendTo": recipient, "partitionGlobalId": partition_of(scope)}
    if subject:
        payload["subject"] = subject
    if body:
        payload["body"] = body
    return "POST", VERIFY_PATH, None, payload


def base_url_of(identity_url):
    """The deployment's base URL: identity_url without its /identity or /identity_ part."""
    url = identity_url.rstrip("/")
    for suffix in IDENTITY_PATHS:
        if url.endswith(suffix):
            return url[:-len(suffix)]
    return url


def parse_settings(payload, partition=None, check_partition=True):
    """GET /api/Setting answer -> {key: value}; camelCase or PascalCase rows.

    Rows of another partition (an organization's GET answered with inherited host rows) are not
    this scope's settings and are skipped. An empty or null value is a blank field."""
    if isinstance(payload, dict):
        payload = payload.get("value", payload.get("Value", payload.get("settings", payload.get("Settings", []))))
    out = {}
    for item in payload or []:
        if not isinstance(item, dict):
            continue
        key = item.get("key", item.get("Key"))
        value = item.get("value", item.get("Value"))
        if check_partition and ("partitionGlobalId" in item or "PartitionGlobalId" in item):
            row_partition = item.get("partitionGlobalId", item.get("PartitionGlobalId"))
            if _partition_key(row_partition) != _partition_key(partition):
                continue
        if key is not None and value is not None and str(value) != "":
            out[key] = value if isinstance(value, str) else _to_string(value)
    return out


def _is_loopback(hostname):
    if hostname in ("localhost", "localhost.localdomain"):
        return True
    return hostname.startswith("127.") or hostname in ("::1", "[::1]")


def _partition_key(value):
    return str(value).lower() if value else None


def _to_string(value):
    """A JSON scalar as the API's string form (``true``, ``587``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def retry_after(value, now=None):
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def should_retry(attempt, status=None, connection_error=False, idempotent=True):
    """Whether attempt number ``attempt`` (1-based) is followed by another one.

    429 and 5xx answers are retried for idempotent requests (a PUT/DELETE that did act is safe to
    repeat), only 429 and 503 for others; other answers never are. A connection error (reset,
    timeout) is retried only for idempotent requests: a POST that timed out may have been acted on.
    """
    if attempt >= MAX_ATTEMPTS:
        return False
    if connection_error:
        return idempotent
    if not idempotent:
        # A 500, 502 or 504 may come after the server acted (a gateway timing out on a test email
        # that was sent): only the answers that say it did not act are retried.
        return status in NOT_ACTED_STATUSES
    return status in RETRY_STATUSES


def backoff(attempt, header=None, base=None):
    """Delay before retry ``attempt`` (1-based): Retry-After when given, else base * 2^(attempt-1)."""
    base = float(os.environ.get("ORCHESTRATOR_EMAIL_RETRY_BASE", "0.5")) if base is None else base
    delay = retry_after(header)
    if delay is None:
        delay = min(base * (2 ** (attempt - 1)), MAX_BACKOFF)
    return delay


def error_message(data):
    """The server's message from an answer body: ``message``, OAuth ``error_description``,
    ProblemDetails ``title`` and every ``errors`` entry (``{"errors": {"field": ["..."]}}``)."""
    text = (data or b"").decode("utf-8", "replace").strip()
    try:
        payload = json.loads(text)
    except ValueError:
        return str(text)[:500] or "(no message)"
    if not isinstance(payload, dict):
        return text[:500] or "(no message)"
    parts = []
    for key in ("message", "Message", "error_description", "error", "title", "detail"):
        if payload.get(key) and isinstance(payload[key], str) and payload[key] not in parts:
            parts.append(payload[key])
    errors = payload.get("errors", payload.get("Errors"))
    if isinstance(errors, dict):
        for field, messages in sorted(errors.items()):
            if not isinstance(messages, list):
                messages = [messages]
            parts.append("%s: %s" % (field, " ".join(str(m) for m in messages)))
    elif isinstance(errors, list):
        parts.extend(str(e) for e in errors)
    return ("; ".join(parts) or text)[:500] or "(no message)"


def _is_masked(value):
    """A value that is a server's mask of a secret, never a secret itself."""
    return value == MASK or (len(value) >= 3 and set(value) == set("*"))


def put_request(scope, values):
    """The PUT of one scope: every value a string, camelCase (the documented casing), the host
    as ``partitionGlobalId: null``."""
    return ("PUT", SETTING_PATH, None, {
        "settings": [{"key": k, "value": _to_string(v)} for k, v in sorted(values.items())],
        "partitionGlobalId": partition_of(scope), "userId": None})


class _KeepAlive(object):
    """urllib's HTTP(S) handler, keeping one connection per thread and server open between
    requests. urllib's own handler (what ``ansible.module_utils.urls.Request`` uses) sends
    ``Connection: close`` and opens a new connection, with a new TLS handshake, for every request;
    1,000 organizations are 2,000 requests or more."""

    def __init__(self, *args, **kwargs):
        super(_KeepAlive, self).__init__(*args, **kwargs)
        self._local = threading.local()
        self._all = []
        self._all_lock = threading.Lock()

    def _pooled(self, http_class, req, **conn_args):
        conns = getattr(self._local, "conns", None)
        if conns is None:
            conns = self._local.conns = {}
            with self._all_lock:
                self._all.append(conns)
        if not req.host:
            raise URLError("no host given")
        key = (http_class, req.host, req._tunnel_host)
        headers = dict(req.unredirected_hdrs)
        headers.update(dict((k, v) for k, v in req.headers.items() if k not in headers))
        headers = dict((name.title(), value) for name, value in headers.items())
        tunnel = {}
        if "Proxy-Authorization" in headers:  # for the proxy only, never the origin server
            tunnel["Proxy-Authorization"] = headers.pop("Proxy-Authorization")
        for _attempt in (1, 2):
            conn = conns.get(key)
            reused = conn is not None
            if conn is None:
                conn = conns[key] = http_class(req.host, timeout=req.timeout, **conn_args)
                if req._tunnel_host:
                    conn.set_tunnel(req._tunnel_host, headers=tunnel)
            try:
                conn.request(req.get_method(), req.selector, req.data, headers)
                response = conn.getresponse()
                data = response.read()
            except (ConnectionResetError, BrokenPipeError, HTTPException) as exc:
                conn.close()
                conns.pop(key, None)
                if reused:
                    continue  # the server closed an idle keep-alive connection: open a new one
                raise URLError(exc)
            except OSError as exc:  # a timeout, a refused connection, TLS
                conn.close()
                conns.pop(key, None)
                raise URLError(exc)
            if response.will_close:
                conn.close()
                conns.pop(key, None)
            answer = urllib.response.addinfourl(io.BytesIO(data), response.headers, req.full_url, response.status)
            answer.msg = response.reason
            return answer
        raise URLError("the connection was closed twice")  # pragma: no cover

    def close_all(self):
        with self._all_lock:
            for conns in self._all:
                for conn in conns.values():
                    conn.close()
                conns.clear()


class _KeepAliveHTTPHandler(_KeepAlive, urllib.request.HTTPHandler):
    def http_open(self, req):
        return self._pooled(HTTPConnection, req)


class _KeepAliveHTTPSHandler(_KeepAlive, urllib.request.HTTPSHandler):
    def __init__(self, context):
        super(_KeepAliveHTTPSHandler, self).__init__(context=context)
        self.tls_context = context

    def https_open(self, req):
        return self._pooled(HTTPSConnection, req, context=self.tls_context)


class _Transport(object):
    """The handler chain that ``ansible.module_utils.urls.Request`` builds - proxies from the
    environment (or none), the TLS context, ansible's redirect handler (``none``: a 3xx is an
    answer, not followed), the User-Agent - with keep-alive connections."""

    def __init__(self, context, use_proxy=True, http_agent=None, timeout=30.0):
        self.timeout = timeout
        self.http_agent = http_agent
        self.handlers = [_KeepAliveHTTPHandler(), _KeepAliveHTTPSHandler(context)]
        proxy = urllib.request.ProxyHandler() if use_proxy else urllib.request.ProxyHandler({})
        self.opener = urllib.request.build_opener(proxy, _no_redirects(), *self.handlers)

    def open(self, method, url, data=None, headers=None):
        request = urllib.request.Request(url, data=data, method=method)
        if self.http_agent:
            request.add_header("User-agent", self.http_agent)
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        return self.opener.open(request, timeout=self.timeout)

    def close(self):
        for handler in self.handlers:
            handler.close_all()


def _tls_context(validate_certs, ca_path, client_cert, client_key):
    """The TLS context of the Identity Server: the system's CAs plus ``ca_path``, a client
    certificate when given, verification off only when asked."""
    context = ssl.create_default_context()
    if ca_path:
        try:
            context.load_verify_locations(cafile=ca_path)
        except (OSError, ssl.SSLError) as exc:
            raise StoreError("identity_ca_path %s cannot be used as a PEM file of CA certificates: %s"
                             % (ca_path, exc), cause="invalid_option")
    if not validate_certs:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if client_cert:
        if hasattr(context, "post_handshake_auth"):
            context.post_handshake_auth = True  # TLS 1.3 servers may ask for it after the handshake
        try:
            context.load_cert_chain(client_cert, keyfile=client_key)
        except (OSError, ssl.SSLError) as exc:
            raise StoreError("identity_client_cert %s (key %s) cannot be loaded: %s"
                             % (client_cert, client_key or "in the same file", exc), cause="invalid_option")
    return context


class Grant(object):
    """One way to get a token: client credentials of an application, or the host administrator."""

    def __init__(self, kind, name, secret, organization=None, scopes=DEFAULT_SCOPES):
        self.kind = kind  # "client_credentials" or "host_admin"
        self.name = name  # client id, or host admin user name
        self.secret = secret
        self.organization = organization  # the organization an application is registered in
        self.scopes = scopes
        self.lock = threading.Lock()
        self.token = None
        self.expires = 0.0
        self.refusal = None

    def describe(self):
        if self.kind == "host_admin":
            return "the host administrator %r (resource-owner password login)" % self.name
        where = " (organization_clients entry of %s)" % self.organization if self.organization else ""
        return "the client credentials of client_id %r%s" % (self.name, where)

    def request(self, client):
        """(url, body, headers) of the token request."""
        if self.kind == "host_admin":
            body = json.dumps({"TenancyName": HOST_TENANCY, "UsernameOrEmailAddress": self.name,
                               "Password": self.secret}).encode("utf-8")
            return (client.host_login_url, body,
                    {"Content-Type": "application/json", "Accept": "application/json"})
        body = urlencode({"grant_type": "client_credentials", "client_id": self.name,
                          "client_secret": self.secret, "scope": self.scopes}).encode()
        return (client.url + TOKEN_PATH, body,
                {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"})

    def parse(self, payload):
        """(token, lifetime in seconds) from the token answer."""
        if self.kind == "host_admin":
            token = payload.get("result") or payload.get("access_token")
            return token, float(payload.get("expires_in") or HOST_ADMIN_TOKEN_LIFETIME)
        return payload["access_token"], float(payload.get("expires_in", 300))


class IdentityClient(object):
    """Authenticated calls to the Identity Server with retries; thread-safe."""

    def __init__(self, url, client_id=None, client_secret=None, scopes=DEFAULT_SCOPES, validate_certs=True,
                 ca_path=None, timeout=30.0, organization_clients=None, host_admin_username=None,
                 host_admin_password=None, host_login_url=None, use_proxy=True, http_agent=None,
                 client_cert=None, client_key=None, max_retry_wait=DEFAULT_MAX_RETRY_WAIT,
                 allow_insecure_http=False):
        self.url = (url or "").rstrip("/")
        self.parts = urlsplit(self.url)
        if self.parts.scheme not in ("http", "https") or not self.parts.hostname:
            raise StoreError("identity_url must be an http(s) URL such as https://orch.example.com/identity, got %r"
                             % url, cause="invalid_option")
        if self.parts.path.rstrip("/") in ("", "/") or self.parts.path.rstrip("/").endswith("/orchestrator_"):
            raise StoreError("identity_url %s is not the Identity Server's URL: it ends with /identity (standalone, "
                             "https://orch.example.com/identity) or /identity_ (Automation Suite "
                             "https://suite.example.com/identity_, Automation Cloud "
                             "https://cloud.uipath.com/identity_)" % self.url, cause="invalid_option")
        if ca_path and not os.path.isfile(ca_path):
            raise StoreError("identity_ca_path %s is not a file (a PEM file of CA certificates)" % ca_path,
                             cause="invalid_option")
        for name, path in (("identity_client_cert", client_cert), ("identity_client_key", client_key)):
            if path and not os.path.isfile(path):
                raise StoreError("%s %s is not a file" % (name, path), cause="invalid_option")
        self.scopes = scopes or DEFAULT_SCOPES
        self.timeout = timeout
        self.max_retry_wait = DEFAULT_MAX_RETRY_WAIT if max_retry_wait is None else float(max_retry_wait)
        if self.parts.scheme == "http" and not allow_insecure_http and not _is_loopback(self.parts.hostname):
            raise StoreError("identity_url %s is plain http: the client secrets and the host administrator's "
                             "password would cross the network in clear text; use https, or set "
                             "allow_insecure_http: true for a lab" % self.url, cause="invalid_option")
        self.host_login_url = host_login_url
        if not host_login_url and self.parts.path.rstrip("/").endswith("/identity"):
            self.host_login_url = base_url_of(self.url) + HOST_ADMIN_LOGIN_PATH  # standalone Orchestrator
        self.default = Grant("client_credentials", client_id, client_secret, scopes=self.scopes) \
            if client_id and client_secret else None
        self.host_admin = Grant("host_admin", host_admin_username, host_admin_password) \
            if host_admin_username and host_admin_password else None
        self.org_grants = {}
        for entry in organization_clients or []:
            self.org_grants[entry["organization"]] = Grant(
                "client_credentials", entry["client_id"], entry["client_secret"], entry["organization"],
                scopes=entry.get("scopes") or self.scopes)
        self._secrets = tuple(g.secret for g in self._grants() if g.secret)
        # One TLS context for every request: building one per request (what Request does without
        # one) loads the system's CA bundle each time, about 30 ms of CPU per request.
        self._request = _Transport(_tls_context(validate_certs, ca_path, client_cert, client_key),
                                   use_proxy=use_proxy, http_agent=http_agent, timeout=timeout)
        self._lock = threading.Lock()
        self._pool = None
        self.requests = 0
        self.token_requests = 0

    def _grants(self):
        return [g for g in [self.default, self.host_admin] + list(self.org_grants.values()) if g is not None]

    def grant_for(self, scope):
        """The grant that manages ``scope``; a StoreError (before any request) when there is none."""
        if scope.is_host:
            grant = self.host_admin or self.default
            if grant is not None and grant.kind == "host_admin" and not self.host_login_url:
                raise StoreError("the host administrator logs in at an Orchestrator endpoint, which cannot be derived "
                                 "from %s: set host_admin_login_url to the host's Orchestrator URL followed by "
                                 "%s" % (self.url, HOST_ADMIN_LOGIN_PATH), cause="invalid_option")
            if grant is None:
                raise StoreError("the host settings are managed by the host administrator: set host_admin_username "
                                 "and host_admin_password (or client_id and client_secret where one application "
                                 "may manage the host)", cause="invalid_option")
            return grant
        grant = self.org_grants.get(scope.name) or self.default
        if grant is None:
            raise StoreError("%s has no application to manage it: add it to organization_clients (its own external "
                             "application's client_id and client_secret) or set client_id and client_secret"
                             % scope.label, cause="invalid_option")
        return grant

    # -- pool ---------------------------------------------------------------------------------
    def pool(self):
        """The worker threads, created once per client."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=POOL_SIZE)
            return self._pool

    def close(self):
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
        self._request.close()

    def label(self, method, path):
        return "%s %s%s" % (method, self.parts.path.rstrip("/"), path)

    # -- transport ----------------------------------------------------------------------------
    def _send(self, method, url, body, headers, label):
        """One HTTP request -> (status, headers, body bytes). Raises StoreConnectionError."""
        with self._lock:
            self.requests += 1
        try:
            response = self._request.open(method, url, data=body, headers=headers)
            return response.getcode(), response.headers, response.read()
        except HTTPError as exc:
            try:
                data = exc.read()
            except (OSError, HTTPException, AttributeError):
                data = b""
            return exc.code, exc.headers, data
        except URLError as exc:
            reason = exc.reason
            if isinstance(reason, ssl.SSLError) or (isinstance(reason, str) and "CERTIFICATE" in reason.upper()):
                raise self._tls_error(label, reason)
            if isinstance(reason, socket.timeout):
                raise StoreConnectionError("%s to %s timed out after %ss" % (label, self.url, self.timeout))
            raise StoreConnectionError("%s to %s failed: %s" % (label, self.url, reason))
        except ssl.SSLError as exc:
            raise self._tls_error(label, exc)
        except socket.timeout:
            raise StoreConnectionError("%s to %s timed out after %ss" % (label, self.url, self.timeout))
        except TLS_VALIDATION_ERRORS as exc:
            raise self._tls_error(label, exc)
        except (OSError, HTTPException) as exc:
            raise StoreConnectionError("%s to %s failed: %s" % (label, self.url, str(exc) or type(exc).__name__))

    def _tls_error(self, label, exc):
        return StoreConnectionError("TLS with the Identity Server %s failed (%s): %s; give identity_ca_path for a "
                                    "private CA" % (self.url, label, exc), cause="store_tls_error")

    def _retrying(self, method, url, body, headers, label, grant=None, idempotent=True, secrets=()):
        """Send with retries. Returns (status, headers, data, token used)."""
        attempt = 0
        while True:
            attempt += 1
            hdrs = dict(headers)
            used = None
            if grant is not None:
                used = self.token(grant)
                hdrs["Authorization"] = "Bearer " + used
            try:
                status, rheaders, data = self._send(method, url, body, hdrs, label)
            except StoreConnectionError as exc:
                if exc.cause == "store_tls_error" or not should_retry(attempt, connection_error=True,
                                                                      idempotent=idempotent):
                    raise
                time.sleep(backoff(attempt))
                continue
            if status in RETRY_STATUSES:
                asked = retry_after(rheaders.get("Retry-After") if rheaders is not None else None)
                if asked is not None and asked > self.max_retry_wait:
                    raise StoreApiError(
                        "%s answered %s and asked to wait %ds (Retry-After), more than identity_max_retry_wait "
                        "(%ds): %s; run again later" % (label, status, asked, self.max_retry_wait,
                                                        self.message(data, secrets)),
                        status=status, retry_after=asked)
                if should_retry(attempt, status, idempotent=idempotent):
                    time.sleep(backoff(attempt, rheaders.get("Retry-After") if rheaders is not None else None))
                    continue
                waited = " (the server last asked to wait %ds)" % asked if asked is not None else ""
                raise StoreApiError("%s failed after %d attempts: %s %s%s"
                                    % (label, attempt, status, self.message(data, secrets), waited), status=status)
            return status, rheaders, data, used

    # -- token --------------------------------------------------------------------------------
    def token(self, grant, refused=None):
        """A valid access token of ``grant``. ``refused``: a token the API just answered 401 to;
        a new one is fetched unless another worker has already replaced it."""
        with grant.lock:
            if grant.refusal is not None:
                raise grant.refusal  # refused once: not asked again for every scope of the run
            if grant.token and time.time() < grant.expires and (refused is None or grant.token != refused):
                return grant.token
            try:
                return self._fetch_token(grant)
            except StoreAuthenticationError as exc:
                grant.refusal = exc
                raise

    def _fetch_token(self, grant):
        url, body, headers = grant.request(self)
        label = "POST %s" % urlsplit(url).path
        with self._lock:
            self.token_requests += 1
        status, _headers, data, _used = self._retrying("POST", url, body, headers, label)
        if status in (400, 401, 403):
            raise StoreAuthenticationError("the server refused %s (%s %s: %s)"
                                           % (grant.describe(), label, status, self.message(data)), status=status)
        if status != 200:
            raise StoreApiError("%s answered %s: %s" % (label, status, self.message(data)), status=status)
        try:
            token, lifetime = grant.parse(json.loads(data.decode("utf-8")))
            if not token or not isinstance(token, str):
                raise ValueError("no token")
        except (ValueError, KeyError, TypeError, AttributeError):
            raise StoreApiError("%s answered without an access token" % label)
        grant.token = token
        # Renew a little early so that a token never expires between check and use.
        grant.expires = time.time() + max(lifetime * 0.9, lifetime - 30)
        return token

    # -- calls --------------------------------------------------------------------------------
    def call(self, method, path, query=None, payload=None, scope=None, idempotent=True, secrets=()):
        """An authenticated JSON call for ``scope``; a 401 fetches a new token once. Returns the
        parsed body. ``secrets``: values the request carries that must not come back in a message."""
        grant = self.grant_for(scope)
        body = None if payload is None else json.dumps(payload).encode("utf-8")
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        url = self.url + path + ("?" + urlencode(query) if query else "")
        label = self.label(method, path)
        status, headers_in, data, used = self._retrying(method, url, body, headers, label, grant, idempotent, secrets)
        if status == 401:
            self.token(grant, refused=used)
            status, headers_in, data, used = self._retrying(method, url, body, headers, label, grant, idempotent,
                                                            secrets)
        if status == 401:
            raise StoreAuthenticationError("%s for %s was refused twice (401) with a new token of %s: %s"
                                           % (label, scope.label, grant.describe(), self.message(data, secrets)),
                                           status=status)
        if status == 403:
            raise StoreAuthenticationError(self._refusal(scope, grant, method, label, self.message(data, secrets)),
                                           status=status)
        if 300 <= status < 400:
            location = headers_in.get("Location") if headers_in is not None else None
            raise StoreApiError("%s answered %s, a redirect to %s, which is not followed: identity_url should be "
                                "the Identity Server's own URL (ending with /identity or /identity_)"
                                % (label, status, location or "(no Location)"), status=status)
        if status >= 400:
            raise StoreApiError("%s for %s answered %s: %s" % (label, scope.label, status,
                                                               self.message(data, secrets)), status=status)
        if not data:
            return None
        try:
            return json.loads(data.decode("utf-8"))
        except ValueError:
            return data.decode("utf-8", "replace")

    def _refusal(self, scope, grant, method, label, message):
        """What a 403 means for this scope and grant, and what the scope needs."""
        needs = READ_SCOPES if method == "GET" else WRITE_SCOPES
        head = "%s for %s was refused (403: %s) with %s: " % (label, scope.label, message, grant.describe())
        if scope.is_host and grant.kind == "client_credentials":
            return head + ("an external application is registered for one organization and is refused for the "
                           "host; the host settings are managed as the host administrator: set host_admin_username "
                           "and host_admin_password")
        if scope.is_host:
            return head + "the account must be a host administrator (the host portal's admin)"
        if grant.organization is None:
            return head + ("an external application is registered for one organization; give %s its own "
                           "application in organization_clients (registered in that organization's Admin > "
                           "External Applications with the application scope %s)" % (scope.name, needs))
        return head + ("the application must be registered in organization %s (Admin > External Applications) "
                       "with the application scope %s, and scopes must request it" % (scope.name, needs))

    def message(self, data, secrets=()):
        """The server's message, with every credential and the request's secrets masked."""
        return self.mask(error_message(data), secrets)

    def mask(self, text, secrets=()):
        """``text`` with every credential and secret masked, in each form it takes on the wire."""
        return mask_wire(text, self._secrets + tuple(secrets))


class _IdentitySession(StoreSession):
    def __init__(self, client):
        self.client = client

    def _run(self, func, items):
        """func(item) for every item, on the pool when there are several. Returns
        [(item, result, error)] in order; every item runs even when another fails."""
        if len(items) <= 2:
            out = []
            for item in items:
                try:
                    out.append((item, func(item), None))
                except StoreError as exc:
                    out.append((item, None, exc))
                    break  # serial: stop at the first failure, nothing more is sent
            return out
        futures = [(item, self.client.pool().submit(func, item)) for item in items]
        wait([f for _item, f in futures])
        out = []
        for item, future in futures:
            exc = future.exception()
            if exc is not None and not isinstance(exc, StoreError):
                raise exc
            out.append((item, None if exc else future.result(), exc))
        return out

    def read_one(self, scope):
        query = [("key", k) for k in STORE_KEYS] + partition_query(scope)
        return parse_settings(self.client.call("GET", SETTING_PATH, query, scope=scope), partition_of(scope))

    def read(self, scopes):
        scopes = list(scopes)
        for scope in scopes:  # every scope is addressable and has a grant before the first request
            partition_of(scope)
            self.client.grant_for(scope)
        out = {}
        for scope, result, error in self._run(self.read_one, scopes):
            if error is not None:
                raise error
            out[scope] = result
        return out

    def list_orgs(self):
        raise StoreError("the identity store cannot list organizations; name them", cause="unsupported")

    def write(self, changes):
        requests = []
        for change in changes:  # every scope is addressable and clean before the first request
            partition_of(change.scope)
            self.client.grant_for(change.scope)
            if change.remove:
                requests.append((change, removal_request(change.scope, STORE_KEYS), ()))
                continue
            values = dict(change.declared)
            values.update(change.set_values)
            for key in change.delete_keys:
                values.setdefault(key, "")
            for key, value in values.items():
                field = FIELDS_BY_KEY.get(key)
                if field is not None and field.secret and value and _is_masked(str(value)):
                    raise StoreError("%s of %s is a masked value (%s), not a secret; it is never written back"
                                     % (field.name, change.scope.label, MASK), cause="masked_value")
            missing = [k for k in REQUIRED_TOGETHER if not values.get(k)]
            if missing:
                raise StoreError("%s: the server needs %s together in every write; %s missing"
                                 % (change.scope.label, ", ".join(REQUIRED_TOGETHER), ", ".join(missing)),
                                 cause="incomplete_scope")
            secrets = tuple(str(v) for k, v in values.items()
                            if v and FIELDS_BY_KEY.get(k) is not None and FIELDS_BY_KEY[k].secret)
            requests.append((change, put_request(change.scope, values), secrets))
        outcome = self._run(self._write_one, requests)
        failed = [(item[0].scope.label, error) for item, _result, error in outcome if error is not None]
        if failed:
            written = [item[0].scope.label for item, _result, error in outcome if error is None]
            not_sent = [item[0].scope.label for item in requests[len(outcome):]]
            first = failed[0][1]
            message = "%s: %s" % (failed[0][0], first.message)
            if len(failed) > 1:
                message += " (and %d more scopes failed: %s)" % (len(failed) - 1, ", ".join(f[0] for f in failed[1:]))
            message += (". Each scope is one request, so none is half-applied; written: %s; not written: %s. "
                        "Run again to converge." % (", ".join(written) or "none",
                                                    ", ".join([f[0] for f in failed] + not_sent)))
            details = dict(first.details)
            details.update(scopes_written=written, scopes_failed=[f[0] for f in failed] + not_sent)
            raise type(first)(message, cause=first.cause, **details)

    def _write_one(self, item):
        change, (method, path, query, payload), secrets = item
        scope = change.scope
        try:
            return self.client.call(method, path, query, payload, scope=scope, secrets=secrets)
        except StoreApiError as exc:
            if exc.details.get("status") != 409:
                raise
        # 409 is a documented answer of the PUT: another writer changed the scope. Re-read it and
        # send the declared set once more; a second conflict fails, naming the scope.
        self.read_one(scope)
        try:
            return self.client.call(method, path, query, payload, scope=scope, secrets=secrets)
        except StoreApiError as exc:
            if exc.details.get("status") != 409:
                raise
            raise StoreApiError("%s: the server answered 409 Conflict twice (the scope was re-read and the write "
                                "retried once): another writer is changing it; run again"
                                % scope.label, status=409, cause="conflict")


class IdentityStore(SettingsStore):
    name = "identity"
    password_readable = False
    can_list_orgs = False

    def __init__(self, client):
        self.client = client

    @classmethod
    def from_params(cls, params):
        if not params.get("identity_url"):
            raise StoreError("store_type identity needs identity_url (or the ORCHESTRATOR_EMAIL_IDENTITY_URL "
                             "environment variable)", cause="invalid_option")
        if bool(params.get("client_id")) != bool(params.get("client_secret")):
            raise StoreError("client_id and client_secret go together (or the ORCHESTRATOR_EMAIL_CLIENT_ID and "
                             "ORCHESTRATOR_EMAIL_CLIENT_SECRET environment variables)", cause="invalid_option")
        if bool(params.get("host_admin_username")) != bool(params.get("host_admin_password")):
            raise StoreError("host_admin_username and host_admin_password go together", cause="invalid_option")
        orgs = params.get("organization_clients") or []
        seen = set()
        for entry in orgs:
            if entry["organization"] in seen:
                raise StoreError("organization_clients names %s twice: one application per organization"
                                 % entry["organization"], cause="invalid_option")
            seen.add(entry["organization"])
        if not (params.get("client_id") or params.get("host_admin_username") or orgs):
            raise StoreError("store_type identity needs credentials: organization_clients (each organization's "
                             "application), host_admin_username/host_admin_password (the host settings), or "
                             "client_id/client_secret (one application, where the server allows it)",
                             cause="invalid_option")
        validate_certs = params.get("identity_validate_certs")
        return cls(IdentityClient(
            params["identity_url"], params.get("client_id"), params.get("client_secret"),
            params.get("scopes") or DEFAULT_SCOPES, True if validate_certs is None else validate_certs,
            params.get("identity_ca_path"), params.get("request_timeout") or 30.0,
            organization_clients=orgs, host_admin_username=params.get("host_admin_username"),
            host_admin_password=params.get("host_admin_password"), host_login_url=params.get("host_admin_login_url"),
            use_proxy=params.get("identity_use_proxy", True) is not False,
            http_agent=params.get("identity_http_agent") or HTTP_AGENT,
            client_cert=params.get("identity_client_cert"), client_key=params.get("identity_client_key"),
            max_retry_wait=params.get("identity_max_retry_wait"),
            allow_insecure_http=bool(params.get("allow_insecure_http"))))

    @contextlib.contextmanager
    def session(self, write=False):
        yield _IdentitySession(self.client)

    def send_test_email(self, scope, to, subject=None, body=None):
        """VerifySmtpSettings (experimental, unpublished): the server sends one test email with the
        scope's stored settings. Not retried after a timeout (it may have sent). Reports only what
        the server confirmed: that it accepted the request for that one recipient."""
        to = [to] if isinstance(to, str) else list(to)
        if len(to) != 1:
            raise StoreError("via: store sends to one recipient (the server's test takes one address); got %d"
                             % len(to), cause="invalid_option")
        method, path, query, payload = verify_request(scope, to[0], subject, body)
        answer = self.client.call(method, path, query, payload, scope=scope, idempotent=False)
        if isinstance(answer, dict):
            reply = answer.get("message") or answer.get("Message") or json.dumps(answer, sort_keys=True)
        else:
            reply = "" if answer is None else str(answer)
        reply = self.client.mask(str(reply))
        return {"server_reply": reply, "recipient": to[0], "server_accepted_request": True,
                "experimental": True, "endpoint": self.client.label(method, path)}

    def close(self):
        self.client.close()
