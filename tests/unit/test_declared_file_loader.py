"""The controller's fast YAML loader returns exactly what PyYAML's safe loader returns, or defers to it."""
import datetime

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.mailops.orchestrator_email.plugins.module_utils._validation import (
    DuplicateKeyError,
    duplicate_checking_loader,
)
from ansible_collections.mailops.orchestrator_email.plugins.plugin_utils._declared_file import (
    DeclaredFileError,
    _fast_load,
    _Unsupported,
)

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20),
                    st.sampled_from(["yes", "No", "on", "~", "0x1F", "0o17", "1_000", ".inf", "2001-12-14", "=", "<<",
                                     "{{ vault_pw }}", "{% if x %}", "", " ", "a: b", "- x", "#", "'", '"']),
                    st.dates())
KEYS = st.one_of(st.text(max_size=8), st.integers())
DATA = st.recursive(SCALARS, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(KEYS, children, max_size=5)), max_leaves=25)


def same_as_pyyaml(raw):
    try:
        expected = ("ok", yaml.load(raw, Loader=LOADER))  # nosec B506 - a safe loader
    except yaml.YAMLError as exc:
        expected = ("error", str(exc))
    try:
        data, templated = _fast_load(raw)
    except _Unsupported:
        return None
    except DeclaredFileError:
        # a key twice in one mapping (PyYAML keeps the last): the checking loader refuses it too
        with pytest.raises(DuplicateKeyError):
            yaml.load(raw, Loader=duplicate_checking_loader(LOADER))  # nosec B506 - a safe loader
        return None
    except yaml.YAMLError as exc:
        assert expected == ("error", str(exc))
        return None
    assert expected[0] == "ok" and repr(data) == repr(expected[1])
    return templated


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DATA, st.sampled_from([None, False, True]))
def test_same_data_as_pyyaml(data, flow):
    raw = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True).encode("utf-8")
    same_as_pyyaml(raw)


@pytest.mark.parametrize("raw", [
    b"", b"---\n", b"a: 1\na: 2\nb: 3\n", b"[1, 2.5, .inf, 0x1F, 0o17, 2001-12-14t21:59:43.10-05:00, ~, Null, yes, OFF]\n",
    b"{1: a, true: b, null: c, 1.5: d}\n", b"a: |\n  two\n  lines\n", b"a: b: c\n", b"a: [1\n",
    b"a: &x 1\nb: *x\n", b"<<: {a: 1}\n", b"a: !!str 1\n", b"a: ! 1\n", b"- a\n---\n- b\n", b"? [1]\n: x\n", b"a: =\n",
])
def test_edge_cases(raw):
    same_as_pyyaml(raw)


def test_templated_strings_are_detected():
    assert same_as_pyyaml(b"host: {smtp_password: '{{ vault_pw }}'}\n") is True
    assert same_as_pyyaml(b"a: ['{% raw %}']\n") is True
    assert same_as_pyyaml(b'a: "\\x7b\\x7b x }}"\n') is True  # an escaped "{{" is still rendered
    assert same_as_pyyaml(b"host: {smtp_host: relay.example.com, smtp_port: 587}\n") is False
    assert _fast_load(b"d: 2001-12-14\n")[0] == {"d": datetime.date(2001, 12, 14)}


@pytest.mark.parametrize("raw,path", [
    (b"a: 1\na: 2\nb: 3\n", "a"),
    (b"organizations:\n  fin: {smtp_host: a}\n  fin: {smtp_host: b}\n", "organizations.fin"),
    (b"organizations:\n  fin:\n    smtp_port: 25\n    smtp_port: 587\n", "organizations.fin.smtp_port"),
    (b"l:\n- {x: 1, x: 2}\n", "l[0].x"),
])
def test_a_key_twice_is_refused_with_its_path(raw, path):
    with pytest.raises(DeclaredFileError) as info:
        _fast_load(raw)
    assert info.value.errors[0]["path"] == path and "appears twice" in info.value.errors[0]["message"]
    with pytest.raises(DuplicateKeyError):  # the loader used for anchors, tags and vault files agrees
        yaml.load(raw, Loader=duplicate_checking_loader(LOADER))  # nosec B506 - a safe loader
