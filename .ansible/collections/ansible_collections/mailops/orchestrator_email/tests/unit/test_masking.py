"""Masker gives the same output as AnsibleModule's remove_values, in linear time."""
import time

import pytest
from ansible.module_utils.common.parameters import remove_values

from ansible_collections.mailops.orchestrator_email.plugins.module_utils._masking import Masker

SECRETS = {"hunter2", "pw", "Secret-Value-1", "abc abc"}


@pytest.mark.parametrize("value", [
    "hunter2", "my hunter2 is hunter2!", "pwpw", "no secret here", "Secret-Value-1/hunter2",
    {"a": ["hunter2", {"k": "x Secret-Value-1 y"}], "b": 5, "c": None, "d": True},
    ["abc abc abc", ("pw", "x")], "", "p", "Secret-Value-12",
])
def test_same_output_as_ansible(value):
    assert Masker(SECRETS).mask(value) == remove_values(value, SECRETS)


def test_keys_are_masked_too():
    assert Masker(SECRETS).mask({"hunter2": 1}) == {"VALUE_SPECIFIED_IN_NO_LOG_PARAMETER": 1}


def test_no_secrets_is_identity():
    assert Masker(set()).mask({"a": "b"}) == {"a": "b"}


def test_linear_time_with_many_secrets():
    secrets = set("password-%05d-x" % i for i in range(10000))
    result = {"rows": [{"scope": "organizations.org%05d" % i, "after": "******** (changed)",
                        "note": "uses password-%05d-x" % i} for i in range(10000)]}
    start = time.time()
    masked = Masker(secrets).mask(result)
    assert time.time() - start < 5
    assert masked["rows"][7]["note"] == "uses ********"
    assert "password-" not in repr(masked)
