"""Every validation rule, table-driven; and the JSON Schema agrees wherever it can speak."""
import copy
import json
import os

import jsonschema
import pytest

from ansible_collections.mailops.orchestrator_email.plugins.module_utils._schema import build_schema
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._validation import (
    collect_secrets,
    scope_config,
    valid_email,
    valid_hostname,
    validate_config,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCHEMA_FILE = os.path.join(ROOT, "schemas", "email-settings.schema.json")

HOST = {
    "smtp_host": "smtp.example.com",
    "smtp_port": 587,
    "secure": True,
    "smtp_domain": "CORP",
    "smtp_username": "mailer@example.com",
    "smtp_password": "s3cret-Value",
    "from_address": "mailer@example.com",
    "from_display_name": "Orchestrator System Notifications",
    "timeout_ms": 180000,
}
GMAIL = {
    "partition_id": "6f1c2a4e-0b7d-4c1e-9a53-2f9d8e7c6b5a",
    "smtp_host": "smtp.gmail.com",
    "smtp_port": 587,
    "secure": True,
    "smtp_username": "finance@gmail.com",
    "smtp_password": "abcd efgh ijkl mnop",
    "from_address": "finance@gmail.com",
}
VALID = {"host": HOST, "organizations": {"finance": GMAIL, "hr": {"state": "absent"}}}


def with_(path, value, base=None):
    """A copy of ``base`` with ``path`` (dotted) set to ``value`` (``DELETE`` removes it)."""
    config = copy.deepcopy(VALID if base is None else base)
    parts = path.split(".")
    node = config
    for part in parts[:-1]:
        node = node[part]
    if value is DELETE:
        del node[parts[-1]]
    else:
        node[parts[-1]] = value
    return config


DELETE = object()

# (id, config, error path, words in the message, the JSON Schema alone also rejects it)
INVALID = [
    ("top-level not a mapping", ["host"], "", "must be a mapping", True),
    ("empty config", {}, "", "empty", True),
    ("unknown top-level key", with_("organisations", {}), "organisations", "did you mean 'organizations'", True),
    ("unknown host key", with_("host.smtp_hots", "x"), "host.smtp_hots", "did you mean 'smtp_host'", True),
    ("unknown org key", with_("organizations.finance.from_adress", "a@b.c"),
     "organizations.finance.from_adress", "did you mean 'from_address'", True),
    ("unknown key, no suggestion", with_("host.colour", "red"), "host.colour", "unknown key 'colour'", True),
    ("username without password", with_("host.smtp_password", DELETE), "host.smtp_password",
     "both, or neither", True),
    ("password without username", with_("host.smtp_username", DELETE), "host.smtp_username",
     "both, or neither", True),
    ("domain without username", with_("host.smtp_password", DELETE, with_("host.smtp_username", DELETE)),
     "host.smtp_domain", "only allowed together with smtp_username", True),
    ("port zero", with_("host.smtp_port", 0), "host.smtp_port", "1 to 65535", True),
    ("port too high", with_("host.smtp_port", 65536), "host.smtp_port", "1 to 65535", True),
    ("port as string", with_("host.smtp_port", "587"), "host.smtp_port", "must be an integer", True),
    ("port as bool", with_("host.smtp_port", True), "host.smtp_port", "must be an integer", True),
    ("secure false on 465", with_("host.secure", False, with_("host.smtp_port", 465)), "host.secure",
     "implicit TLS", True),
    ("secure not a bool", with_("host.secure", "yes"), "host.secure", "true or false", True),
    ("host with scheme", with_("host.smtp_host", "smtp://mail.example.com"), "host.smtp_host", "scheme", True),
    ("host with port", with_("host.smtp_host", "mail.example.com:587"), "host.smtp_host",
     "port in smtp_port", True),
    ("host with space", with_("host.smtp_host", "mail example.com"), "host.smtp_host", "not a valid host", True),
    ("host bad label", with_("host.smtp_host", "-bad-.example.com"), "host.smtp_host", "not a valid host", True),
    ("host broken IPv4", with_("host.smtp_host", "10.0.0.300"), "host.smtp_host", "not a valid host", False),
    ("host bracketed IPv6", with_("host.smtp_host", "[::1]"), "host.smtp_host", "without brackets", True),
    ("host bad IPv6", with_("host.smtp_host", "fe80::1::2"), "host.smtp_host", "not a valid host", False),
    ("host missing", with_("host.smtp_host", DELETE), "host.smtp_host", "is required", True),
    ("from missing", with_("host.from_address", DELETE), "host.from_address", "is required", True),
    ("from not an address", with_("host.from_address", "mailer"), "host.from_address",
     "not a valid email address", True),
    ("from with display name", with_("host.from_address", "Mailer <mailer@example.com>"),
     "host.from_address", "without a display name", True),
    ("LF in display name", with_("host.from_display_name", "Ops\nBcc: x@evil.example"),
     "host.from_display_name", "line break", True),
    ("CR in username", with_("host.smtp_username", "a\rb"), "host.smtp_username", "line break", True),
    ("LF in password", with_("host.smtp_password", "pass\nword"), "host.smtp_password", "line break", True),
    ("display name too long", with_("host.from_display_name", "x" * 257), "host.from_display_name",
     "at most 256", True),
    ("empty string", with_("host.smtp_domain", ""), "host.smtp_domain", "must not be empty", True),
    ("null value", with_("host.smtp_domain", None), "host.smtp_domain", "must not be null", True),
    ("masked password", with_("host.smtp_password", "********"), "host.smtp_password", "masked value", False),
    ("timeout zero", with_("host.timeout_ms", 0), "host.timeout_ms", "from 1 to", True),
    ("gmail not secure", with_("organizations.finance.secure", False), "organizations.finance.secure",
     "must be true for Gmail", True),
    ("gmail port 25", with_("organizations.finance.smtp_port", 25), "organizations.finance.smtp_port",
     "587 (STARTTLS) or 465", True),
    ("gmail anonymous", with_("organizations.finance.smtp_password", DELETE,
                              with_("organizations.finance.smtp_username", DELETE)),
     "organizations.finance.smtp_username", "required for Gmail", True),
    ("gmail from differs", with_("organizations.finance.from_address", "other@example.com"),
     "organizations.finance.from_address", "same as smtp_username", False),
    ("gmail bad alias", with_("organizations.finance.gmail_send_as", ["not-an-address"]),
     "organizations.finance.gmail_send_as[0]", "valid email address", True),
    ("absent with settings", with_("organizations.hr.smtp_host", "smtp.example.com"),
     "organizations.hr.smtp_host", "not allowed with state: absent", True),
    ("bad state", with_("organizations.hr.state", "gone"), "organizations.hr.state", "'present' or 'absent'",
     True),
    ("empty org name", with_("organizations.", {"state": "absent"}), "organizations.", "non-empty", True),
    ("blank org name", with_("organizations.  ", {"state": "absent"}), "organizations.  ", "non-empty", True),
    ("org not a mapping", with_("organizations.ops", "smtp.example.com"), "organizations.ops",
     "must be a mapping", True),
    ("organizations not a mapping", with_("organizations", ["finance"]), "organizations",
     "must be a mapping", True),
    ("host not a mapping", with_("host", "smtp.example.com"), "host", "must be a mapping", True),
    ("bad partition id", with_("organizations.finance.partition_id", "finance"),
     "organizations.finance.partition_id", "GUID", True),
    ("state on host", with_("host.state", "absent"), "host.state", "unknown key 'state' in host", True),
]


@pytest.mark.parametrize("config,path,words,schema_rejects", [c[1:] for c in INVALID],
                         ids=[c[0] for c in INVALID])
def test_invalid_config_names_path_and_rule(config, path, words, schema_rejects):
    errors, _warnings, normalized = validate_config(config)
    assert normalized is None
    matching = [e for e in errors if e["path"] == path]
    assert matching, "no error at %r; got %r" % (path, errors)
    assert any(words in e["message"] for e in matching), matching


@pytest.mark.parametrize("config,schema_rejects", [(c[1], c[4]) for c in INVALID], ids=[c[0] for c in INVALID])
def test_schema_agrees_where_it_can(config, schema_rejects):
    validator = jsonschema.Draft202012Validator(build_schema())
    if schema_rejects:
        assert list(validator.iter_errors(config)), "the JSON Schema accepted an invalid config"


def test_every_error_reported_at_once():
    config = with_("host.smtp_port", 0, with_("host.smtp_hots", "x", with_("organizations.finance.secure", False)))
    errors, _w, _n = validate_config(config)
    assert {e["path"] for e in errors} >= {"host.smtp_port", "host.smtp_hots", "organizations.finance.secure"}


def test_secrets_never_in_messages():
    for value in ("pass\nword", "********", 12345):
        errors, _w, _n = validate_config(with_("host.smtp_password", value))
        assert errors
        for error in errors:
            assert str(value) not in error["message"] or value == "********"


VALID_CASES = [
    ("full", VALID),
    ("host only, anonymous", {"host": {"smtp_host": "10.1.2.3", "smtp_port": 25, "secure": False,
                                       "from_address": "noreply@example.com"}}),
    ("organizations only", {"organizations": {"hr": {"state": "absent"}}}),
    ("IPv6 host", {"host": {"smtp_host": "2001:db8::25", "from_address": "a@example.com"}}),
    ("googlemail on 465 with alias", {"host": {
        "smtp_host": "smtp.googlemail.com", "smtp_port": 465, "secure": True, "smtp_username": "me@gmail.com",
        "smtp_password": "abcdabcdabcdabcd", "from_address": "alias@example.com",
        "gmail_send_as": ["alias@example.com"]}}),
    ("empty organizations", {"host": HOST, "organizations": {}}),
    ("org without state", {"organizations": {"x": {"smtp_host": "relay", "from_address": "x@relay"}}}),
]


@pytest.mark.parametrize("config", [c[1] for c in VALID_CASES], ids=[c[0] for c in VALID_CASES])
def test_valid_configs_pass_both_validators(config):
    errors, _warnings, normalized = validate_config(config)
    assert errors == []
    assert normalized is not None
    jsonschema.Draft202012Validator(build_schema()).validate(config)


def test_defaults_applied():
    _e, _w, normalized = validate_config({"host": {"smtp_host": "relay.example.com", "from_address": "a@example.com"}})
    assert normalized["host"]["settings"] == {
        "smtp_host": "relay.example.com", "from_address": "a@example.com", "smtp_port": 587, "secure": True,
        "use_default_credentials": False}


def test_port_25_with_secure_is_a_warning_not_an_error():
    errors, warnings, normalized = validate_config(with_("host.smtp_port", 25))
    assert errors == [] and normalized is not None
    assert len(warnings) == 1 and warnings[0].startswith("host.smtp_port:")


def test_normalized_orgs_and_partition_ids():
    _e, _w, normalized = validate_config(VALID)
    assert normalized["organizations"]["hr"] == {"state": "absent", "settings": None, "partition_id": None}
    assert normalized["organizations"]["finance"]["partition_id"] == GMAIL["partition_id"]
    assert "partition_id" not in normalized["organizations"]["finance"]["settings"]


@pytest.mark.parametrize("value,ok", [
    ("smtp.example.com", True), ("localhost", True), ("127.0.0.1", True), ("::1", True),
    ("mail_relay.corp.local", True), ("smtp.example.com.", True), ("a" * 64 + ".com", False),
    ("smtp..example.com", False), ("256.1.1.1", False), ("", False), ("exa mple.com", False),
])
def test_valid_hostname(value, ok):
    assert valid_hostname(value) is ok


@pytest.mark.parametrize("value,ok", [
    ("a@example.com", True), ("first.last+tag@sub.example.co", True), ("ops@localhost", True),
    ("a@@example.com", False), ("@example.com", False), ("a@", False), ("a b@example.com", False),
    ("a@example.com\n", False),
])
def test_valid_email(value, ok):
    assert valid_email(value) is ok


def test_scope_config_builds_one_scope():
    assert scope_config({"smtp_host": "h", "smtp_port": None}) == {"host": {"smtp_host": "h"}}
    assert scope_config({"smtp_host": "h"}, "fin", "absent", "guid") == {
        "organizations": {"fin": {"state": "absent", "partition_id": "guid"}}}


def test_collect_secrets_finds_every_password():
    assert sorted(collect_secrets(VALID)) == sorted([HOST["smtp_password"], GMAIL["smtp_password"]])
    assert collect_secrets("nonsense") == []


def test_committed_schema_is_generated_from_the_field_table():
    with open(SCHEMA_FILE) as handle:
        committed = json.load(handle)
    assert committed == build_schema(), "schemas/email-settings.schema.json is stale: run `make schema`"
    jsonschema.Draft202012Validator.check_schema(committed)


def test_schema_has_title_and_description_on_every_property():
    def walk(node, path):
        if isinstance(node, dict):
            for name, prop in node.get("properties", {}).items():
                if isinstance(prop, dict) and "$ref" not in prop and "const" not in prop:
                    assert prop.get("description"), "%s.%s has no description" % (path, name)
            for key, value in node.items():
                if key not in ("allOf", "anyOf", "if", "then", "not"):
                    walk(value, path + "/" + key)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, "%s[%d]" % (path, i))
    walk(build_schema(), "#")


@pytest.mark.parametrize("password,warns", [
    ("abcd efgh ijkl mnop", False), ("abcdefghijklmnop", False), ("my-Account-pass1", True), ("short", True),
])
def test_gmail_app_password_warning(password, warns):
    errors, warnings, _n = validate_config(with_("organizations.finance.smtp_password", password))
    assert errors == []
    found = [w for w in warnings if w.startswith("organizations.finance.smtp_password:")]
    assert bool(found) is warns
    if found:
        assert "less secure apps" in found[0] and password not in found[0]
