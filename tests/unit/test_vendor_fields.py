"""The vendor's fields that issue 10 added: use_default_credentials, vendor_default_mailer and the
1-300000 ms timeout, in the validator, the JSON Schema and the engine's reports."""
import jsonschema
import pytest

from ansible_collections.mailops.orchestrator_email.plugins.module_utils._engine import plan_scope
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._fields import VENDOR_MAILER_SETTINGS
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._schema import build_schema
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._store import Scope
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._validation import validate_config

HOST = {"smtp_host": "smtp.example.com", "from_address": "a@example.com"}
GUID = "6f1c2a4e-0b7d-4c1e-9a53-2f9d8e7c6b5a"
SCHEMA = jsonschema.Draft202012Validator(build_schema())


@pytest.mark.parametrize("config,path,words", [
    ({"host": dict(HOST, use_default_credentials=True, smtp_username="u", smtp_password="p")},
     "host.use_default_credentials", "ignores smtp_username"),
    ({"host": dict(HOST, use_default_credentials="yes")}, "host.use_default_credentials", "true or false"),
    ({"host": dict(HOST, timeout_ms=300001)}, "host.timeout_ms", "1 to 300000"),
    ({"host": {"vendor_default_mailer": True, "smtp_port": 25}}, "host.smtp_port", "vendor_default_mailer"),
    ({"host": {"vendor_default_mailer": "yes"}}, "host.vendor_default_mailer", "true or false"),
    ({"organizations": {"fin": {"vendor_default_mailer": True, "partition_id": "x"}}},
     "organizations.fin.partition_id", "GUID"),
])
def test_rules_name_path_and_rule_and_the_schema_agrees(config, path, words):
    errors, _warnings, normalized = validate_config(config)
    assert normalized is None
    assert any(e["path"] == path and words in e["message"] for e in errors), errors
    assert list(SCHEMA.iter_errors(config)), "the JSON Schema accepted %r" % (config,)


@pytest.mark.parametrize("config,expected", [
    ({"host": dict(HOST, timeout_ms=300000)}, dict(HOST, smtp_port=587, secure=True, use_default_credentials=False,
                                                   timeout_ms=300000)),
    ({"host": dict(HOST, use_default_credentials=True)}, dict(HOST, smtp_port=587, secure=True,
                                                              use_default_credentials=True)),
    ({"host": {"vendor_default_mailer": True}}, VENDOR_MAILER_SETTINGS),
    ({"host": dict(HOST, vendor_default_mailer=False)}, dict(HOST, smtp_port=587, secure=True,
                                                             use_default_credentials=False)),
])
def test_valid_scopes_normalize_and_the_schema_accepts_them(config, expected):
    errors, _warnings, normalized = validate_config(config)
    assert errors == []
    assert normalized["host"]["settings"] == expected
    assert list(SCHEMA.iter_errors(config)) == []


def test_an_organization_can_ask_for_the_vendor_mailer():
    config = {"organizations": {"fin": {"vendor_default_mailer": True, "partition_id": GUID}}}
    errors, _warnings, normalized = validate_config(config)
    assert errors == [] and normalized["organizations"]["fin"]["partition_id"] == GUID
    assert normalized["organizations"]["fin"]["settings"]["smtp_host"] == "SendGrid"
    assert list(SCHEMA.iter_errors(config)) == []


def test_declaring_sendgrid_as_a_host_warns_towards_the_flag():
    errors, warnings, _normalized = validate_config({"host": dict(HOST, smtp_host="SendGrid")})
    assert errors == [] and any("vendor_default_mailer" in w for w in warnings)


def test_reports_name_the_vendor_mailer_and_a_change_carries_the_whole_declared_set():
    stored = {"Email.Smtp.Host": "SendGrid", "Email.Smtp.FromEmail": "no-reply@uipath.com",
              "Email.Smtp.UseDefaultCredentials": "true"}
    desired = dict(HOST, smtp_port=587, secure=True, use_default_credentials=False, smtp_username="u",
                   smtp_password="pw")
    change, rows, diff = plan_scope(Scope.host(), stored, desired, password_readable=False)
    host = [r for r in rows if r["field"] == "smtp_host"][0]
    assert host["before"] == "SendGrid (vendor default mailer)" and host["after"] == "smtp.example.com"
    assert diff["before"]["mailer"] == "vendor default mailer" and diff["after"]["mailer"] == "custom"
    assert change.declared == {"Email.Smtp.Host": "smtp.example.com", "Email.Smtp.FromEmail": "a@example.com",
                               "Email.Smtp.Port": "587", "Email.Smtp.EnableSsl": "true",
                               "Email.Smtp.UseDefaultCredentials": "false", "Email.Smtp.UserName": "u",
                               "Email.Smtp.Password": "pw", "Email.Smtp.Domain": "",
                               "Email.Smtp.FromDisplayName": ""}  # omitted fields cleared, whatever was read
    # unchanged password with update_password on_create on a masked store: not in the declared set
    stored = dict((k, v) for k, v in change.declared.items() if v)
    stored.update({"Email.Smtp.Password": "********", "Email.Smtp.FromDisplayName": "Old"})
    change, rows, _diff = plan_scope(Scope.host(), stored, desired, password_readable=False)
    assert [r["field"] for r in rows] == ["from_display_name"]
    assert "Email.Smtp.Password" not in change.declared and change.declared["Email.Smtp.Host"] == "smtp.example.com"
    assert change.declared["Email.Smtp.FromDisplayName"] == "" and change.declared["Email.Smtp.Domain"] == ""
    assert change.delete_keys == ["Email.Smtp.FromDisplayName"]
