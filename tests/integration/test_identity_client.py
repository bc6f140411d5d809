"""The identity store's client in-process against the emulator (no ansible-playbook): token reuse
and refresh across the worker pool, retries, error messages, secrets, scopes, timeouts."""
import time

import pytest

from ansible_collections.mailops.orchestrator_email.plugins.module_utils._errors import (
    StoreApiError,
    StoreAuthenticationError,
    StoreConnectionError,
    StoreError,
)
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._identity_store import (
    MAX_ATTEMPTS,
    IdentityStore,
)
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._store import Scope, ScopeChange
from tests.lib.backends import IdentityBackend

SECRET_PASSWORD = "Client-Test-Smtp-Password-51"


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_EMAIL_RETRY_BASE", "0.01")


@pytest.fixture
def backend():
    backend = IdentityBackend()
    yield backend
    backend.close()


def open_store(backend, **params):
    options = dict(backend.module_defaults, **params)
    return IdentityStore.from_params(options)


def orgs(backend, count):
    return [Scope.org("org%02d" % i, backend.partition_id("org%02d" % i)) for i in range(count)]


def put(scope, **values):
    return ScopeChange(scope, set_values=dict(("Email.Smtp." + k, v) for k, v in values.items()))


def api(backend, method):
    return [r for r in backend.emulator.api_requests() if r["method"] == method]


def test_one_token_for_many_calls_and_one_refresh_when_it_expires_under_the_pool(backend):
    store = open_store(backend)
    scopes = orgs(backend, 24)
    try:
        with store.session(write=True) as session:
            session.write([put(s, Host="relay.example.com", Port="25") for s in scopes])
            assert len(session.read(scopes)) == 24
            assert store.client.token_requests == 1
            backend.emulator.expire_tokens()
            current = session.read([Scope.host()] + scopes)
        # every worker got a 401; one of them fetched the new token, the others reused it
        assert store.client.token_requests == 2 and len(backend.emulator.tokens) == 2
        assert all(current[s] == {"Email.Smtp.Host": "relay.example.com", "Email.Smtp.Port": "25"} for s in scopes)
        assert len({r["client"] for r in backend.emulator.requests}) <= 5  # 4 keep-alive workers + main thread
    finally:
        store.close()


def test_retry_after_is_honoured_over_the_backoff(backend):
    store = open_store(backend)
    try:
        backend.emulator.fail_next(1, status=429, retry_after=1, method="GET")
        with store.session() as session:
            assert session.read([Scope.host()]) == {Scope.host(): {}}
        gets = api(backend, "GET")
        assert len(gets) == 2
        assert gets[1]["time"] - gets[0]["time"] >= 0.9  # Retry-After: 1, not the 0.01 s base
    finally:
        store.close()


def test_5xx_is_bounded_and_names_endpoint_status_and_message(backend):
    store = open_store(backend)
    try:
        backend.emulator.fail_next(MAX_ATTEMPTS, status=503, method="GET", message="maintenance window")
        with store.session() as session, pytest.raises(StoreApiError) as info:
            session.read([Scope.host()])
        assert len(api(backend, "GET")) == MAX_ATTEMPTS
        msg = str(info.value)
        assert "GET /identity/api/Setting" in msg and "503" in msg and "maintenance window" in msg
        assert "%d attempts" % MAX_ATTEMPTS in msg and info.value.details["status"] == 503
    finally:
        store.close()


def test_other_4xx_fail_at_once_without_echoing_secrets(backend):
    store = open_store(backend)
    try:
        echo = "rejected value %s for client %s" % (SECRET_PASSWORD, backend.emulator.client_secret)
        backend.emulator.fail_next(1, status=409, method="PUT", message=echo)
        with store.session(write=True) as session, pytest.raises(StoreApiError) as info:
            session.write([put(Scope.host(), Host="smtp.example.com", Password=SECRET_PASSWORD)])
        assert len(api(backend, "PUT")) == 1
        msg = str(info.value)
        assert "PUT /identity/api/Setting answered 409" in msg and "rejected value ********" in msg
        assert SECRET_PASSWORD not in msg and backend.emulator.client_secret not in msg
        assert "host" in info.value.details["scopes_failed"] and backend.emulator.state == {}
    finally:
        store.close()


def test_a_masked_password_is_never_written_back(backend):
    store = open_store(backend)
    try:
        with store.session(write=True) as session, pytest.raises(StoreError) as info:
            session.write([put(Scope.host(), Host="smtp.example.com"),
                           put(orgs(backend, 1)[0], Password="********")])
        assert info.value.cause == "masked_value"
        assert api(backend, "PUT") == [] and backend.emulator.state == {}  # nothing sent, no scope
    finally:
        store.close()


def test_failed_writes_name_the_scopes_written_and_not_written(backend):
    store = open_store(backend)
    scopes = orgs(backend, 3)
    try:
        backend.emulator.fail_next(100, status=500, method="PUT")
        with store.session(write=True) as session, pytest.raises(StoreApiError) as info:
            session.write([put(s, Host="relay.example.com") for s in scopes])
        assert len(api(backend, "PUT")) == 3 * MAX_ATTEMPTS
        assert sorted(info.value.details["scopes_failed"]) == sorted(s.label for s in scopes)
        assert info.value.details["scopes_written"] == [] and backend.emulator.state == {}
        assert "none is half-applied" in str(info.value)
    finally:
        store.close()


def test_a_token_without_the_write_scope_reads_but_cannot_write(backend):
    store = open_store(backend, scopes="PM.Setting.Read")
    try:
        with store.session(write=True) as session:
            assert session.read([Scope.host()]) == {Scope.host(): {}}
            with pytest.raises(StoreAuthenticationError) as info:
                session.write([put(Scope.host(), Host="smtp.example.com")])
        msg = str(info.value)
        assert "PUT /identity/api/Setting was refused (403" in msg and "PM.Setting.Read" in msg
        assert info.value.cause == "store_authentication_failed"
    finally:
        store.close()


def test_an_unknown_scope_is_refused_at_the_token_endpoint(backend):
    store = open_store(backend, scopes="OR.Settings")
    try:
        with store.session() as session, pytest.raises(StoreAuthenticationError) as info:
            session.read([Scope.host()])
        assert "invalid_scope" in str(info.value) and backend.emulator.client_secret not in str(info.value)
    finally:
        store.close()


def test_a_timed_out_put_is_retried_but_a_timed_out_test_email_is_not(backend):
    store = open_store(backend, request_timeout=0.5)
    try:
        backend.emulator.delay_next(1, 1.5, method="PUT")
        with store.session(write=True) as session:
            session.write([put(Scope.host(), Host="smtp.example.com")])
        assert len(api(backend, "PUT")) == 2
        assert backend.read_back() == {"host": {"Email.Smtp.Host": "smtp.example.com"}}
        backend.emulator.delay_next(1, 1.5, method="POST")
        started = time.monotonic()
        with pytest.raises(StoreConnectionError) as info:
            store.send_test_email(Scope.host(), ["ops@example.com"])
        assert "timed out" in str(info.value) and "VerifySmtpSettings" in str(info.value)
        assert len([r for r in api(backend, "POST") if r["path"].endswith("VerifySmtpSettings")]) == 1
        assert time.monotonic() - started < 1.4
    finally:
        store.close()


def test_pascal_case_answers_are_read():
    backend = IdentityBackend(pascal_case=True)
    store = open_store(backend)
    try:
        with store.session(write=True) as session:
            session.write([put(Scope.host(), Host="smtp.example.com", Port="587", Password=SECRET_PASSWORD)])
            stored = session.read([Scope.host()])[Scope.host()]
        assert stored == {"Email.Smtp.Host": "smtp.example.com", "Email.Smtp.Port": "587",
                          "Email.Smtp.Password": "********"}
    finally:
        store.close()
        backend.close()


def test_missing_partition_id_fails_before_any_request(backend):
    store = open_store(backend)
    try:
        with store.session(write=True) as session, pytest.raises(StoreError) as info:
            session.write([put(Scope.host(), Host="h"), put(Scope.org("finance"), Host="h")])
        assert info.value.cause == "missing_partition_id" and "'finance'" in str(info.value)
        assert backend.emulator.requests == []
    finally:
        store.close()
