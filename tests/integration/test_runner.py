"""AWX / Automation Platform run playbooks through ansible-runner: run the installed collection's
``playbooks/apply.yml`` through ansible-runner's Python API and check the events it emits."""
import os
import shutil
import sys

import ansible_runner

from tests.lib.backends import SqliteBackend

BIN = os.path.dirname(sys.executable)
SECRET = "Runner-Secret-b7e1"
APPLY_TASK = "Apply host and organizations in one call"


def test_apply_playbook_through_ansible_runner(collections_path, tmp_path):
    store = SqliteBackend(str(tmp_path))
    config = tmp_path / "email-settings.yml"
    config.write_text("host:\n  smtp_host: smtp.example.com\n  smtp_username: mailer\n"
                      "  smtp_password: \"{{ vault_smtp_password }}\"\n  from_address: mailer@example.com\n"
                      "organizations:\n  finance:\n    smtp_host: relay.finance.example.com\n    from_address: finance@example.com\n")
    private = tmp_path / "runner"
    (private / "project").mkdir(parents=True)
    (private / "inventory").mkdir()
    # The playbook as installed from the tarball (what an AWX project or EE gets), not the checkout.
    installed = os.path.join(collections_path, "ansible_collections", "mailops", "orchestrator_email")
    shutil.copy(os.path.join(installed, "playbooks", "apply.yml"), str(private / "project" / "apply.yml"))
    (private / "inventory" / "hosts").write_text(
        "localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    extravars = {"config_file": str(config), "vault_smtp_password": SECRET,
                 "orchestrator_email_store": store.module_defaults}
    envvars = {"ANSIBLE_COLLECTIONS_PATH": collections_path, "PATH": BIN + os.pathsep + os.environ["PATH"]}

    def run():
        return ansible_runner.run(private_data_dir=str(private), playbook="apply.yml", extravars=extravars,
                                  envvars=envvars, quiet=True, timeout=180)

    def by_task(events, kind):
        return dict((e["event_data"]["task"], e) for e in events if e["event"] == kind)

    first = run()
    events = list(first.events)
    assert first.status == "successful" and first.rc == 0, [e.get("stdout") for e in events]
    assert not [e for e in events if e["event"] in ("runner_on_failed", "runner_on_unreachable")]
    oks = by_task(events, "runner_on_ok")
    assert oks["Validate the whole file before anything is written"]["event_data"]["res"]["changed"] is False
    applied = oks[APPLY_TASK]["event_data"]
    assert applied["res"]["changed"] is True
    assert applied["resolved_action"] == "mailops.orchestrator_email.settings"
    assert applied["res"]["summary"]["scopes_changed"] == 2
    assert first.stats["changed"] == {"localhost": 1}
    # No secret anywhere: the display text of every event, nor any result or invocation.
    assert SECRET not in "".join(e.get("stdout", "") for e in events)
    assert SECRET not in repr([e.get("event_data", {}) for e in events])
    assert store.read_back()["host"]["Email.Smtp.Password"] == SECRET

    second = run()
    assert second.status == "successful" and second.rc == 0
    assert by_task(list(second.events), "runner_on_ok")[APPLY_TASK]["event_data"]["res"]["changed"] is False
    assert second.stats["changed"] == {}
