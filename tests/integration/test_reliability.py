"""Under faults: crashes, concurrent writers, a corpus of bad input, secret leaks, faults on the wire.

Every wait is bounded and randomness is seeded.
"""
import glob
import json
import os
import random
import signal
import sqlite3
import subprocess
import time

import yaml

from tests.lib.backends import IdentityBackend, SqliteBackend, render_play
from tests.lib.smtp_servers import SmtpServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# .yml.txt: files that yamllint (ansible-test sanity) would refuse, such as a key given twice
CORPUS = sorted(glob.glob(os.path.join(ROOT, "tests", "data", "invalid", "*.yml"))
                + glob.glob(os.path.join(ROOT, "tests", "data", "invalid", "*.yml.txt")))
TOP_LEVEL = "(top level)"  # the expect-path of an error about the whole file
SECRET = "Zq9-Leak-Probe-Password-4242"
CLIENT_SECRET = "Zq9-Leak-Probe-Client-Secret-1717"


def big_config(orgs, port):
    organizations = {}
    for i in range(orgs):
        organizations["org%05d" % i] = {
            "smtp_host": "relay%d.example.com" % (i % 7), "smtp_port": port, "smtp_username": "u%d" % i,
            "smtp_password": "p-%d-%d" % (i, port), "from_address": "o%d@example.com" % i}
    return {"host": {"smtp_host": "smtp.example.com", "smtp_port": port, "from_address": "h@example.com"},
            "organizations": organizations}


def rows(path):
    if not os.path.exists(path):
        return frozenset()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return frozenset(conn.execute("SELECT scope, key, value FROM settings").fetchall())
    finally:
        conn.close()


def descendants(root):
    """PIDs of every process below ``root`` (ansible runs modules in a session of their own)."""
    parents = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open("/proc/%s/stat" % pid) as handle:
                    parents[int(pid)] = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [], [root]
    while frontier:
        current = frontier.pop()
        children = [pid for pid, parent in parents.items() if parent == current]
        found.extend(children)
        frontier.extend(children)
    return found


def is_module(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            return b"AnsiballZ_settings" in handle.read()
    except OSError:
        return False


def kill_all(proc):
    """kill -9 the playbook and every process below it, the module included."""
    pids = descendants(proc.pid)
    for pid in [proc.pid] + pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return any(is_module(pid) for pid in pids)


def test_kill_9_leaves_the_state_before_or_after(ansible, tmp_path):
    store = SqliteBackend(str(tmp_path))
    files = {}
    for port in (587, 465):
        files[port] = str(tmp_path / ("config-%d.yml" % port))
        with open(files[port], "w") as handle:
            yaml.safe_dump(big_config(3000, port), handle)
    plays = dict((port, ansible.write(render_play([{"name": "apply", "mailops.orchestrator_email.settings": {
        "path": files[port]}}], store.module_defaults), "apply-%d.yml" % port)) for port in files)
    # The two complete states, and when the module process runs within a full apply.
    env = ansible.environment()
    command = [os.path.join(os.path.dirname(os.sys.executable), "ansible-playbook"), "-i", ansible.inventory]
    started = time.monotonic()
    proc = subprocess.Popen(command + [plays[587]], env=env, cwd=ansible.workdir, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    seen = []
    while proc.poll() is None and time.monotonic() - started < 120:
        if any(is_module(pid) for pid in descendants(proc.pid)):
            seen.append(time.monotonic() - started)
        time.sleep(0.02)
    assert proc.wait(60) == 0 and len(seen) >= 2, "the module was not seen running"
    window = (seen[0], seen[-1])
    state = {587: rows(store.path)}
    assert ansible.playbook(plays[465]).rc == 0
    state[465] = rows(store.path)
    assert state[587] != state[465] and len(state[465]) > 3000 * 5

    rng = random.Random(20261124)
    current, outcomes, during_module = state[465], {"before": 0, "after": 0}, 0
    # At least 12 kills, and more (30 at most) until 4 of them landed while the module ran: on a
    # loaded machine a sampled moment can fall after the module finished.
    for attempt in range(30):
        if attempt >= 12 and during_module >= 4:
            break
        target = rng.choice([587, 465])
        proc = subprocess.Popen([os.path.join(os.path.dirname(os.sys.executable), "ansible-playbook"), "-i",
                                 ansible.inventory, plays[target]],
                                env=env, cwd=ansible.workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(window[0], window[0] + 0.8 * (window[1] - window[0])))
        if kill_all(proc):
            during_module += 1
        proc.wait(30)
        time.sleep(0.2)  # the killed module's file handles are gone
        after = rows(store.path)
        assert after in (current, state[target]), "a crash left a state that is neither before nor after"
        if after == current and current != state[target]:
            outcomes["before"] += 1
        elif after == state[target] and current != state[target]:
            outcomes["after"] += 1
        current = after
    assert during_module >= 3, "the kills did not land while the module was running"
    assert outcomes["before"] >= 1, outcomes
    # and the store still works: a rerun converges
    assert ansible.playbook(plays[587]).rc == 0 and rows(store.path) == state[587]


def test_eight_playbooks_at_once_lose_nothing(ansible, tmp_path):
    store = SqliteBackend(str(tmp_path))
    env = ansible.environment()
    procs = []
    for n in range(8):
        orgs = dict(("team%d-org%02d" % (n, i), {"smtp_host": "relay.example.com", "smtp_port": 25, "secure": False,
                                                 "from_address": "t%d-%d@example.com" % (n, i)}) for i in range(25))
        play = ansible.write(render_play([{"name": "apply", "mailops.orchestrator_email.settings": {
            "config": {"organizations": orgs}}}], store.module_defaults), "team%d.yml" % n)
        procs.append(subprocess.Popen([os.path.join(os.path.dirname(os.sys.executable), "ansible-playbook"), "-i",
                                       ansible.inventory, play], env=env, cwd=ansible.workdir,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
    for proc in procs:
        out, _err = proc.communicate(timeout=240)
        assert proc.returncode == 0, out.decode()[-2000:]
    stored = store.read_back()
    assert len(stored) == 200
    conn = sqlite3.connect(store.path)
    try:
        history = conn.execute("SELECT scope, key, run_id FROM history").fetchall()
    finally:
        conn.close()
    assert len(history) == 200 * 5  # smtp_host, smtp_port, secure, from_address, use_default_credentials
    assert len({run for _s, _k, run in history}) == 8
    assert {(s, k) for s, k, _r in history} == {("org:" + label[len("organizations."):], key)
                                                for label, values in stored.items() for key in values}


def test_every_invalid_config_of_the_corpus_fails_and_writes_nothing(ansible, tmp_path):
    assert len(CORPUS) >= 40
    store = SqliteBackend(str(tmp_path))
    seed = ansible.playbook(render_play([{"name": "seed", "mailops.orchestrator_email.settings": {
        "smtp_host": "smtp.example.com", "from_address": "a@example.com"}}], store.module_defaults))
    assert seed.rc == 0
    before = store.snapshot()
    tasks = [{"name": "corpus", "mailops.orchestrator_email.settings": {"path": "{{ item }}"},
              "loop": CORPUS, "ignore_errors": True}]
    result = ansible.playbook(render_play(tasks, store.module_defaults), timeout=300)
    outcome = result.task("corpus")
    assert len(outcome["results"]) == len(CORPUS)
    for path, item in zip(CORPUS, outcome["results"]):
        with open(path) as handle:
            header = dict(line[2:].split(": ", 1) for line in handle.read().splitlines()[:2])
        assert item.get("failed") is True, path
        assert item.get("cause") == "invalid_config", (path, item.get("msg"))
        paths = {e["path"] for e in item["errors"]}
        expected = "" if header["expect-path"].strip() == TOP_LEVEL else header["expect-path"]
        assert expected in paths, (path, paths)
        assert any(header["expect-words"].strip() in e["message"] for e in item["errors"] if e["path"] == expected)
    assert store.snapshot() == before, "an invalid config changed the store"


# What test_secret_leak_sweep_at_vvvv runs. A new module, role or playbook fails the next test until
# it is added to the sweep (and here).
SWEPT = {
    "modules": {"validate", "settings", "settings_info", "preflight", "verify"},
    "roles": {"smtp", "gmail"},
    "playbooks": {"apply.yml", "drift.yml", "install.yml"},
}


def test_the_secret_sweep_covers_every_module_role_and_playbook():
    found = {
        "modules": {f[:-3] for f in os.listdir(os.path.join(ROOT, "plugins", "modules"))
                    if f.endswith(".py") and not f.startswith("_")},
        "roles": {d for d in os.listdir(os.path.join(ROOT, "roles")) if not d.startswith(".")},
        "playbooks": {f for f in os.listdir(os.path.join(ROOT, "playbooks")) if f.endswith((".yml", ".yaml"))},
    }
    assert found == SWEPT, "add the new ones to test_secret_leak_sweep_at_vvvv and SWEPT"


def test_secret_leak_sweep_at_vvvv(ansible, tmp_path):
    """Every module, role and playbook at -vvvv with a distinctive password and client secret.

    Plays reference the secrets as variables (as users do with vault), since Ansible shows the
    source lines of a failing task."""
    probe = {"probe_password": SECRET, "probe_client_secret": CLIENT_SECRET}
    store = SqliteBackend(str(tmp_path))
    config_file = tmp_path / "email-settings.yml"
    with SmtpServer("starttls", auth=("mailer", SECRET)) as server:
        config_file.write_text(yaml.safe_dump({"host": {
            "smtp_host": "127.0.0.1", "smtp_port": server.port, "smtp_username": "mailer",
            "smtp_password": SECRET, "from_address": "mailer@example.com"},
            "organizations": {"finance": {"smtp_host": "smtp.gmail.com", "smtp_username": "fin@gmail.com",
                                          "smtp_password": SECRET, "from_address": "fin@gmail.com"}}}))
        smtp = {"ca_path": server.ca_path, "timeout": 3}
        tasks = [
            {"name": "validate", "mailops.orchestrator_email.validate": {"path": str(config_file)}},
            {"name": "settings", "mailops.orchestrator_email.settings": {"path": str(config_file)}},
            {"name": "settings flat", "mailops.orchestrator_email.settings": {
                "organization": "ops", "smtp_host": "relay.example.com", "smtp_username": "ops",
                "smtp_password": "{{ probe_password }}", "from_address": "ops@example.com"}},
            {"name": "settings bad", "mailops.orchestrator_email.settings": {
                "smtp_host": "bad host", "smtp_password": "{{ probe_password }}", "from_address": "x"}, "ignore_errors": True},
            {"name": "settings_info", "mailops.orchestrator_email.settings_info": {"history": 50}},
            {"name": "preflight", "mailops.orchestrator_email.preflight": dict(smtp, check_auth=True)},
            {"name": "preflight wrong", "mailops.orchestrator_email.preflight": dict(
                smtp, check_auth=True, smtp_password="{{ probe_password }}x", fail_on_error=False)},
            {"name": "verify", "mailops.orchestrator_email.verify": dict(smtp, to=["ops@example.com"])},
            {"name": "smtp role", "ansible.builtin.include_role": {"name": "mailops.orchestrator_email.smtp"},
             "vars": {"orchestrator_email_store": store.module_defaults, "orchestrator_email_smtp_host": "127.0.0.1",
                      "orchestrator_email_smtp_port": server.port, "orchestrator_email_smtp_username": "mailer",
                      "orchestrator_email_smtp_password": "{{ probe_password }}",
                      "orchestrator_email_from_address": "m@example.com",
                      "orchestrator_email_ca_path": server.ca_path,
                      "orchestrator_email_verify_to": ["a@example.com"]}},
            {"name": "gmail role", "ansible.builtin.include_role": {"name": "mailops.orchestrator_email.gmail"},
             "vars": {"orchestrator_email_store": store.module_defaults, "orchestrator_email_preflight": False,
                      "orchestrator_email_organization": "gm", "orchestrator_email_gmail_username": "g@gmail.com",
                      "orchestrator_email_gmail_app_password": "{{ probe_password }}"}},
        ]
        outputs = [ansible.playbook(render_play(tasks, store.module_defaults), extra_vars=probe, verbosity=4,
                                    timeout=300)]
        extra = {"config_file": str(config_file), "orchestrator_email_store": store.module_defaults,
                 "report_dir": str(tmp_path)}
        for name in ("apply.yml", "drift.yml"):
            outputs.append(ansible.playbook(os.path.join(ROOT, "playbooks", name), extra_vars=extra, verbosity=4))
        outputs.append(ansible.playbook(os.path.join(ROOT, "playbooks", "install.yml"), verbosity=4, extra_vars={
            "orchestrator_email_store": store.module_defaults, "orchestrator_email_smtp_host": "127.0.0.1",
            "orchestrator_email_smtp_port": server.port, "orchestrator_email_smtp_username": "mailer",
            "orchestrator_email_smtp_password": SECRET, "orchestrator_email_from_address": "m@example.com",
            "orchestrator_email_ca_path": server.ca_path}))
        assert outputs[0].rc == 0, outputs[0]
        assert outputs[0].task("verify")["changed"] is True
        assert len(server.messages) >= 2

    identity = IdentityBackend(host_admin=("host-admin", CLIENT_SECRET))
    try:
        with SmtpServer("plain") as plain:
            identity.emulator.smtp_target = ("127.0.0.1", plain.port)
            id_tasks = [
                {"name": "apply", "mailops.orchestrator_email.settings": {"config": {"host": {
                    "smtp_host": "smtp.example.com", "smtp_username": "m", "smtp_password": "{{ probe_password }}",
                    "from_address": "m@example.com"}}, "update_password": "always"}},
                {"name": "info", "mailops.orchestrator_email.settings_info": {
                    "organization": "x", "partition_id": identity.partition_id("x")}},
                {"name": "verify", "mailops.orchestrator_email.verify": {"via": "store", "to": ["a@example.com"]}},
                {"name": "wrong secret", "mailops.orchestrator_email.settings_info": {
                    "host_admin_password": "{{ probe_client_secret }}-wrong"}, "ignore_errors": True},
            ]
            defaults = dict(identity.module_defaults, host_admin_password="{{ probe_client_secret }}")
            org_secrets = [secret for _client, secret in identity.org_clients.values()]
            outputs.append(ansible.playbook(render_play(id_tasks, defaults), extra_vars=probe, verbosity=4))
            assert outputs[-1].task("verify")["changed"] is True
            assert outputs[-1].task("wrong secret")["cause"] == "store_authentication_failed"
        haystacks = identity.secret_haystacks()
    finally:
        identity.close()

    for result in outputs:
        for secret in [SECRET, CLIENT_SECRET] + org_secrets:
            assert secret not in result.output, "secret in ansible-playbook -vvvv output"
            assert secret not in json.dumps(result.records), "secret in a task result"
    for report in ("drift-report.json", "drift-report.md"):
        assert SECRET not in (tmp_path / report).read_text()
    for haystack in store.secret_haystacks() + haystacks:
        assert SECRET not in haystack and CLIENT_SECRET not in haystack


def test_smtp_drop_mid_data_then_rerun_converges(ansible):
    with SmtpServer("starttls", auth=("mailer", SECRET), drop_data=2) as server:
        args = {"smtp_host": "127.0.0.1", "smtp_port": server.port, "ca_path": server.ca_path, "timeout": 3,
                "smtp_username": "mailer", "smtp_password": "{{ probe_password }}", "from_address": "m@example.com",
                "to": ["ops@example.com"], "retries": 0}
        probe = {"probe_password": SECRET}
        first = ansible.playbook(render_play([{"name": "send", "mailops.orchestrator_email.verify": args,
                                               "ignore_errors": True}]), extra_vars=probe)
        failure = first.task("send")
        assert first.status("send") == "failed" and failure["cause"] == "transient_failure"
        assert "dropped" in failure["msg"] and failure["attempts"] == 1
        assert server.messages == []
        retried = ansible.playbook(render_play([{"name": "send", "mailops.orchestrator_email.verify": dict(
            args, retries=2, retry_delay=0.1)}]), extra_vars=probe)
        assert retried.task("send")["attempts"] == 2 and len(server.messages) == 1
        assert SECRET not in first.output + retried.output


def test_identity_timeout_mid_apply_then_rerun_converges(ansible):
    store = IdentityBackend()
    try:
        organizations = {}
        for i in range(6):
            organizations["org%d" % i] = dict({"smtp_host": "relay", "from_address": "o%d@example.com" % i},
                                              **store.org_extra("org%d" % i))
        cfg = {"host": {"smtp_host": "smtp.example.com", "from_address": "h@example.com"},
               "organizations": organizations}
        play = render_play([{"name": "apply", "mailops.orchestrator_email.settings": {
            "config": cfg, "request_timeout": 0.5}}], store.module_defaults)
        store.emulator.delay_next(40, 1.5, method="PUT")
        first = ansible.playbook(play, env={"ORCHESTRATOR_EMAIL_RETRY_BASE": "0.05"}, timeout=120)
        assert first.rc != 0
        failure = first.task("apply")
        assert failure["cause"] == "store_unreachable" and "timed out" in failure["msg"]
        assert "PUT /identity/api/Setting" in failure["msg"]
        time.sleep(1.6)  # let the delayed requests finish on the server side
        for values in store.emulator.state.values():  # every scope is all or nothing
            assert len(values) in (0, 5)  # host, port, secure, from, use_default_credentials
        store.emulator.faults.clear()
        second = ansible.playbook(play)
        assert second.rc == 0, second
        third = ansible.playbook(play)
        assert third.task("apply")["changed"] is False
        assert len(store.read_back()) == 7
    finally:
        store.close()
