"""The playbooks and roles as users run them: apply, drift (exit code and reports), install, gmail."""
import json
import os

from tests.lib.backends import SqliteBackend, render_play
from tests.lib.smtp_servers import SmtpServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOKS = os.path.join(ROOT, "playbooks")
SECRET = "Playbook-Secret-8c2f"


def write_config(path, port=587, display="Orchestrator System Notifications"):
    path.write_text(
        "host:\n  smtp_host: smtp.example.com\n  smtp_port: %d\n  smtp_username: mailer\n"
        "  smtp_password: \"{{ vault_smtp_password }}\"\n  from_address: mailer@example.com\n"
        "  from_display_name: %s\n"
        "organizations:\n  finance:\n    smtp_host: relay.example.com\n    smtp_port: 25\n    secure: false\n"
        "    from_address: fin@example.com\n  hr:\n    state: absent\n" % (port, display))
    return str(path)


def test_apply_then_drift_reports(ansible, tmp_path):
    store = SqliteBackend(str(tmp_path))
    config = write_config(tmp_path / "email-settings.yml")
    extra = {"config_file": config, "vault_smtp_password": SECRET, "report_dir": str(tmp_path),
             "orchestrator_email_store": store.module_defaults}
    drift = os.path.join(PLAYBOOKS, "drift.yml")

    before = ansible.playbook(drift, extra_vars=extra)
    assert before.rc == 2, before
    assert store.snapshot() is None, "the drift check wrote to the store"
    report = json.loads((tmp_path / "drift-report.json").read_text())
    assert report["drift"] is True and report["summary"]["scopes_changed"] == 2
    rows = report["differences"]
    assert {"scope": "host", "field": "smtp_password", "key": "Email.Smtp.Password", "action": "create",
            "secret": True, "before": None, "after": "******** (changed)"} in rows
    markdown = (tmp_path / "drift-report.md").read_text()
    assert "| host | smtp_port | 587 | (not set) | create |" in markdown
    assert "**Drift: " in markdown

    applied = ansible.playbook(os.path.join(PLAYBOOKS, "apply.yml"), extra_vars=extra, verbosity=3)
    assert applied.rc == 0, applied
    assert applied.task("Apply host and organizations in one call")["changed"] is True

    clean = ansible.playbook(drift, extra_vars=extra, verbosity=3)
    assert clean.rc == 0, clean
    report = json.loads((tmp_path / "drift-report.json").read_text())
    assert report["drift"] is False and report["differences"] == []
    assert "No drift" in (tmp_path / "drift-report.md").read_text()

    write_config(tmp_path / "email-settings.yml", port=465, display="Changed")
    changed = ansible.playbook(drift, extra_vars=extra)
    assert changed.rc == 2
    markdown = (tmp_path / "drift-report.md").read_text()
    assert "| host | smtp_port | 465 | 587 | update |" in markdown
    assert "| host | from_display_name | Changed | Orchestrator System Notifications | update |" in markdown
    for result in (before, applied, clean, changed):
        assert SECRET not in result.output
    assert SECRET not in (tmp_path / "drift-report.json").read_text() + markdown


def test_relative_paths_are_relative_to_the_working_directory(ansible, tmp_path):
    """As documented: the playbooks by name, `-e config_file=email-settings.yml`, no report_dir.

    The declared file is found and the reports land where ansible-playbook runs (not next to the
    installed playbook, and not in a stale $PWD)."""
    store = SqliteBackend(str(tmp_path))
    write_config(tmp_path / "email-settings.yml")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    extra = {"config_file": "email-settings.yml", "vault_smtp_password": SECRET,
             "orchestrator_email_store": store.module_defaults}
    assert ansible.workdir == str(tmp_path)
    drift = ansible.playbook("mailops.orchestrator_email.drift", extra_vars=extra, env={"PWD": str(elsewhere)})
    assert drift.rc == 2, drift
    assert json.loads((tmp_path / "drift-report.json").read_text())["drift"] is True
    assert "**Drift: " in (tmp_path / "drift-report.md").read_text()
    assert str(tmp_path / "drift-report.md") in drift.output
    applied = ansible.playbook("mailops.orchestrator_email.apply", extra_vars=extra, env={"PWD": str(elsewhere)})
    assert applied.rc == 0, applied
    (tmp_path / "reports").mkdir()
    clean = ansible.playbook("mailops.orchestrator_email.drift", extra_vars=dict(extra, report_dir="reports"))
    assert clean.rc == 0, clean
    assert "No drift" in (tmp_path / "reports" / "drift-report.md").read_text()
    broken = ansible.playbook("mailops.orchestrator_email.drift",
                              extra_vars=dict(extra, report_dir="reports", config_file="missing.yml"))
    assert broken.rc != 0 and "missing.yml" in broken.output
    assert list((tmp_path / "reports").iterdir()) == [], "a failed check left the earlier report behind"
    assert list(elsewhere.iterdir()) == []
    installed = os.path.join(ansible.collections_path, "ansible_collections", "mailops", "orchestrator_email", "playbooks")
    assert not [n for n in os.listdir(installed) if n.startswith("drift-report")]


def test_apply_exclusive_and_missing_file(ansible, tmp_path):
    store = SqliteBackend(str(tmp_path))
    config = write_config(tmp_path / "email-settings.yml")
    extra = {"config_file": config, "vault_smtp_password": SECRET, "orchestrator_email_store": store.module_defaults}
    tasks = [{"name": "extra org", "mailops.orchestrator_email.settings": {
        "organization": "ops", "smtp_host": "relay", "from_address": "ops@relay.example.com"}}]
    assert ansible.playbook(render_play(tasks, store.module_defaults)).rc == 0
    apply = os.path.join(PLAYBOOKS, "apply.yml")
    assert ansible.playbook(apply, extra_vars=extra).rc == 0
    assert "organizations.ops" in store.read_back()
    assert ansible.playbook(apply, extra_vars=dict(extra, exclusive=True)).rc == 0
    assert "organizations.ops" not in store.read_back()
    missing = ansible.playbook(apply, extra_vars={"orchestrator_email_store": store.module_defaults})
    assert missing.rc != 0 and "config_file" in missing.output


def test_install_playbook_with_the_smtp_role(ansible, tmp_path):
    store = SqliteBackend(str(tmp_path))
    with SmtpServer("starttls", auth=("mailer@example.com", SECRET)) as server:
        extra = {
            "orchestrator_email_store": store.module_defaults,
            "orchestrator_email_smtp_host": "127.0.0.1", "orchestrator_email_smtp_port": server.port,
            "orchestrator_email_smtp_username": "mailer@example.com", "orchestrator_email_smtp_password": SECRET,
            "orchestrator_email_from_address": "mailer@example.com", "orchestrator_email_ca_path": server.ca_path,
            "orchestrator_email_verify_to": ["ops@example.com"], "orchestrator_email_smtp_timeout": 3,
        }
        install = os.path.join(PLAYBOOKS, "install.yml")
        # Check mode on an empty store: the verification checks the declared settings (nothing
        # stored yet) and stops before DATA; nothing is written, nothing is sent.
        checked = ansible.playbook(install, extra_vars=extra, check=True)
        assert checked.rc == 0, checked
        assert checked.task("Apply the email settings")["changed"] is True
        assert store.snapshot() is None and server.messages == []
        first = ansible.playbook(install, extra_vars=extra, verbosity=3)
        assert first.rc == 0, first
        prefix = "mailops.orchestrator_email.smtp : "
        assert first.task("Check the mail path from this machine")["ok"] is True
        assert first.task("Apply the email settings")["changed"] is True
        sent = first.task("Send a verification email through the applied settings")
        assert server.messages[-1]["X-Orchestrator-Email-Verification"] == sent["token"]
        assert store.read_back()["host"]["Email.Smtp.Port"] == str(server.port)
        again = ansible.playbook(install, extra_vars=extra, args=["--skip-tags", "verify"])
        assert again.task("Apply the email settings")["changed"] is False
        assert len(server.messages) == 1
        preflight_off = ansible.playbook(install, extra_vars=dict(extra, orchestrator_email_preflight=False))
        assert preflight_off.status("Check the mail path from this machine") == "skipped"
        assert len(server.messages) == 2
        assert all(r["task"].startswith(prefix) for r in first.records)
        assert SECRET not in first.output + again.output


def test_gmail_role_preset_rule_and_warning(ansible, tmp_path):
    store = SqliteBackend(str(tmp_path))
    role = {"name": "gmail", "ansible.builtin.include_role": {"name": "mailops.orchestrator_email.gmail"}}
    base = {"orchestrator_email_store": store.module_defaults, "orchestrator_email_preflight": False,
            "orchestrator_email_organization": "finance",
            "orchestrator_email_gmail_username": "finance.robots@gmail.com"}
    app_password = "abcd efgh ijkl mnop"
    good = ansible.playbook(render_play([role]), extra_vars=dict(base, orchestrator_email_gmail_app_password=app_password))
    assert good.rc == 0, good
    stored = store.read_back()["organizations.finance"]
    assert stored["Email.Smtp.Host"] == "smtp.gmail.com" and stored["Email.Smtp.Port"] == "587"
    assert stored["Email.Smtp.EnableSsl"] == "true"
    assert stored["Email.Smtp.FromEmail"] == "finance.robots@gmail.com"
    assert stored["Email.Smtp.FromDisplayName"] == "Orchestrator System Notifications"
    assert "App Password" not in good.output

    weak = ansible.playbook(render_play([role]), extra_vars=dict(base,
                                                                 orchestrator_email_gmail_app_password="MyPlainPassw0rd!"))
    assert weak.rc == 0
    assert "less secure apps" in weak.output and "MyPlainPassw0rd!" not in weak.output

    alias = ansible.playbook(render_play([role]), extra_vars=dict(
        base, orchestrator_email_gmail_app_password="abcd efgh ijkl mnop",
        orchestrator_email_gmail_from_address="robots@finance.example.com"))
    assert alias.rc != 0 and "gmail_send_as" in alias.output
    listed = ansible.playbook(render_play([role]), extra_vars=dict(
        base, orchestrator_email_gmail_app_password="abcd efgh ijkl mnop",
        orchestrator_email_gmail_from_address="robots@finance.example.com",
        orchestrator_email_gmail_send_as=["robots@finance.example.com"]))
    assert listed.rc == 0, listed
    assert store.read_back()["organizations.finance"]["Email.Smtp.FromEmail"] == "robots@finance.example.com"
