"""Pure parts of the identity store: response parsing, Retry-After, backoff, partition ids."""
import pytest

from ansible_collections.mailops.orchestrator_email.plugins.module_utils._errors import StoreError
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._identity_store import (
    HOST_PARTITION_ID,
    MAX_BACKOFF,
    IdentityStore,
    backoff,
    parse_settings,
    partition_of,
    removal_request,
    retry_after,
)
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._store import Scope


@pytest.mark.parametrize("payload", [
    [{"id": 1, "key": "Email.Smtp.Port", "value": "587", "partitionGlobalId": "", "userId": None}],
    [{"Id": 1, "Key": "Email.Smtp.Port", "Value": "587", "PartitionGlobalId": "", "UserId": None}],
    {"value": [{"key": "Email.Smtp.Port", "value": "587"}]},
])
def test_parse_both_casings(payload):
    assert parse_settings(payload) == {"Email.Smtp.Port": "587"}


def test_parse_null_and_junk():
    assert parse_settings([{"key": "A", "value": None}, "junk", {"value": "x"}]) == {"A": ""}
    assert parse_settings(None) == {}


@pytest.mark.parametrize("header,expected", [
    ("5", 5.0), ("0", 0.0), (None, None), ("", None), ("soon", None),
    ("Wed, 21 Oct 2015 07:28:10 GMT", 0.0),
])
def test_retry_after(header, expected):
    assert retry_after(header, now=1445412490.0 + 3600) == expected


def test_retry_after_http_date_in_the_future():
    assert retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0


def test_backoff_is_exponential_bounded_and_honours_retry_after():
    assert [backoff(n, base=0.5) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
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
