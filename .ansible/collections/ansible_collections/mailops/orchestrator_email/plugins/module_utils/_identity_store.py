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
from concurrent.futures import ThreadPoolExecutor
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
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._fields import STORE_KEYS
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
    """GET /api/Setting answer -> {key: value}; camelCase or PascalCase entries."""
    if isinstance(payload, dict):
        payload = payload.get("value", payload.get("Value", payload.get("settings", payload.get("Settings", []))))
    out = {}
    for item in payload or []:
        if not isinstance(item, dict):
            continue
        key = item.get("key", item.get("Key"))
        value = item.get("value", item.get("Value"))
        if key is not None:
            out[key] = "" if value is None else str(value)
    return out


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
        self.url = url.rstrip("/")
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
                self.context.load_verify_locations(cafile=ca_path)
            if not validate_certs:
                self.context.check_hostname = False
                self.context.verify_mode = ssl.CERT_NONE
        self._local = threading.local()
        self._lock = threading.Lock()
        self._token = None
        self._token_expires = 0.0
        self._connections = []
        self._pool = None
        self.requests = 0

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

    def _send(self, method, path, query=None, body=None, headers=None):
        full = self.parts.path.rstrip("/") + path
        if query:
            full += "?" + urlencode(query)
        label = "%s %s" % (method, self.parts.path.rstrip("/") + path)
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
    def token(self, refresh=False):
        with self._lock:
            if not refresh and self._token and time.time() < self._token_expires:
                return self._token
        form = urlencode({"grant_type": "client_credentials", "client_id": self.client_id,
                          "client_secret": self._secret, "scope": self.scopes}).encode()
        status, response, data = self._retrying("POST", TOKEN_PATH, body=form,
                                                headers={"Content-Type": "application/x-www-form-urlencoded",
                                                         "Accept": "application/json"}, auth=False)
        if status in (400, 401, 403):
            raise StoreAuthenticationError(
                "the Identity Server refused the client credentials of client_id %r (%s %s)"
                % (self.client_id, status, _message(data)))
        if status != 200:
            tried = " after %d attempts" % MAX_ATTEMPTS if status in RETRY_STATUSES else ""
            message = "POST %s%s failed%s: %s %s" % (self.parts.path, TOKEN_PATH, tried, status, _message(data))
            raise StoreApiError(message, status=status)
        try:
            payload = json.loads(data.decode("utf-8"))
            token = payload["access_token"]
            lifetime = float(payload.get("expires_in", 300))
        except (ValueError, KeyError, TypeError):
            raise StoreApiError("the token endpoint answered without an access_token")
        with self._lock:
            self._token = token
            self._token_expires = time.time() + max(lifetime * 0.9, lifetime - 30)
        return token

    # -- calls --------------------------------------------------------------------------------
    def _retrying(self, method, path, query=None, body=None, headers=None, auth=True):
        attempt = 0
        while True:
            attempt += 1
            hdrs = dict(headers or {})
            if auth:
                hdrs["Authorization"] = "Bearer " + self.token()
            try:
                status, response, data = self._send(method, path, query, body, hdrs)
            except StoreConnectionError as exc:
                if exc.cause == "store_tls_error" or attempt >= MAX_ATTEMPTS:
                    raise
                time.sleep(backoff(attempt))
                continue
            if status in RETRY_STATUSES and attempt < MAX_ATTEMPTS:
                time.sleep(backoff(attempt, response.getheader("Retry-After")))
                continue
            return status, response, data

    def call(self, method, path, query=None, payload=None):
        """An authenticated JSON call; a 401 fetches a new token once. Returns the parsed body."""
        body = None if payload is None else json.dumps(payload).encode("utf-8")
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        label = "%s %s%s" % (method, self.parts.path.rstrip("/"), path)
        status, _response, data = self._retrying(method, path, query, body, headers)
        if status == 401:
            self.token(refresh=True)
            status, _response, data = self._retrying(method, path, query, body, headers)
        if status in (401, 403):
            raise StoreAuthenticationError("%s was refused (%s %s): the client %r needs the scopes %s"
                                           % (label, status, _message(data), self.client_id, self.scopes))
        if status in RETRY_STATUSES:
            raise StoreApiError("%s failed after %d attempts: %s %s" % (label, MAX_ATTEMPTS, status, _message(data)),
                                status=status)
        if status >= 400:
            raise StoreApiError("%s answered %s: %s" % (label, status, _message(data)), status=status)
        if not data:
            return None
        try:
            return json.loads(data.decode("utf-8"))
        except ValueError:
            return data.decode("utf-8", "replace")


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


class _IdentitySession(StoreSession):
    def __init__(self, client):
        self.client = client

    def _map(self, func, items):
        if len(items) <= 2:
            return [func(item) for item in items]
        self.client.token()  # one token for every worker
        return list(self.client.pool().map(func, items))

    def read(self, scopes):
        def read_one(scope):
            query = [("key", k) for k in STORE_KEYS] + [("partitionGlobalId", partition_of(scope))]
            return scope, parse_settings(self.client.call("GET", SETTING_PATH, query))
        for scope in scopes:
            partition_of(scope)
        return dict(self._map(read_one, list(scopes)))

    def list_orgs(self):
        raise StoreError("the identity store cannot list organizations; name them", cause="unsupported")

    def write(self, changes):
        for change in changes:  # every scope is addressable before the first request
            partition_of(change.scope)

        def write_one(change):
            if change.remove:
                method, path, query, _body = removal_request(change.scope, STORE_KEYS)
                self.client.call(method, path, query)
                return
            values = dict(change.set_values)
            for key in change.delete_keys:
                values[key] = ""
            if values:
                self.client.call("PUT", SETTING_PATH, payload={
                    "settings": [{"key": k, "value": v} for k, v in sorted(values.items())],
                    "partitionGlobalId": partition_of(change.scope), "userId": None})
        self._map(write_one, list(changes))


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
            raise StoreError("store_type identity needs %s (or the ORCHESTRATOR_EMAIL_%s environment variables)"
                             % (", ".join(missing), "/".join(m.upper() for m in missing)), cause="invalid_option")
        return cls(IdentityClient(params["identity_url"], params["client_id"], params["client_secret"],
                                  params.get("scopes") or "PM.Setting", params.get("identity_validate_certs", True),
                                  params.get("identity_ca_path"), params.get("request_timeout") or 30.0))

    @contextlib.contextmanager
    def session(self, write=False):
        yield _IdentitySession(self.client)

    def send_test_email(self, scope, to, subject=None, body=None):
        payload = {"partitionGlobalId": partition_of(scope), "sendTo": to[0], "to": list(to)}
        if subject:
            payload["subject"] = subject
        if body:
            payload["body"] = body
        answer = self.client.call("POST", VERIFY_PATH, payload=payload)
        return {"server_reply": answer, "accepted": list(to)}

    def close(self):
        self.client.close()
