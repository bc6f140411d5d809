"""What a module logs on the managed host (journald/syslog) when it starts: no secret, and the same
message AnsibleModule's own masking gives (the module masks parameters in linear time instead)."""
import json

import pytest
from ansible.module_utils import basic
from ansible.module_utils.basic import heuristic_log_sanitize
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.testing import patch_module_args

from ansible_collections.mailops.orchestrator_email.plugins.module_utils import _module
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._argspec import STORE_ARGSPEC

SECRET = "Log-Probe-Secret-7"


@pytest.mark.parametrize("as_json", [False, True])
def test_invocation_log_is_masked_like_ansible(monkeypatch, tmp_path, as_json):
    logged = []
    monkeypatch.setattr(basic.AnsibleModule, "log", lambda self, msg, log_args=None: logged.append((msg, log_args)))
    config = {"host": {"smtp_host": "smtp.example.com", "smtp_username": "u", "smtp_password": SECRET,
                       "from_address": "u@example.com"},
              "organizations": {"org%d" % i: {"smtp_host": "relay.example.com", "smtp_username": "u%d" % i,
                                              "smtp_password": "%s-%d" % (SECRET, i), "from_address": "o@example.com"}
                                for i in range(50)}}
    spec = dict(STORE_ARGSPEC, config={"type": "raw"}, note={"type": "str"})
    args = {"store_path": str(tmp_path / "s.db"), "config": json.dumps(config) if as_json else config,
            "note": "sent with %s-3 inside" % SECRET}
    with patch_module_args(args):
        module = _module.new_module(spec)
    assert len(logged) == 1
    msg, log_args = logged[0]
    assert SECRET not in msg and SECRET not in json.dumps(log_args)
    assert log_args["note"] == "sent with ******** inside"
    assert log_args["config"] == "(declared configuration: host, 50 organization(s))"
    # what AnsibleModule would log for the same parameters (heuristic, then remove_values)
    shown = _module.compact_invocation(module.params)["module_args"]
    for name, value in shown.items():
        if STORE_ARGSPEC.get(name, {}).get("no_log"):
            continue
        text = value if isinstance(value, str) else str(value)
        assert log_args[name] == remove_values(heuristic_log_sanitize(text), module.no_log_values), name
    assert msg == "Invoked with " + " ".join("%s=%s" % item for item in log_args.items())
