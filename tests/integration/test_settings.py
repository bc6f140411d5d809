"""settings / settings_info / validate through real ansible-playbook runs, once per store backend.

Sequence per STYLE.md: check mode (changed, nothing written), real run (changed), independent
read-back, second run (not changed); plus bad input (nothing written, path named) and no secret in
-vvv output.
"""
import json

from tests.lib.backends import render_play

PASSWORD = "Pa55-Integration-Secret!7f3"
ORG_PASSWORD = "abcd efgh ijkl mnop"
NEW_PASSWORD = "Rotated-Secret-99x"


def declared(store, password=PASSWORD, finance_port=587):
    finance = {
        "smtp_host": "smtp.gmail.com",
        "smtp_port": finance_port,
        "secure": True,
        "smtp_username": "finance.robots@gmail.com",
        "smtp_password": ORG_PASSWORD,
        "from_address": "finance.robots@gmail.com",
        "from_display_name": "Finance Robots",
    }
    finance.update(store.org_extra("finance"))
    hr = {"state": "absent"}
    hr.update(store.org_extra("hr"))
    return {
        "host": {
            "smtp_host": "smtp.example.com",
            "smtp_port": 587,
            "secure": True,
            "smtp_domain": "CORP",
            "smtp_username": "mailer@example.com",
            "smtp_password": password,
            "from_address": "mailer@example.com",
            "from_display_name": "Orchestrator System Notifications",
            "timeout_ms": 180000,
        },
        "organizations": {"finance": finance, "hr": hr},
    }


def apply_play(store, config, **task_extra):
    task = {"name": "apply", "mailops.orchestrator_email.settings": {"config": config}}
    task["mailops.orchestrator_email.settings"].update(task_extra)
    return render_play([task], store.module_defaults)


EXPECTED_HOST = {
    "Email.Smtp.Host": "smtp.example.com",
    "Email.Smtp.Port": "587",
    "Email.Smtp.EnableSsl": "true",
    "Email.Smtp.Domain": "CORP",
    "Email.Smtp.UserName": "mailer@example.com",
    "Email.Smtp.FromEmail": "mailer@example.com",
    "Email.Smtp.FromDisplayName": "Orchestrator System Notifications",
    "Email.Smtp.ConnectionTimeout": "180000",
    "Email.Smtp.UseDefaultCredentials": "false",
}


def without_password(scope):
    return dict((k, v) for k, v in scope.items() if k != "Email.Smtp.Password")


def assert_no_secret(result, *secrets):
    for secret in secrets:
        assert secret not in result.output, "a secret leaked into ansible-playbook output"
        assert secret not in json.dumps(result.records), "a secret leaked into a task result"


def test_apply_sequence(store, ansible):
    play = ansible.write(apply_play(store, declared(store)))

    check = ansible.playbook(play, check=True, diff=True, verbosity=3)
    assert check.rc == 0, check
    result = check.task("apply")
    assert result["changed"] is True
    assert {c["scope"] for c in result["changes"]} == {"host", "organizations.finance"}
    assert store.snapshot() is None or store.read_back() == {}, "check mode wrote to the store"
    assert_no_secret(check, PASSWORD, ORG_PASSWORD)
    assert "******** (changed)" in check.output

    real = ansible.playbook(play, diff=True, verbosity=3)
    assert real.rc == 0, real
    assert real.task("apply")["changed"] is True
    assert real.task("apply")["summary"]["scopes_changed"] == 2
    assert_no_secret(real, PASSWORD, ORG_PASSWORD)

    stored = store.read_back()
    assert without_password(stored["host"]) == EXPECTED_HOST
    assert stored["organizations.finance"]["Email.Smtp.Host"] == "smtp.gmail.com"
    assert stored["organizations.finance"]["Email.Smtp.FromDisplayName"] == "Finance Robots"
    assert "organizations.hr" not in stored
    if store.password_readable:
        assert stored["host"]["Email.Smtp.Password"] == PASSWORD
        assert stored["organizations.finance"]["Email.Smtp.Password"] == ORG_PASSWORD

    again = ansible.playbook(play, diff=True, verbosity=3)
    assert again.rc == 0, again
    assert again.task("apply")["changed"] is False
    assert again.task("apply")["changes"] == []
    assert_no_secret(again, PASSWORD, ORG_PASSWORD)

    # Check mode on a converged store: the drift check says "no drift".
    drift = ansible.playbook(play, check=True, diff=True)
    assert drift.task("apply")["changed"] is False


def test_settings_info_reports_effective_settings(store, ansible):
    assert ansible.playbook(apply_play(store, declared(store))).rc == 0
    tasks = [
        {"name": "all", "mailops.orchestrator_email.settings_info": {}},
        {"name": "one", "mailops.orchestrator_email.settings_info": dict(
            {"organization": "hr"}, **store.org_extra("hr"))},
    ]
    result = ansible.playbook(render_play(tasks, store.module_defaults), verbosity=3)
    assert result.rc == 0, result
    one = result.task("one")
    assert one["changed"] is False
    assert one["organizations"]["hr"]["configured"] is False
    assert one["organizations"]["hr"]["effective_source"] == "host"
    assert one["organizations"]["hr"]["effective"]["smtp_host"] == "smtp.example.com"
    assert one["organizations"]["hr"]["effective"]["smtp_password"] == "********"
    assert one["host"]["password_set"] is True
    assert one["host"]["settings"]["smtp_port"] == 587
    if store.name == "sqlite":
        listed = result.task("all")["organizations"]
        assert sorted(listed) == ["finance"]
        assert listed["finance"]["effective_source"] == "organization"
        assert listed["finance"]["effective"]["smtp_host"] == "smtp.gmail.com"
    assert_no_secret(result, PASSWORD, ORG_PASSWORD)


def test_bad_config_fails_with_path_and_writes_nothing(store, ansible):
    assert ansible.playbook(apply_play(store, declared(store))).rc == 0
    before = store.snapshot()
    before_rows = store.read_back()
    bad = declared(store, password=NEW_PASSWORD)
    bad["host"]["smtp_port"] = 587  # host change that would be written if validation were partial
    bad["host"]["from_display_name"] = "Changed"
    bad["organizations"]["finance"]["smtp_port"] = 70000
    bad["organizations"]["ops"] = dict({"smtp_hots": "smtp.example.com", "from_address": "ops@example.com"},
                                       **store.org_extra("ops"))
    result = ansible.playbook(apply_play(store, bad), verbosity=3)
    assert result.rc != 0
    failure = result.task("apply")
    assert failure["cause"] == "invalid_config"
    paths = {e["path"] for e in failure["errors"]}
    assert "organizations.finance.smtp_port" in paths
    assert "organizations.ops.smtp_hots" in paths
    assert "did you mean 'smtp_host'" in failure["msg"]
    assert "nothing was written" in failure["msg"]
    assert store.snapshot() == before, "a failed validation changed the store"
    assert store.read_back() == before_rows
    assert_no_secret(result, PASSWORD, ORG_PASSWORD, NEW_PASSWORD)


def test_flat_options_one_scope_at_a_time(store, ansible):
    host = {"name": "host", "mailops.orchestrator_email.settings": {
        "smtp_host": "10.0.0.25", "smtp_port": 25, "secure": False,
        "from_address": "orchestrator@example.com"}}
    org = {"name": "org", "mailops.orchestrator_email.settings": dict({
        "organization": "finance", "smtp_host": "smtp.example.net", "smtp_port": 465, "secure": True,
        "smtp_username": "fin", "smtp_password": PASSWORD, "from_address": "fin@example.net"},
        **store.org_extra("finance"))}
    remove = {"name": "remove", "mailops.orchestrator_email.settings": dict(
        {"organization": "finance", "state": "absent"}, **store.org_extra("finance"))}
    play = ansible.write(render_play([host, org], store.module_defaults))
    first = ansible.playbook(play, diff=True, verbosity=3)
    assert first.rc == 0, first
    assert first.task("host")["changed"] and first.task("org")["changed"]
    stored = store.read_back()
    assert stored["host"]["Email.Smtp.Host"] == "10.0.0.25"
    assert stored["host"]["Email.Smtp.EnableSsl"] == "false"
    assert "Email.Smtp.UserName" not in stored["host"]
    assert stored["organizations.finance"]["Email.Smtp.Port"] == "465"
    second = ansible.playbook(play)
    assert not second.task("host")["changed"] and not second.task("org")["changed"]
    assert_no_secret(first, PASSWORD)

    gone = ansible.playbook(render_play([remove], store.module_defaults), check=True)
    assert gone.task("remove")["changed"] is True
    assert "organizations.finance" in store.read_back()
    gone = ansible.playbook(render_play([remove], store.module_defaults))
    assert gone.task("remove")["changed"] is True
    assert "organizations.finance" not in store.read_back()
    again = ansible.playbook(render_play([remove], store.module_defaults))
    assert again.task("remove")["changed"] is False


def test_password_change_is_masked_in_diff(store, ansible):
    assert ansible.playbook(apply_play(store, declared(store))).rc == 0
    rotated = ansible.playbook(apply_play(store, declared(store, password=NEW_PASSWORD),
                                          update_password="always"), diff=True, verbosity=3)
    assert rotated.rc == 0, rotated
    changes = rotated.task("apply")["changes"]
    secret_rows = [c for c in changes if c["field"] == "smtp_password" and c["scope"] == "host"]
    assert secret_rows and secret_rows[0]["before"] == "********"
    assert secret_rows[0]["after"] == "******** (changed)"
    assert_no_secret(rotated, PASSWORD, NEW_PASSWORD, ORG_PASSWORD)
    if store.password_readable:
        assert store.read_back()["host"]["Email.Smtp.Password"] == NEW_PASSWORD
        # Readable stores compare passwords: the same one again is no change.
        same = ansible.playbook(apply_play(store, declared(store, password=NEW_PASSWORD)))
        assert same.task("apply")["changed"] is False
    for haystack in store.secret_haystacks():
        for secret in (PASSWORD, NEW_PASSWORD, ORG_PASSWORD):
            assert secret not in haystack


def test_exclusive_removes_undeclared_overrides(ansible, tmp_path):
    from tests.lib.backends import SqliteBackend
    store = SqliteBackend(str(tmp_path))
    config = declared(store)
    config["organizations"]["ops"] = {"smtp_host": "relay.example.org", "smtp_port": 25, "secure": False,
                                      "from_address": "ops@example.org"}
    assert ansible.playbook(apply_play(store, config)).rc == 0
    assert "organizations.ops" in store.read_back()
    del config["organizations"]["ops"]
    kept = ansible.playbook(apply_play(store, config))
    assert kept.task("apply")["changed"] is False
    result = ansible.playbook(apply_play(store, config, exclusive=True), diff=True)
    assert result.task("apply")["changed"] is True
    assert {c["scope"] for c in result.task("apply")["changes"]} == {"organizations.ops"}
    assert "organizations.ops" not in store.read_back()
    assert "organizations.finance" in store.read_back()


def test_validate_module_reads_file_on_controller(ansible, tmp_path):
    good = tmp_path / "good.yml"
    good.write_text("host:\n  smtp_host: smtp.example.com\n  from_address: a@example.com\n"
                    "organizations:\n  hr:\n    state: absent\n")
    bad = tmp_path / "bad.yml"
    bad.write_text("host:\n  smtp_host: smtp.example.com:587\n  from_adress: a@example.com\n"
                   "  smtp_password: %s\n" % PASSWORD)
    tasks = [
        {"name": "good", "mailops.orchestrator_email.validate": {"path": str(good)}},
        {"name": "bad", "mailops.orchestrator_email.validate": {"path": str(bad), "fail_on_error": False}},
        {"name": "bad fails", "mailops.orchestrator_email.validate": {"path": str(bad)},
         "ignore_errors": True},
    ]
    result = ansible.playbook(render_play(tasks), check=True, verbosity=3)
    assert result.task("good")["valid"] is True
    assert result.task("good")["organizations"] == ["hr"]
    bad_result = result.task("bad")
    assert bad_result["valid"] is False and bad_result["changed"] is False
    paths = {e["path"]: e["message"] for e in bad_result["errors"]}
    assert "port in smtp_port" in paths["host.smtp_host"]
    assert "did you mean 'from_address'" in paths["host.from_adress"]
    assert "host.smtp_username" in paths
    assert result.status("bad fails") == "failed"
    assert_no_secret(result, PASSWORD)


def test_path_is_read_on_the_controller_and_renders_secrets(ansible, tmp_path):
    from tests.lib.backends import SqliteBackend
    store = SqliteBackend(str(tmp_path))
    config_file = tmp_path / "email-settings.yml"
    config_file.write_text(
        "host:\n  smtp_host: smtp.example.com\n  smtp_port: \"{{ port | int }}\"\n"
        "  smtp_username: mailer\n  smtp_password: \"{{ vault_smtp_password }}\"\n"
        "  from_address: mailer@example.com\n")
    # (validate checks the file as the text it is: a templated port is a string there, so it is not run here)
    tasks = [{"name": "apply", "mailops.orchestrator_email.settings": {"path": str(config_file),
                                                                       "allow_expressions": True}}]
    play = render_play(tasks, store.module_defaults)
    # a filter is code: without allow_expressions it is refused, with the field path, and nothing is written
    refused = ansible.playbook(render_play([{"name": "apply", "mailops.orchestrator_email.settings": {
        "path": str(config_file)}}], store.module_defaults),
        extra_vars={"vault_smtp_password": PASSWORD, "port": 2525})
    assert refused.rc != 0 and "host.smtp_port" in refused.task("apply")["msg"], refused
    assert not store.read_back().get("host")
    result = ansible.playbook(play, extra_vars={"vault_smtp_password": PASSWORD, "port": 2525}, verbosity=3)
    assert result.rc == 0, result.task("apply")
    assert result.task("apply")["changed"] is True
    stored = store.read_back()["host"]
    assert stored["Email.Smtp.Password"] == PASSWORD
    assert stored["Email.Smtp.Port"] == "2525"
    assert_no_secret(result, PASSWORD)
    again = ansible.playbook(play, extra_vars={"vault_smtp_password": PASSWORD, "port": 2525})
    assert again.task("apply")["changed"] is False
    missing = ansible.playbook(render_play([{"name": "apply", "mailops.orchestrator_email.settings": {
        "path": str(tmp_path / "nope.yml")}}], store.module_defaults))
    assert missing.rc != 0 and missing.task("apply")["cause"] == "file_error"
