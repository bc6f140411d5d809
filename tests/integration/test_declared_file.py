"""A declared file is data, not code (issue 11): validate never renders or runs anything from it,
settings renders plain variable references only unless the task opts in, and errors about a secret
field never quote it."""
import os

from tests.lib.backends import SqliteBackend, render_play

SECRET = "Decl-File-Secret-61"


def write(ansible, name, text):
    path = os.path.join(ansible.workdir, name)
    with open(path, "w") as handle:
        handle.write(text)
    return path


def test_validate_never_runs_a_lookup_and_settings_refuses_it_unless_opted_in(ansible, tmp_path):
    marker = tmp_path / "PWNED"
    store = SqliteBackend(str(tmp_path))
    hostile = write(ansible, "hostile.yml", (
        "host:\n  smtp_host: smtp.example.com\n  from_address: a@example.com\n"
        "  from_display_name: \"{{ lookup('pipe', 'touch %s && echo Ops') }}\"\n" % marker))
    tasks = [
        {"name": "validate", "mailops.orchestrator_email.validate": {"path": hostile, "fail_on_error": False}},
        {"name": "settings", "mailops.orchestrator_email.settings": {"path": hostile}, "ignore_errors": True},
    ]
    result = ansible.playbook(render_play(tasks, store.module_defaults))
    assert result.rc == 0, result
    assert not marker.exists(), "a declared file ran a command on the controller"
    assert result.task("validate")["valid"] is True  # the expression is only text to validate
    refused = result.task("settings")
    assert refused["cause"] == "invalid_config", refused
    assert refused["errors"][0]["path"] == "host.from_display_name"
    assert "allow_expressions" in refused["errors"][0]["message"]
    assert store.snapshot() is None, "a refused file wrote to the store"
    opted_in = ansible.playbook(render_play([{"name": "settings", "mailops.orchestrator_email.settings": {
        "path": hostile, "allow_expressions": True}}], store.module_defaults))
    assert opted_in.rc == 0, opted_in
    assert marker.exists(), "allow_expressions: true renders the lookup, as documented"


def test_plain_references_are_rendered_and_a_secret_s_expression_is_never_quoted(ansible, tmp_path):
    store = SqliteBackend(str(tmp_path))
    good = write(ansible, "good.yml", (
        "host:\n  smtp_host: smtp.example.com\n  from_address: a@example.com\n  smtp_username: u\n"
        "  smtp_password: \"{{ vault_pw }}\"\n  from_display_name: \"{{ names['display'] }}\"\n"))
    jinja_like = write(ansible, "jinja-like.yml", (
        "host:\n  smtp_host: smtp.example.com\n  from_address: a@example.com\n  smtp_username: u\n"
        "  smtp_password: \"Qx{{Frag1Secret-77}}\"\n"))
    undefined = write(ansible, "undefined.yml", (
        "host:\n  smtp_host: smtp.example.com\n  from_address: a@example.com\n  smtp_username: u\n"
        "  smtp_password: \"{{ Frag2Secret }}\"\n"))
    tasks = [
        {"name": "good", "mailops.orchestrator_email.settings": {"path": good}},
        {"name": "jinja-like", "mailops.orchestrator_email.settings": {"path": jinja_like}, "ignore_errors": True},
        {"name": "undefined", "mailops.orchestrator_email.settings": {"path": undefined}, "ignore_errors": True},
    ]
    play = render_play(tasks, store.module_defaults, extra={"vars": {"vault_pw": SECRET,
                                                                     "names": {"display": "Ops"}}})
    result = ansible.playbook(play, verbosity=2)
    assert result.rc == 0, result
    assert result.task("good")["changed"] is True
    stored = store.read_back()["host"]
    assert stored["Email.Smtp.Password"] == SECRET and stored["Email.Smtp.FromDisplayName"] == "Ops"
    for name in ("jinja-like", "undefined"):
        failure = result.task(name)
        assert failure["cause"] == "invalid_config" and failure["errors"][0]["path"] == "host.smtp_password"
    assert "Frag1Secret" not in result.output and "Frag2Secret" not in result.output.replace(undefined, "")


def test_yaml_that_is_not_plain_data_is_refused_before_anything_is_written(ansible, tmp_path):
    store = SqliteBackend(str(tmp_path))
    cases = {
        "twice.yml": ("organizations:\n  fin: {smtp_host: a.example.com, from_address: a@example.com}\n"
                      "  fin: {smtp_host: b.example.com, from_address: b@example.com}\n", "organizations.fin"),
        "names.yml": ("organizations:\n  no: {state: absent}\n", "organizations.False"),
        "date.yml": ("host: {smtp_host: a.example.com, from_address: a@example.com, from_display_name: 2024-01-01}\n",
                     "host.from_display_name"),
        "nul.yml": ("host: {smtp_host: a.example.com, from_address: a@example.com, smtp_domain: \"C\\0D\"}\n",
                    "host.smtp_domain"),
    }
    tasks = []
    for name, (text, _path) in cases.items():
        tasks.append({"name": name, "mailops.orchestrator_email.settings": {"path": write(ansible, name, text)},
                      "ignore_errors": True})
    result = ansible.playbook(render_play(tasks, store.module_defaults))
    for name, (_text, path) in cases.items():
        failure = result.task(name)
        assert failure.get("cause") == "invalid_config", (name, failure.get("msg"))
        assert path in [e["path"] for e in failure["errors"]], (name, failure["errors"])
    assert store.snapshot() is None
