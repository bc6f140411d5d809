"""Pure parts of the identity store: response parsing, Retry-After, retry decisions, backoff,
partition ids, request bodies."""
import pytest

from ansible_collections.mailops.orchestrator_email.plugins.module_utils._errors import StoreError
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._identity_store import (
    HOST_PARTITION_ID,
    MAX_BACKOFF,
    MAX_ATTEMPTS,
    IdentityStore,
    _is_masked,
    backoff,
    parse_settings,
    partition_of,
    put_request,
    removal_request,
    retry_after,
    should_retry,
)
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._store import Scope


@pytest.mark.parametrize("payload", [
    [{"id": 1, "key": "Email.Smtp.Port", "value": "587", "partitionGlobalId": "", "userId": None}],
    [{"Id": 1, "Key": "Email.Smtp.Port", "Value": "587", "PartitionGlobalId": "", "UserId": None}],
    {"value": [{"key": "Email.Smtp.Port", "value": "587"}]},
])
def test_parse_both_casings(payload):
    assert parse_settings(payload) == {"Email.Smtp.Port": "587"}


def test_parse_null_empty_and_junk():
    # empty and null values are blank fields, exactly like a missing key (no perpetual drift on a
    # server that keeps the empty strings we send for settings no longer declared)
    payload = [{"key": "A", "value": None}, {"Key": "B", "Value": ""}, "junk", {"value": "x"},
               {"key": "C", "value": "c"}]
    assert parse_settings(payload) == {"C": "c"}
    assert parse_settings(None) == {} and parse_settings([]) == {}


def test_parse_non_string_scalars_become_api_strings():
    assert parse_settings([{"key": "Email.Smtp.EnableSsl", "value": True},
                           {"Key": "Email.Smtp.Port", "Value": 587}]) == {
        "Email.Smtp.EnableSsl": "true", "Email.Smtp.Port": "587"}


@pytest.mark.parametrize("attempt,status,connection_error,idempotent,expected", [
    (1, 429, False, True, True),
    (1, 500, False, True, True),
    (1, 502, False, False, True),
    (1, 503, False, True, True),
    (1, 504, False, True, True),
    (MAX_ATTEMPTS - 1, 500, False, True, True),
    (MAX_ATTEMPTS, 500, False, True, False),   # bounded
    (MAX_ATTEMPTS, 429, False, True, False),
    (1, 400, False, True, False),              # other 4xx fail at once
    (1, 401, False, True, False),              # 401 is the caller's token refresh, not a retry
    (1, 403, False, True, False),
    (1, 404, False, True, False),
    (1, 409, False, True, False),
    (1, 200, False, True, False),
    (1, None, True, True, True),               # connection reset/timeout: retry a GET/PUT/DELETE
    (1, None, True, False, False),             # ... never a POST that may have acted (VerifySmtpSettings)
    (MAX_ATTEMPTS, None, True, True, False),
])
def test_retry_decisions(attempt, status, connection_error, idempotent, expected):
    assert should_retry(attempt, status, connection_error=connection_error, idempotent=idempotent) is expected


@pytest.mark.parametrize("header,expected", [
    ("5", 5.0), ("0", 0.0), (None, None), ("", None), ("soon", None),
    ("Wed, 21 Oct 2015 07:28:10 GMT", 0.0),
])
def test_retry_after(header, expected):
    assert retry_after(header, now=1445412490.0 + 3600) == expected


def test_retry_after_http_date_in_the_future():
    assert retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0


def test_backoff_is_exponential_bounded_and_honours_retry_after(monkeypatch):
    assert [backoff(n, base=0.5) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
    assert backoff(2, "0", base=0.5) == 0.0
    assert backoff(2, "garbage", base=0.5) == 1.0
    monkeypatch.setenv("ORCHESTRATOR_EMAIL_RETRY_BASE", "0.01")
    assert backoff(3) == 0.04
    assert backoff(20, base=0.5) == MAX_BACKOFF
    assert backoff(1, "3", base=0.5) == 3.0
    assert backoff(1, "3600", base=0.5) == MAX_BACKOFF


def test_partitions():
    assert partition_of(Scope.host()) == HOST_PARTITION_ID == ""
    assert partition_of(Scope.org("fin", "6f1c2a4e-0b7d-4c1e-9a53-2f9d8e7c6b5a")).startswith("6f1c")
    with pytest.raises(StoreError) as info:
        partition_of(Scope.org("fin"))
    assert "partition_id" in str(info.value) and "'fin'" in str(info.value)
    method, path, query, body = removal_request(Scope.org("fin", "g"), ["Email.Smtp.Host"])
    assert (method, path, body) == ("DELETE", "/api/Setting", None)
    assert ("partitionGlobalId", "g") in query and ("key", "Email.Smtp.Host") in query


def test_missing_options_are_named():
    with pytest.raises(StoreError) as info:
        IdentityStore.from_params({"identity_url": "https://x/identity", "client_id": None, "client_secret": None})
    assert "client_id, client_secret" in str(info.value)
    with pytest.raises(StoreError):
        IdentityStore.from_params({"identity_url": "ftp://x", "client_id": "a", "client_secret": "b"})


def test_put_request_is_one_camel_case_bulk_body_of_strings():
    method, path, query, body = put_request(Scope.org("fin", "g-1"), {
        "Email.Smtp.Port": 587, "Email.Smtp.EnableSsl": True, "Email.Smtp.Domain": ""})
    assert (method, path, query) == ("PUT", "/api/Setting", None)
    assert body == {"settings": [{"key": "Email.Smtp.Domain", "value": ""},
                                 {"key": "Email.Smtp.EnableSsl", "value": "true"},
                                 {"key": "Email.Smtp.Port", "value": "587"}],
                    "partitionGlobalId": "g-1", "userId": None}
    assert put_request(Scope.host(), {"Email.Smtp.Host": "h"})[3]["partitionGlobalId"] == HOST_PARTITION_ID


@pytest.mark.parametrize("value,masked", [
    ("********", True), ("***", True), ("*" * 12, True),
    ("", False), ("**", False), ("pa**word", False), ("real-secret", False),
])
def test_masked_values_are_recognised(value, masked):
    assert _is_masked(value) is masked


def test_unusable_ca_path_is_an_option_error(tmp_path):
    with pytest.raises(StoreError) as info:
        IdentityStore.from_params({"identity_url": "https://x/identity", "client_id": "a", "client_secret": "b",
                                   "identity_ca_path": str(tmp_path / "missing.pem")})
    assert info.value.cause == "invalid_option" and "identity_ca_path" in str(info.value)
