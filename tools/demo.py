"""`make run`: the collection end to end on this machine, against the embedded store.

1. starts a loopback SMTP server (STARTTLS + AUTH, trustme certificates) that stores what it gets;
2. playbooks/install.yml: preflight, apply the host settings, send a verification email;
3. playbooks/apply.yml with examples/email-settings.yml (host + two organizations; a copy in build/demo/
   pointed at the loopback server), twice;
4. playbooks/drift.yml: "no drift";
5. prints each organization's effective settings and the verification email that arrived;
6. stops the server (also on failure, Ctrl-C or SIGTERM). Everything it creates is under build/demo/.
"""
import email
import email.policy
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
DEMO = os.path.join(ROOT, "build", "demo")
STORE = os.path.join(DEMO, "settings.db")
MAILDIR = os.path.join(DEMO, "maildir")
READY = os.path.join(DEMO, "smtp-ready.json")
INVENTORY = os.path.join(DEMO, "inventory.ini")
USER, PASSWORD = "mailer@example.com", "demo-host-password"
SECRETS = {"vault_smtp_password": PASSWORD, "vault_finance_smtp_password": "demo-finance-password"}


def ansible_env():
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": os.path.join(ROOT, "build", "collections"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_DISPLAY_SKIPPED_HOSTS": "0",
    })
    return env


def step(title):
    print("\n=== %s ===" % title, flush=True)


def playbook(name, *extra, expect=0):
    cmd = [os.path.join(BIN, "ansible-playbook"), "-i", INVENTORY, os.path.join(ROOT, "playbooks", name)]
    for item in extra:
        cmd += ["-e", item if isinstance(item, str) else json.dumps(item)]
    code = subprocess.run(cmd, env=ansible_env(), cwd=DEMO, check=False).returncode
    if code != expect:
        raise SystemExit("demo: %s exited %d (expected %d)" % (name, code, expect))


def start_smtp():
    for path in (READY,):
        if os.path.exists(path):
            os.unlink(path)
    shutil.rmtree(MAILDIR, ignore_errors=True)
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "lib", "smtp_servers.py"), "serve",
                             "--mode", "starttls", "--auth", "%s:%s" % (USER, PASSWORD), "--maildir", MAILDIR,
                             "--ca-out", os.path.join(DEMO, "demo-ca.pem"), "--ready-file", READY,
                             "--max-seconds", "300"])
    deadline = time.time() + 20
    while not os.path.exists(READY):
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            raise SystemExit("demo: the SMTP server did not start")
        time.sleep(0.1)
    with open(READY) as handle:
        return proc, json.load(handle)


def write_declared_copy(server):
    """examples/email-settings.yml with its SMTP servers replaced by the loopback one."""
    with open(os.path.join(ROOT, "examples", "email-settings.yml")) as handle:
        config = yaml.safe_load(handle)
    for scope in [config["host"]] + list(config["organizations"].values()):
        if "smtp_host" in scope:
            scope.update(smtp_host=server["host"], smtp_port=server["port"])
    name = "email-settings.yml"
    with open(os.path.join(DEMO, name), "w") as handle:
        handle.write("# examples/email-settings.yml pointed at the demo's loopback SMTP server (tools/demo.py)\n")
        yaml.safe_dump(config, handle, sort_keys=False)
    return name


def show_settings():
    cmd = [os.path.join(BIN, "ansible"), "localhost", "-i", INVENTORY, "-m",
           "mailops.orchestrator_email.settings_info", "-a", "store_path=%s" % STORE, "-o"]
    out = subprocess.run(cmd, env=ansible_env(), capture_output=True, text=True, check=True).stdout
    info = json.loads(out.split("=>", 1)[1])
    host = info["host"]["settings"]
    for name in ("host", "finance", "hr"):
        if name == "host":
            eff, source = host, "host"
        else:
            org = info["organizations"].get(name) or {"effective": host, "effective_source": "host"}
            eff, source = org["effective"], org["effective_source"]
        print("%-8s: %s:%s secure=%s user=%s password=%s from=%s (%s settings)" % (
            name, eff.get("smtp_host"), eff.get("smtp_port"), eff.get("secure"), eff.get("smtp_username"),
            eff.get("smtp_password"), eff.get("from_address"), source))


def show_mail():
    files = sorted(glob.glob(os.path.join(MAILDIR, "*.eml")))
    if not files:
        raise SystemExit("demo: no verification email arrived")
    for path in files:
        with open(path, "rb") as handle:
            message = email.message_from_bytes(handle.read(), policy=email.policy.default)
        print("%s" % os.path.relpath(path, ROOT))
        for header in ("From", "To", "Subject", "Date", "Message-ID", "X-Orchestrator-Email-Verification"):
            print("  %s: %s" % (header, message[header]))


def _stop(signum, _frame):
    # SIGTERM/SIGHUP (a CI job cancelled, the terminal closed) run the `finally` below like Ctrl-C,
    # so the SMTP server never outlives the demo (it also stops by itself after --max-seconds).
    raise SystemExit(128 + signum)


def main():
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGHUP, _stop)
    os.makedirs(DEMO, exist_ok=True)
    with open(INVENTORY, "w") as handle:
        handle.write('localhost ansible_connection=local ansible_python_interpreter="%s"\n' % sys.executable)
    if os.path.exists(STORE):
        os.unlink(STORE)
    step("Start a loopback SMTP server (STARTTLS + AUTH)")
    proc, server = start_smtp()
    print("listening on %s:%s, CA %s" % (server["host"], server["port"], os.path.relpath(server["ca_path"], ROOT)))
    try:
        store = {"orchestrator_email_store": {"store_type": "sqlite", "store_path": STORE}}
        step("playbooks/install.yml: preflight, apply the host settings, verification email")
        playbook("install.yml", store, {
            "orchestrator_email_smtp_host": server["host"], "orchestrator_email_smtp_port": server["port"],
            "orchestrator_email_smtp_username": USER, "orchestrator_email_smtp_password": PASSWORD,
            "orchestrator_email_from_address": USER,
            "orchestrator_email_from_display_name": "Orchestrator System Notifications",
            "orchestrator_email_ca_path": server["ca_path"], "orchestrator_email_verify_to": ["ops@example.com"]})
        # Run from build/demo/ as a user runs them from a GitOps checkout: a relative config_file,
        # the drift reports in the working directory.
        declared = ["config_file=%s" % write_declared_copy(server), store, SECRETS]
        step("playbooks/apply.yml: examples/email-settings.yml (host + 2 organizations)")
        playbook("apply.yml", *declared)
        step("playbooks/apply.yml again: nothing to change")
        playbook("apply.yml", *declared)
        step("playbooks/drift.yml: the store matches the file")
        playbook("drift.yml", *declared)
        with open(os.path.join(DEMO, "drift-report.md")) as handle:
            print(handle.read())
        step("Effective settings of each organization (passwords are never shown)")
        show_settings()
        step("The verification email that arrived")
        show_mail()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    print("\nDone. The SMTP server is stopped; everything is under %s." % os.path.relpath(DEMO, ROOT))


if __name__ == "__main__":
    main()
