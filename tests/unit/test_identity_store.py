"""Pure parts of the identity store: response parsing, Retry-After, retry decisions, backoff,
partition ids, request bodies."""
import pytest

from ansible_collections.mailops.orchestrator_email.plugins.module_utils._errors import StoreError
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._identity_store import (
    MAX_BACKOFF,
    MAX_ATTEMPTS,
    IdentityClient,
    IdentityStore,
    _is_masked,
    backoff,
    base_url_of,
    error_message,
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
    (1, 502, False, False, False),             # a POST that may have acted: not after a 500/502/504
    (1, 500, False, False, False),
    (1, 504, False, False, False),
    (1, 503, False, False, True),              # ... but 503 and 429 say the server did not act
    (1, 429, False, False, True),
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
    # a long Retry-After is not cut short here: the client refuses waits above identity_max_retry_wait
    assert backoff(1, "3600", base=0.5) == 3600.0


def test_partitions():
    assert partition_of(Scope.host()) is None
    assert partition_of(Scope.org("fin", "6f1c2a4e-0b7d-4c1e-9a53-2f9d8e7c6b5a")).startswith("6f1c")
    with pytest.raises(StoreError) as info:
        partition_of(Scope.org("fin"))
    assert "partition_id" in str(info.value) and "'fin'" in str(info.value)
    method, path, query, body = removal_request(Scope.org("fin", "g"), ["Email.Smtp.Host"])
    assert (method, path, body) == ("DELETE", "/api/Setting", None)
    assert ("partitionGlobalId", "g") in query and ("key", "Email.Smtp.Host") in query
    # the host omits partitionGlobalId: never sent empty
    _m, _p, query, _b = removal_request(Scope.host(), ["Email.Smtp.Host"])
    assert [k for k, _v in query] == ["key"]


def test_rows_of_another_partition_are_not_the_scope_s_own():
    rows = [{"key": "Email.Smtp.Host", "value": "org.example.com", "partitionGlobalId": "G-1"},
            {"key": "Email.Smtp.Port", "value": "25", "partitionGlobalId": None},  # inherited host row
            {"key": "Email.Smtp.FromEmail", "value": "a@b.c"}]  # no partition field: taken as asked
    assert parse_settings(rows, "g-1") == {"Email.Smtp.Host": "org.example.com", "Email.Smtp.FromEmail": "a@b.c"}
    assert parse_settings(rows, None) == {"Email.Smtp.Port": "25", "Email.Smtp.FromEmail": "a@b.c"}


def test_missing_options_are_named():
    with pytest.raises(StoreError) as info:
        IdentityStore.from_params({"identity_url": "https://x/identity", "client_id": None, "client_secret": None})
    assert "organization_clients" in str(info.value) and "host_admin_username" in str(info.value)
    with pytest.raises(StoreError) as info:
        IdentityStore.from_params({"identity_url": "https://x/identity", "client_id": "a", "client_secret": None})
    assert "client_id and client_secret go together" in str(info.value)
    with pytest.raises(StoreError):
        IdentityStore.from_params({"identity_url": "ftp://x", "client_id": "a", "client_secret": "b"})
    with pytest.raises(StoreError) as info:
        IdentityStore.from_params({"identity_url": "https://x/identity", "organization_clients": [
            {"organization": "fin", "client_id": "a", "client_secret": "b"},
            {"organization": "fin", "client_id": "c", "client_secret": "d"}]})
    assert "fin twice" in str(info.value)


@pytest.mark.parametrize("url,ok", [
    ("https://orch.example.com/identity", True),
    ("https://suite.example.com/identity_", True),
    ("https://cloud.uipath.com/identity_", True),
    ("https://cloud.uipath.com/myorg/identity_/", True),
    ("https://orch.example.com", False),
    ("https://orch.example.com/", False),
    ("https://suite.example.com/myorg/mytenant/orchestrator_", False),
])
def test_identity_url_forms(url, ok):
    if ok:
        IdentityClient(url, "a", "b")
    else:
        with pytest.raises(StoreError) as info:
            IdentityClient(url, "a", "b")
        assert "/identity_" in str(info.value) and info.value.cause == "invalid_option"


def test_base_url_and_host_admin_login_url():
    assert base_url_of("https://suite.example.com/identity_") == "https://suite.example.com"
    assert base_url_of("https://orch.example.com/identity/") == "https://orch.example.com"
    standalone = IdentityClient("https://orch.example.com/identity", host_admin_username="admin",
                                host_admin_password="pw")
    assert standalone.host_login_url == "https://orch.example.com/api/account/authenticate"
    suite = IdentityClient("https://suite.example.com/identity_", host_admin_username="admin",
                           host_admin_password="pw")
    with pytest.raises(StoreError) as info:  # an Orchestrator endpoint: not derivable on Automation Suite
        suite.grant_for(Scope.host())
    assert "host_admin_login_url" in str(info.value) and info.value.cause == "invalid_option"
    given = IdentityClient("https://suite.example.com/identity_", host_admin_username="admin",
                           host_admin_password="pw", host_login_url="https://suite.example.com/o/t/api/account/authenticate")
    assert given.grant_for(Scope.host()).kind == "host_admin"


@pytest.mark.parametrize("url,allowed", [
    ("http://127.0.0.1:8080/identity", True), ("http://localhost/identity", True), ("http://[::1]/identity", True),
    ("http://orch.example.com/identity", False), ("http://10.0.0.5/identity_", False),
])
def test_plain_http_is_refused_off_the_loopback_unless_allowed(url, allowed):
    if allowed:
        IdentityClient(url, "a", "b")
    else:
        with pytest.raises(StoreError) as info:
            IdentityClient(url, "a", "b")
        assert "allow_insecure_http" in str(info.value) and "clear text" in str(info.value)
        IdentityClient(url, "a", "b", allow_insecure_http=True)


def test_each_scope_gets_its_grant_and_a_missing_one_is_named_before_any_request():
    client = IdentityClient("https://x/identity", organization_clients=[
        {"organization": "fin", "client_id": "fin-app", "client_secret": "fin-secret"}],
        host_admin_username="admin", host_admin_password="pw")
    assert client.grant_for(Scope.host()).kind == "host_admin"
    assert client.grant_for(Scope.org("fin", "g")).name == "fin-app"
    with pytest.raises(StoreError) as info:
        client.grant_for(Scope.org("hr", "g2"))
    assert "organizations.hr" in str(info.value) and "organization_clients" in str(info.value)
    only_orgs = IdentityClient("https://x/identity_", organization_clients=[
        {"organization": "fin", "client_id": "fin-app", "client_secret": "fin-secret"}])
    with pytest.raises(StoreError) as info:
        only_orgs.grant_for(Scope.host())
    assert "host_admin_username" in str(info.value)
    single = IdentityClient("https://x/identity", "one-app", "one-secret")
    assert single.grant_for(Scope.host()).name == single.grant_for(Scope.org("hr", "g2")).name == "one-app"


@pytest.mark.parametrize("body,expected", [
    (b'{"errors": {"partitionGlobalId": ["The value \'X\' is not valid."]}, "title": "Bad Request"}',
     "Bad Request; partitionGlobalId: The value 'X' is not valid."),
    (b'{"message": "nope"}', "nope"),
    (b'{"error": "invalid_client", "error_description": "bad secret"}', "bad secret; invalid_client"),
    (b"plain text", "plain text"),
    (b"", "(no message)"),
])
def test_error_bodies_are_shown(body, expected):
    assert error_message(body) == expected


def test_put_request_is_one_camel_case_bulk_body_of_strings():
    method, path, query, body = put_request(Scope.org("fin", "g-1"), {
        "Email.Smtp.Port": 587, "Email.Smtp.EnableSsl": True, "Email.Smtp.Domain": ""})
    assert (method, path, query) == ("PUT", "/api/Setting", None)
    assert body == {"settings": [{"key": "Email.Smtp.Domain", "value": ""},
                                 {"key": "Email.Smtp.EnableSsl", "value": "true"},
                                 {"key": "Email.Smtp.Port", "value": "587"}],
                    "partitionGlobalId": "g-1", "userId": None}
    assert put_request(Scope.host(), {"Email.Smtp.Host": "h"})[3]["partitionGlobalId"] is None


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
