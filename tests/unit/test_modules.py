"""Module main() with patched args, asserting on the JSON it prints; and docs/argspec agreement."""
import importlib
import json

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args

from ansible_collections.mailops.orchestrator_email.plugins.doc_fragments.store import ModuleDocFragment
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._argspec import STORE_ARGSPEC

MODULES = "ansible_collections.mailops.orchestrator_email.plugins.modules."
SECRET = "Unit-Test-Secret-42"


def run_module(name, args, capsys, check_mode=False, diff=False):
    module = importlib.import_module(MODULES + name)
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args):
        with pytest.raises(SystemExit) as info:
            module.main()
    out = capsys.readouterr().out
    return info.value.code, json.loads(out), out


def test_store_doc_fragment_matches_argspec():
    doc = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    assert sorted(doc) == sorted(STORE_ARGSPEC)
    for name, spec in STORE_ARGSPEC.items():
        assert doc[name]["type"] == spec["type"], name
        assert doc[name].get("default") == spec.get("default"), name
        assert doc[name].get("choices") == spec.get("choices"), name
        description = " ".join(doc[name]["description"])
        if "fallback" in spec:
            env = spec["fallback"][1][0]
            assert env in description, "%s: doc does not name %s" % (name, env)
        else:
            assert "environment variable is used" not in description, name
        assert bool(spec.get("no_log")) == (name in ("client_secret", "host_admin_password")), name
        for sub, subspec in (spec.get("options") or {}).items():
            assert doc[name]["suboptions"][sub]["type"] == subspec["type"], (name, sub)
            assert bool(doc[name]["suboptions"][sub].get("required")) == bool(subspec.get("required")), (name, sub)
        assert sorted(doc[name].get("suboptions") or {}) == sorted(spec.get("options") or {}), name
    assert STORE_ARGSPEC["organization_clients"]["options"]["client_secret"]["no_log"] is True


@pytest.mark.parametrize("name", ["settings", "settings_info", "validate"])
def test_module_docs_list_every_option(name):
    module = importlib.import_module(MODULES + name)
    doc = yaml.safe_load(module.DOCUMENTATION)
    yaml.safe_load(module.EXAMPLES)
    yaml.safe_load(module.RETURN)
    assert doc["module"] == name


def test_settings_check_mode_then_apply(tmp_path, capsys):
    store = str(tmp_path / "s.db")
    args = {"store_path": store, "config": {"host": {
        "smtp_host": "smtp.example.com", "smtp_username": "u", "smtp_password": SECRET,
        "from_address": "u@example.com"}}}
    rc, result, out = run_module("settings", args, capsys, check_mode=True, diff=True)
    assert rc == 0 and result["changed"] is True
    assert SECRET not in out
    assert result["diff"][0]["after"]["smtp_password"] == "******** (changed)"
    assert not (tmp_path / "s.db").exists()
    rc, result, out = run_module("settings", args, capsys)
    assert rc == 0 and result["changed"] is True and "diff" not in result
    assert SECRET not in out
    rc, result, _out = run_module("settings", args, capsys)
    assert result["changed"] is False and result["summary"]["scopes_unchanged"] == 1


def test_settings_invalid_config_fails_with_every_error(tmp_path, capsys):
    args = {"store_path": str(tmp_path / "s.db"), "config": {"host": {
        "smtp_host": "bad host", "smtp_password": SECRET, "from_address": "x"}}}
    rc, result, out = run_module("settings", args, capsys)
    assert rc == 1 and result["failed"] is True
    assert result["cause"] == "invalid_config"
    assert {e["path"] for e in result["errors"]} == {"host.smtp_host", "host.smtp_username", "host.from_address"}
    assert SECRET not in out
    assert not (tmp_path / "s.db").exists()


def test_settings_flat_absent_host_is_refused(tmp_path, capsys):
    rc, result, _out = run_module("settings", {"store_path": str(tmp_path / "s.db"), "state": "absent"}, capsys)
    assert rc == 1 and result["errors"][0]["path"] == "state"


def test_settings_flat_absent_with_settings_is_refused(tmp_path, capsys):
    rc, result, _out = run_module("settings", {"store_path": str(tmp_path / "s.db"), "state": "absent",
                                               "organization": "x", "smtp_host": "h"}, capsys)
    assert rc == 1 and result["errors"][0]["path"] == "smtp_host"


def test_exclusive_needs_config(tmp_path, capsys):
    rc, result, _out = run_module("settings", {"store_path": str(tmp_path / "s.db"), "exclusive": True,
                                               "smtp_host": "h", "from_address": "a@b.c"}, capsys)
    assert rc == 1 and result["errors"][0]["path"] == "exclusive"


def test_settings_info_never_creates_the_store(tmp_path, capsys):
    rc, result, _out = run_module("settings_info", {"store_path": str(tmp_path / "s.db"), "history": 5}, capsys)
    assert rc == 0 and result["changed"] is False
    assert result["host"] == {"configured": False, "settings": {}, "password_set": False, "mailer": None}
    assert result["history"] == []
    assert not (tmp_path / "s.db").exists()


def test_validate_with_fail_on_error_false(capsys):
    config = {"host": {"smtp_host": "h", "from_address": "a@b.c", "smtp_password": SECRET}}
    rc, result, out = run_module("validate", {"config": config, "fail_on_error": False}, capsys)
    assert rc == 0 and result["valid"] is False and result["changed"] is False
    assert result["errors"] == [{"path": "host.smtp_username", "message":
                                 "is required when smtp_password is set (give both, or neither for anonymous)"}]
    assert SECRET not in out


def test_validate_reads_json_file(tmp_path, capsys):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"organizations": {"hr": {"state": "absent"}}}))
    rc, result, _out = run_module("validate", {"path": str(path)}, capsys)
    assert rc == 0 and result["valid"] is True and result["organizations"] == ["hr"]


def test_validate_missing_file_is_a_clear_error(tmp_path, capsys):
    rc, result, _out = run_module("validate", {"path": str(tmp_path / "nope.yml")}, capsys)
    assert rc == 1 and result["cause"] == "file_error" and "cannot read" in result["msg"]
