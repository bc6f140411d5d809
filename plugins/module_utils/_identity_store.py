# -*- coding: utf-8 -*-
# Copyright: mailops.orchestrator_email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vendor's store: the Identity Server settings API (``{identity_url}/api/Setting``).

Standard library HTTP only. OAuth2 client credentials from ``{identity_url}/connect/token``,
cached for the token's lifetime and fetched again once on a 401. Reads name every
``Email.Smtp.*`` key (the API returns nothing without explicit keys); each scope is written with
one bulk PUT (settings a scope no longer declares are written as empty strings, so a scope
change is one request and never half-applied), and an organization's override is removed with
one DELETE of its keys. 429 and 5xx answers are retried with bounded exponential backoff that
honours ``Retry-After``. Many scopes are read and written on a small pool of keep-alive
connections.

Two facts the public documentation does not confirm live in one place each:
``HOST_PARTITION_ID`` (the host's partition id) and ``removal_request`` (how an organization
goes back to the host settings).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json
import os
import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from email.utils import parsedate_to_datetime

try:
    from http.client import HTTPConnection, HTTPException, HTTPSConnection
    from urllib.parse import urlencode, urlsplit
except ImportError:  # pragma: no cover - Python 2 is not supported
    raise

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
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._store import (
    SettingsStore,
    StoreSession,
)

# Unconfirmed by the public documentation (see vendor-api.md): the host's settings live in the
# empty partition, as the published workaround sends them.
HOST_PARTITION_ID = ""
SETTING_PATH = "/api/Setting"
TOKEN_PATH = "/connect/token"
VERIFY_PATH = "/api/Setting/VerifySmtpSettings"
MAX_ATTEMPTS = 4
MAX_BACKOFF = 30.0
POOL_SIZE = 4
RETRY_STATUSES = frozenset([429, 500, 502, 503, 504])


def partition_of(scope):
    """The partitionGlobalId of a scope; organizations need their GUID."""
    if scope.is_host:
        return HOST_PARTITION_ID
    if not scope.partition_id:
        raise StoreError("organization %r has no partition_id: the identity store addresses organizations "
                         "by their partition GUID (partitionGlobalId); add partition_id to its declaration"
                         % scope.name, cause="missing_partition_id")
    return scope.partition_id


def removal_request(scope, keys):
    """How an organization's override is removed (unconfirmed: DELETE of its keys)."""
    query = [("key", k) for k in keys] + [("partitionGlobalId", partition_of(scope))]
    return "DELETE", SETTING_PATH, query, None


def parse_settings(payload):
    """GET /api/Setting answer -> {key: value}; camelCase or PascalCase entries.

    An empty or null value is a blank field, the same as a missing key: settings a scope no longer
    declares are written as empty strings, and a server that keeps them must not show as drift."""
    if isinstance(payload, dict):
        payload = payload.get("value", payload.get("Value", payload.get("settings", payload.get("Settings", []))))
    out = {}
    for item in payload or []:
        if not isinstance(item, dict):
            continue
        key = item.get("key", item.get("Key"))
        value = item.get("value", item.get("Value"))
        if key is not None and value is not None and str(value) != "":
            out[key] = value if isinstance(value, str) else _to_string(value)
    return out


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
    except (TypeError, ValueError):
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def should_retry(attempt, status=None, connection_error=False, idempotent=True):
    """Whether attempt number ``attempt`` (1-based) is followed by another one.

    429 and 5xx answers are retried (the server refused or failed before acting, or a PUT/DELETE
    that did act is safe to repeat); other answers never are. A connection error (reset, timeout)
    is retried only for idempotent requests: a POST that timed out may have been acted on.
    """
    if attempt >= MAX_ATTEMPTS:
        return False
    if connection_error:
        return idempotent
    return status in RETRY_STATUSES


def backoff(attempt, header=None, base=None):
    """Delay before retry ``attempt`` (1-based): Retry-After when given, else base * 2^(attempt-1)."""
    base = float(os.environ.get("ORCHESTRATOR_EMAIL_RETRY_BASE", "0.5")) if base is None else base
    delay = retry_after(header)
    if delay is None:
        delay = base * (2 ** (attempt - 1))
    return min(delay, MAX_BACKOFF)


class _Connection(object):
    """One keep-alive HTTP(S) connection, reopened once when the server closed it."""

    def __init__(self, parts, context, timeout):
        self.parts = parts
        self.context = context
        self.timeout = timeout
        self.conn = None

    def _open(self):
        if self.parts.scheme == "https":
            return HTTPSConnection(self.parts.hostname, self.parts.port or 443, timeout=self.timeout,
                                   context=self.context)
        return HTTPConnection(self.parts.hostname, self.parts.port or 80, timeout=self.timeout)

    def request(self, method, path, body, headers):
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = self._open()
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.close()
                return response.status, response, data
            except (ConnectionResetError, BrokenPipeError, HTTPException) as exc:
                self.close()
                if attempt == 2 or isinstance(exc, socket.timeout):
                    raise
        raise StoreConnectionError("unreachable")  # pragma: no cover

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class IdentityClient(object):
    """Authenticated calls to the Identity Server with retries; thread-safe."""

    def __init__(self, url, client_id, client_secret, scopes="PM.Setting", validate_certs=True, ca_path=None,
                 timeout=30.0):
        self.url = (url or "").rstrip("/")
        self.parts = urlsplit(self.url)
        if self.parts.scheme not in ("http", "https") or not self.parts.hostname:
            raise StoreError("identity_url must be an http(s) URL such as https://orch.example.com/identity, got %r"
                             % url, cause="invalid_option")
        self.client_id = client_id
        self._secret = client_secret
        self.scopes = scopes
        self.timeout = timeout
        self.context = None
        if self.parts.scheme == "https":
            self.context = ssl.create_default_context()
            if ca_path:
                try:
                    self.context.load_verify_locations(cafile=ca_path)
                except (OSError, ssl.SSLError) as exc:
                    raise StoreError("identity_ca_path %s cannot be used as a PEM file of CA certificates: %s"
                                     % (ca_path, exc), cause="invalid_option")
            if not validate_certs:
                self.context.check_hostname = False
                self.context.verify_mode = ssl.CERT_NONE
        self._local = threading.local()
        self._lock = threading.Lock()
        self._token_lock = threading.Lock()  # one token request at a time, however many workers
        self._token = None
        self._token_expires = 0.0
        self._connections = []
        self._pool = None
        self.requests = 0
        self.token_requests = 0

    # -- connections -------------------------------------------------------------------------
    def _conn(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = _Connection(self.parts, self.context, self.timeout)
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def pool(self):
        """The worker threads (each keeps its own connection), created once per client."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=POOL_SIZE)
            return self._pool

    def close(self):
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections = []

    def _label(self, method, path):
        return "%s %s%s" % (method, self.parts.path.rstrip("/"), path)

    def _send(self, method, path, query=None, body=None, headers=None):
        full = self.parts.path.rstrip("/") + path
        if query:
            full += "?" + urlencode(query)
        label = self._label(method, path)
        try:
            with self._lock:
                self.requests += 1
            return self._conn().request(method, full, body, headers or {})
        except ssl.SSLError as exc:
            raise StoreConnectionError("TLS with the Identity Server %s failed (%s): %s; give identity_ca_path "
                                       "for a private CA" % (self.url, label, exc), cause="store_tls_error")
        except socket.timeout:
            raise StoreConnectionError("%s to %s timed out after %ss" % (label, self.url, self.timeout))
        except (OSError, HTTPException) as exc:
            raise StoreConnectionError("%s to %s failed: %s" % (label, self.url, exc))

    # -- token --------------------------------------------------------------------------------
    def token(self, refused=None):
        """A valid access token. ``refused``: a token the API just answered 401 to; a new one is
        fetched unless another worker has already replaced it."""
        with self._token_lock:
            with self._lock:
                current, expires = self._token, self._token_expires
            if current and time.time() < expires and (refused is None or current != refused):
                return current
            return self._fetch_token()

    def _fetch_token(self):
        form = urlencode({"grant_type": "client_credentials", "client_id": self.client_id,
                          "client_secret": self._secret, "scope": self.scopes}).encode()
        with self._lock:
            self.token_requests += 1
        status, _response, data = self._retrying("POST", TOKEN_PATH, body=form,
                                                 headers={"Content-Type": "application/x-www-form-urlencoded",
                                                          "Accept": "application/json"}, auth=False)
        label = self._label("POST", TOKEN_PATH)
        if status in (400, 401, 403):
            raise StoreAuthenticationError(
                "the Identity Server refused the client credentials of client_id %r (%s %s: %s)"
                % (self.client_id, label, status, self._message(data)), status=status)
        if status != 200:
            tried = " after %d attempts" % MAX_ATTEMPTS if status in RETRY_STATUSES else ""
            raise StoreApiError("%s failed%s: %s %s" % (label, tried, status, self._message(data)), status=status)
        try:
            payload = json.loads(data.decode("utf-8"))
            token = payload["access_token"]
            lifetime = float(payload.get("expires_in", 300))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise StoreApiError("%s answered without an access_token" % label)
        with self._lock:
            self._token = token
            # Renew a little early so that a token never expires between check and use.
            self._token_expires = time.time() + max(lifetime * 0.9, lifetime - 30)
        return token

    # -- calls --------------------------------------------------------------------------------
    def _retrying(self, method, path, query=None, body=None, headers=None, auth=True, idempotent=True):
        """Send with retries; returns (status, response, data, token used)."""
        attempt = 0
        while True:
            attempt += 1
            hdrs = dict(headers or {})
            used = None
            if auth:
                used = self.token()
                hdrs["Authorization"] = "Bearer " + used
            try:
                status, response, data = self._send(method, path, query, body, hdrs)
            except StoreConnectionError as exc:
                if exc.cause == "store_tls_error" or not should_retry(attempt, connection_error=True,
                                                                      idempotent=idempotent):
                    raise
                time.sleep(backoff(attempt))
                continue
            if should_retry(attempt, status):
                time.sleep(backoff(attempt, response.getheader("Retry-After")))
                continue
            return (status, response, data, used) if auth else (status, response, data)

    def call(self, method, path, query=None, payload=None, idempotent=True, secrets=()):
        """An authenticated JSON call; a 401 fetches a new token once. Returns the parsed body.

        ``secrets``: values the request carries that must not come back in an error message."""
        body = None if payload is None else json.dumps(payload).encode("utf-8")
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        label = self._label(method, path)
        status, _response, data, used = self._retrying(method, path, query, body, headers, idempotent=idempotent)
        if status == 401:
            self.token(refused=used)
            status, _response, data, used = self._retrying(method, path, query, body, headers,
                                                           idempotent=idempotent)
        if status in (401, 403):
            raise StoreAuthenticationError("%s was refused (%s %s): the client %r needs the scopes %s"
                                           % (label, status, self._message(data, secrets), self.client_id,
                                              self.scopes), status=status)
        if status in RETRY_STATUSES:
            raise StoreApiError("%s failed after %d attempts: %s %s"
                                % (label, MAX_ATTEMPTS, status, self._message(data, secrets)), status=status)
        if status >= 400:
            raise StoreApiError("%s answered %s: %s" % (label, status, self._message(data, secrets)), status=status)
        if not data:
            return None
        try:
            return json.loads(data.decode("utf-8"))
        except ValueError:
            return data.decode("utf-8", "replace")

    def _message(self, data, secrets=()):
        """The server's message, with the client secret and the request's secrets masked."""
        text = _message(data)
        for secret in (self._secret,) + tuple(secrets):
            if secret and len(secret) >= 3:
                text = text.replace(secret, MASK)
        return text


def _message(data):
    text = (data or b"").decode("utf-8", "replace").strip()
    try:
        payload = json.loads(text)
        if isinstance(payload, dict):
            text = payload.get("message") or payload.get("Message") or payload.get("error_description") \
                or payload.get("error") or payload.get("title") or text
    except ValueError:
        pass
    return str(text)[:300] or "(no message)"


def _is_masked(value):
    """A value that is a server's mask of a secret, never a secret itself."""
    return value == MASK or (len(value) >= 3 and set(value) == set("*"))


def put_request(scope, values):
    """The bulk PUT of one scope: every value a string, camelCase (the documented casing)."""
    return ("PUT", SETTING_PATH, None, {
        "settings": [{"key": k, "value": _to_string(v)} for k, v in sorted(values.items())],
        "partitionGlobalId": partition_of(scope), "userId": None})


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
        self.client.token()  # one token for every worker
        futures = [(item, self.client.pool().submit(func, item)) for item in items]
        wait([f for _item, f in futures])
        out = []
        for item, future in futures:
            exc = future.exception()
            if exc is not None and not isinstance(exc, StoreError):
                raise exc
            out.append((item, None if exc else future.result(), exc))
        return out

    def read(self, scopes):
        scopes = list(scopes)
        for scope in scopes:
            partition_of(scope)

        def read_one(scope):
            query = [("key", k) for k in STORE_KEYS] + [("partitionGlobalId", partition_of(scope))]
            return parse_settings(self.client.call("GET", SETTING_PATH, query))
        out = {}
        for scope, result, error in self._run(read_one, scopes):
            if error is not None:
                raise error
            out[scope] = result
        return out

    def list_orgs(self):
        raise StoreError("the identity store cannot list organizations; name them", cause="unsupported")

    def write(self, changes):
        requests = []
        for change in changes:  # every scope is addressable and clean before the first request
            if change.remove:
                requests.append((change, removal_request(change.scope, STORE_KEYS), ()))
                continue
            values = dict(change.set_values)
            for key in change.delete_keys:
                values.setdefault(key, "")
            for key, value in values.items():
                field = FIELDS_BY_KEY.get(key)
                if field is not None and field.secret and value and _is_masked(str(value)):
                    raise StoreError("%s of %s is a masked value (%s), not a secret; it is never written back"
                                     % (field.name, change.scope.label, MASK), cause="masked_value")
            if values:
                secrets = tuple(str(v) for k, v in values.items()
                                if v and FIELDS_BY_KEY.get(k) is not None and FIELDS_BY_KEY[k].secret)
                requests.append((change, put_request(change.scope, values), secrets))

        def write_one(item):
            _change, (method, path, query, payload), secrets = item
            self.client.call(method, path, query, payload, secrets=secrets)
        outcome = self._run(write_one, requests)
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


class IdentityStore(SettingsStore):
    name = "identity"
    password_readable = False
    can_list_orgs = False

    def __init__(self, client):
        self.client = client

    @classmethod
    def from_params(cls, params):
        missing = [name for name in ("identity_url", "client_id", "client_secret") if not params.get(name)]
        if missing:
            raise StoreError("store_type identity needs %s (or the %s environment variables)"
                             % (", ".join(missing), ", ".join("ORCHESTRATOR_EMAIL_%s" % m.upper() for m in missing)),
                             cause="invalid_option")
        validate_certs = params.get("identity_validate_certs")
        return cls(IdentityClient(params["identity_url"], params["client_id"], params["client_secret"],
                                  params.get("scopes") or "PM.Setting",
                                  True if validate_certs is None else validate_certs,
                                  params.get("identity_ca_path"), params.get("request_timeout") or 30.0))

    @contextlib.contextmanager
    def session(self, write=False):
        yield _IdentitySession(self.client)

    def send_test_email(self, scope, to, subject=None, body=None):
        """POST /api/Setting/VerifySmtpSettings: the server sends with the scope's stored settings.
        Not retried after a timeout (it may have sent)."""
        to = [to] if isinstance(to, str) else list(to)
        payload = {"partitionGlobalId": partition_of(scope), "sendTo": to[0], "to": to}
        if subject:
            payload["subject"] = subject
        if body:
            payload["body"] = body
        answer = self.client.call("POST", VERIFY_PATH, payload=payload, idempotent=False)
        if isinstance(answer, dict):
            reply = answer.get("message") or answer.get("Message") or json.dumps(answer, sort_keys=True)
        else:
            reply = "" if answer is None else str(answer)
        return {"server_reply": reply, "accepted": to, "endpoint": self.client._label("POST", VERIFY_PATH)}

    def close(self):
        self.client.close()
