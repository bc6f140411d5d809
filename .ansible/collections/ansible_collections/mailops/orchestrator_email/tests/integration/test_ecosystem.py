"""What AWX / Automation Platform users meet: ansible-runner events, and an execution environment
definition that ansible-builder accepts."""
import os
import shutil
import subprocess
import sys

import ansible_runner
import yaml

from tests.lib.backends import SqliteBackend

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
SECRET = "Runner-Secret-b7e1"


def test_apply_playbook_through_ansible_runner(collections_path, tmp_path):
    store = SqliteBackend(str(tmp_path))
    config = tmp_path / "email-settings.yml"
    config.write_text("host:\n  smtp_host: smtp.example.com\n  smtp_username: mailer\n"
                      "  smtp_password: \"{{ vault_smtp_password }}\"\n  from_address: mailer@example.com\n")
    private = tmp_path / "runner"
    (private / "project").mkdir(parents=True)
    (private / "inventory").mkdir()
    shutil.copy(os.path.join(ROOT, "playbooks", "apply.yml"), str(private / "project" / "apply.yml"))
    (private / "inventory" / "hosts").write_text(
        "localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    extravars = {"config_file": str(config), "vault_smtp_password": SECRET,
                 "orchestrator_email_store": store.module_defaults}
    envvars = {"ANSIBLE_COLLECTIONS_PATH": collections_path, "PATH": BIN + os.pathsep + os.environ["PATH"]}

    def run():
        return ansible_runner.run(private_data_dir=str(private), playbook="apply.yml", extravars=extravars,
                                  envvars=envvars, quiet=True, timeout=180)

    first = run()
    assert first.status == "successful" and first.rc == 0
    events = list(first.events)
    oks = [e for e in events if e["event"] == "runner_on_ok"]
    applied = [e for e in oks if e["event_data"]["task"] == "Apply host and organizations in one call"]
    assert applied and applied[0]["event_data"]["res"]["changed"] is True
    assert applied[0]["event_data"]["resolved_action"] == "mailops.orchestrator_email.settings"
    assert first.stats["changed"] == {"localhost": 1}
    assert not [e for e in events if e["event"] == "runner_on_failed"]
    assert SECRET not in "".join(e.get("stdout", "") for e in events)
    assert SECRET not in repr([e.get("event_data", {}).get("res") for e in events])
    assert store.read_back()["host"]["Email.Smtp.Password"] == SECRET

    second = run()
    assert second.status == "successful"
    assert second.stats["changed"] == {}


def test_execution_environment_definition(collections_path, tmp_path):
    with open(os.path.join(ROOT, "meta", "execution-environment.yml")) as handle:
        meta = yaml.safe_load(handle)
    assert meta["version"] == 1
    intro = subprocess.run([os.path.join(BIN, "ansible-builder"), "introspect", collections_path],
                           capture_output=True, text=True, check=True, timeout=120)
    data = yaml.safe_load(intro.stdout.split("---", 1)[1])
    assert data == {"python": [], "system": []}
    definition = tmp_path / "execution-environment.yml"
    collection = os.path.join(collections_path, "ansible_collections", "mailops", "orchestrator_email")
    definition.write_text(yaml.safe_dump({
        "version": 3,
        "images": {"base_image": {"name": "quay.io/ansible/awx-ee:latest"}},
        "dependencies": {"galaxy": {"collections": [{"name": collection, "type": "dir"}]}},
    }))
    subprocess.run([os.path.join(BIN, "ansible-builder"), "create", "-f", str(definition), "-c",
                    str(tmp_path / "context")], check=True, capture_output=True, timeout=120, cwd=str(tmp_path))
    assert (tmp_path / "context" / "Dockerfile").exists()
