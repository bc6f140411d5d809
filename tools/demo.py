"""`make run`: the collection end to end on this machine, against the embedded store.

Applies examples/email-settings.yml with playbooks/apply.yml to build/demo/settings.db, runs it a
second time to show idempotence, and prints the effective settings of each organization.
Everything it creates is under build/demo/; it leaves nothing running.
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
DEMO = os.path.join(ROOT, "build", "demo")
STORE = os.path.join(DEMO, "settings.db")
INVENTORY = os.path.join(DEMO, "inventory.ini")
DEMO_SECRETS = {"vault_smtp_password": "demo-host-password", "vault_finance_smtp_password": "demo-finance-password"}


def ansible_env():
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": os.path.join(ROOT, "build", "collections"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_STDOUT_CALLBACK": "default",
        "ANSIBLE_DISPLAY_SKIPPED_HOSTS": "0",
    })
    return env


def step(title):
    print("\n=== %s ===" % title, flush=True)


def playbook(name, *extra, check=True):
    cmd = [os.path.join(BIN, "ansible-playbook"), "-i", INVENTORY, os.path.join(ROOT, "playbooks", name)]
    for item in extra:
        cmd += ["-e", item if isinstance(item, str) else json.dumps(item)]
    proc = subprocess.run(cmd, env=ansible_env(), cwd=DEMO, check=False)
    if check and proc.returncode != 0:
        sys.exit("demo: %s failed (exit %d)" % (name, proc.returncode))
    return proc.returncode


def effective_settings():
    cmd = [os.path.join(BIN, "ansible"), "localhost", "-i", INVENTORY, "-m",
           "mailops.orchestrator_email.settings_info", "-a", "store_path=%s" % STORE, "-o"]
    out = subprocess.run(cmd, env=ansible_env(), capture_output=True, text=True, check=True).stdout
    return json.loads(out.split("=>", 1)[1])


def main():
    os.makedirs(DEMO, exist_ok=True)
    with open(INVENTORY, "w") as handle:
        handle.write('localhost ansible_connection=local ansible_python_interpreter="%s"\n' % sys.executable)
    common = [
        "config_file=%s" % os.path.join(ROOT, "examples", "email-settings.yml"),
        {"orchestrator_email_store": {"store_type": "sqlite", "store_path": STORE}},
        DEMO_SECRETS,
    ]
    step("Apply examples/email-settings.yml (host + 2 organizations) to %s" % os.path.relpath(STORE, ROOT))
    playbook("apply.yml", *common)
    step("Apply again: nothing to change")
    playbook("apply.yml", *common)

    step("Effective settings of each organization")
    info = effective_settings()
    host = info["host"]["settings"]
    print("host     : %s:%s secure=%s from=%s" % (
        host["smtp_host"], host["smtp_port"], host["secure"], host["from_address"]))
    for name in ("finance", "hr"):
        org = info["organizations"].get(name)
        if org is None:
            org = {"effective": host, "effective_source": "host"}
        eff = org["effective"]
        print("%-9s: %s:%s secure=%s from=%s (from the %s settings)" % (
            name, eff["smtp_host"], eff["smtp_port"], eff["secure"], eff["from_address"],
            org["effective_source"]))
    print("\nThe store keeps passwords only on the managed host (mode 0600); none was printed above.")


if __name__ == "__main__":
    main()
