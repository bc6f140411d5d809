"""Property: whatever YAML-shaped data the validator gets, it answers errors or success, never raises."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.mailops.orchestrator_email.plugins.module_utils._fields import FIELD_NAMES
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._validation import validate_config

KEYS = st.sampled_from(list(FIELD_NAMES) + ["host", "organizations", "state", "partition_id", "gmail_send_as",
                                            "smtp_hots", "", "x"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10, 70000), st.floats(allow_nan=True),
                    st.text(max_size=30), st.sampled_from(["smtp.gmail.com", "a@b.c", "absent", "present",
                                                           "********", "x\ny", "127.0.0.1", "::1"]))
YAMLISH = st.recursive(SCALARS, lambda children: st.one_of(
    st.lists(children, max_size=4),
    st.dictionaries(st.one_of(KEYS, st.integers(), st.booleans()), children, max_size=6)), max_leaves=30)
CONFIGS = st.one_of(YAMLISH, st.fixed_dictionaries({}, optional={
    "host": st.dictionaries(KEYS, SCALARS, max_size=10),
    "organizations": st.dictionaries(st.text(max_size=8),
                                     st.one_of(st.none(), st.dictionaries(KEYS, SCALARS, max_size=10)),
                                     max_size=4)}))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(CONFIGS)
def test_validator_never_raises(config):
    errors, warnings, normalized = validate_config(config)
    assert isinstance(errors, list) and isinstance(warnings, list)
    for error in errors:
        assert set(error) == {"path", "message"}
        assert isinstance(error["path"], str) and error["message"]
    assert (normalized is None) == bool(errors)
    if normalized is not None:
        assert set(normalized) == {"host", "organizations"}
