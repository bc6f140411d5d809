"""plan_scope / plan / effective_settings: the compare-then-act core, table-driven."""
import pytest

from ansible_collections.mailops.orchestrator_email.plugins.module_utils._engine import (
    effective_settings,
    plan,
    plan_scope,
    scopes_of,
)
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._fields import (
    from_store,
    mask_settings,
    settings_from_store,
    to_store,
)
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._store import Scope

HOST = Scope.host()
STORED = {
    "Email.Smtp.Host": "smtp.example.com",
    "Email.Smtp.Port": "587",
    "Email.Smtp.EnableSsl": "true",
    "Email.Smtp.UserName": "mailer",
    "Email.Smtp.Password": "pw-1",
    "Email.Smtp.FromEmail": "mailer@example.com",
}
DESIRED = {"smtp_host": "smtp.example.com", "smtp_port": 587, "secure": True, "smtp_username": "mailer",
           "smtp_password": "pw-1", "from_address": "mailer@example.com"}


def changed(**kw):
    d = dict(DESIRED)
    d.update(kw)
    return dict((k, v) for k, v in d.items() if v is not None)


@pytest.mark.parametrize("stored,desired,readable,update_password,expected", [
    # (stored, desired, password readable, update_password, {field: action})
    (STORED, DESIRED, True, "on_create", {}),
    ({}, DESIRED, True, "on_create", dict((k, "create") for k in DESIRED)),
    (STORED, changed(smtp_port=465), True, "on_create", {"smtp_port": "update"}),
    (STORED, changed(smtp_password="pw-2"), True, "on_create", {"smtp_password": "update"}),
    (STORED, changed(smtp_username=None, smtp_password=None), True, "on_create",
     {"smtp_username": "delete", "smtp_password": "delete"}),
    (dict(STORED, **{"Email.Smtp.EnableSsl": "True"}), DESIRED, True, "on_create", {}),
    (dict(STORED, **{"Email.Smtp.Port": " 587"}), DESIRED, True, "on_create", {}),
    (dict(STORED, **{"Email.Smtp.Port": "abc"}), DESIRED, True, "on_create", {"smtp_port": "update"}),
    # masked store: the password is never compared ...
    (dict(STORED, **{"Email.Smtp.Password": "********"}), changed(smtp_password="pw-2"), False, "on_create", {}),
    # ... written when missing, when always, or when the destination changes
    (dict((k, v) for k, v in STORED.items() if k != "Email.Smtp.Password"), DESIRED, False, "on_create",
     {"smtp_password": "create"}),
    (dict(STORED, **{"Email.Smtp.Password": "********"}), DESIRED, False, "always", {"smtp_password": "update"}),
    (dict(STORED, **{"Email.Smtp.Password": "********"}), changed(smtp_host="relay.example.com"), False,
     "on_create", {"smtp_host": "update", "smtp_password": "update"}),
    # timeout is left alone when not declared, managed when declared
    (dict(STORED, **{"Email.Smtp.ConnectionTimeout": "1000"}), DESIRED, True, "on_create", {}),
    (dict(STORED, **{"Email.Smtp.ConnectionTimeout": "1000"}), changed(timeout_ms=2000), True, "on_create",
     {"timeout_ms": "update"}),
    # UseDefaultCredentials left true (the vendor's "no credentials" setting) is drift
    (dict(STORED, **{"Email.Smtp.UseDefaultCredentials": "true"}), changed(use_default_credentials=False), True,
     "on_create", {"use_default_credentials": "update"}),
    (dict(STORED, **{"Email.Smtp.UseDefaultCredentials": "false"}), changed(use_default_credentials=False), True,
     "on_create", {}),
])
def test_plan_scope_actions(stored, desired, readable, update_password, expected):
    change, rows, diff = plan_scope(HOST, stored, desired, readable, update_password)
    assert dict((r["field"], r["action"]) for r in rows) == expected
    if not expected:
        assert change is None and diff is None
    else:
        written = set(change.set_values) | set(change.delete_keys)
        assert len(written) == len(expected)


def test_secret_rows_and_diff_are_masked():
    _change, rows, diff = plan_scope(HOST, STORED, changed(smtp_password="pw-2"))
    row = rows[0]
    assert row == {"scope": "host", "field": "smtp_password", "key": "Email.Smtp.Password", "action": "update",
                   "secret": True, "before": "********", "after": "******** (changed)"}
    assert diff["before"]["smtp_password"] == "********"
    assert diff["after"]["smtp_password"] == "******** (changed)"
    assert "pw-1" not in repr((rows, diff)) and "pw-2" not in repr((rows, diff))


def test_values_written_as_vendor_strings():
    change, _rows, _diff = plan_scope(HOST, {}, DESIRED)
    assert change.set_values["Email.Smtp.Port"] == "587"
    assert change.set_values["Email.Smtp.EnableSsl"] == "true"


def test_absent_org_removes_whole_override_and_nothing_when_already_gone():
    org = Scope.org("hr")
    change, rows, diff = plan_scope(org, STORED, None)
    assert change.remove is True
    assert {r["action"] for r in rows} == {"delete"}
    assert diff["after"] == {}
    assert plan_scope(org, {}, None) == (None, [], None)


def test_plan_collects_only_changed_scopes():
    normalized = {"host": {"settings": DESIRED, "partition_id": None},
                  "organizations": {"a": {"state": "present", "settings": changed(smtp_port=25), "partition_id": None},
                                    "b": {"state": "absent", "settings": None, "partition_id": None}}}
    pairs = scopes_of(normalized)
    changes, rows, diffs = plan(pairs, {HOST: STORED, Scope.org("a"): STORED})
    assert [c.scope.label for c in changes] == ["organizations.a"]
    assert [d["before_header"] for d in diffs] == ["organizations.a"]
    assert rows[0]["before"] == 587 and rows[0]["after"] == 25


def test_effective_settings_is_per_scope():
    host = STORED
    org = {"Email.Smtp.Host": "relay", "Email.Smtp.FromEmail": "o@relay"}
    settings, source = effective_settings(host, org)
    assert source == "organization"
    assert "smtp_username" not in settings  # an anonymous override never inherits credentials
    settings, source = effective_settings(host, {})
    assert source == "host" and settings["smtp_username"] == "mailer"


@pytest.mark.parametrize("name,value,text", [
    ("smtp_port", 587, "587"), ("secure", True, "true"), ("secure", False, "false"),
    ("smtp_host", "h", "h"), ("timeout_ms", 180000, "180000"),
])
def test_store_round_trip(name, value, text):
    assert to_store(name, value) == text
    key = {"smtp_port": "Email.Smtp.Port", "secure": "Email.Smtp.EnableSsl", "smtp_host": "Email.Smtp.Host",
           "timeout_ms": "Email.Smtp.ConnectionTimeout"}[name]
    assert from_store(key, text) == (name, value)


def test_settings_from_store_drops_unknown_and_empty():
    assert settings_from_store({"Email.Smtp.Host": "h", "Email.Smtp.Domain": "", "Other": "x"}) == {"smtp_host": "h"}


def test_mask_settings():
    assert mask_settings({"smtp_password": "x", "smtp_host": "h"}) == {"smtp_host": "h", "smtp_password": "********"}
