"""Run real ``ansible-playbook`` against the collection built and installed from the checkout."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
CALLBACKS = os.path.join(ROOT, "tests", "integration", "callback_plugins")
INVENTORY_LINE = 'localhost ansible_connection=local ansible_python_interpreter="{{ ansible_playbook_python }}"\n'


def build_and_install(dest):
    """``ansible-galaxy collection build`` the checkout, then install the tarball into ``dest``.

    Returns the collections path (``dest``). Tests run against what users install, not the tree.
    """
    out = tempfile.mkdtemp(prefix="oe-build-")
    try:
        subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--force",
                        "--output-path", out, ROOT], check=True, capture_output=True, timeout=120)
        tarballs = [f for f in os.listdir(out) if f.endswith(".tar.gz")]
        subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--force",
                        "-p", dest, os.path.join(out, tarballs[0])],
                       check=True, capture_output=True, timeout=120)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return dest


class PlaybookResult(object):
    def __init__(self, rc, stdout, stderr, records):
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.records = records

    @property
    def output(self):
        return self.stdout + self.stderr

    def task(self, name):
        """The result of the (last) task with this name."""
        found = [r for r in self.records if r["task"] == name or r["task"].endswith(" : " + name)]
        if not found:
            raise AssertionError("no task named %r ran; tasks: %r\n%s" % (
                name, [r["task"] for r in self.records], self.output[-4000:]))
        return found[-1]["result"]

    def status(self, name):
        return [r for r in self.records if r["task"] == name or r["task"].endswith(" : " + name)][-1]["status"]

    def __repr__(self):
        return "PlaybookResult(rc=%d)\n%s" % (self.rc, self.output[-6000:])


class Ansible(object):
    """Writes playbooks into a work directory and runs them with ``ansible-playbook``."""

    def __init__(self, collections_path, workdir, env=None):
        self.collections_path = collections_path
        self.workdir = workdir
        self.inventory = os.path.join(workdir, "inventory.ini")
        with open(self.inventory, "w") as handle:
            handle.write(INVENTORY_LINE)
        self.env = dict(env or {})
        self._count = 0

    def environment(self, extra=None):
        env = dict(os.environ)
        env.update({
            "ANSIBLE_COLLECTIONS_PATH": self.collections_path,
            "ANSIBLE_CALLBACK_PLUGINS": CALLBACKS,
            "ANSIBLE_CALLBACKS_ENABLED": "result_log",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_LOCAL_TEMP": os.path.join(self.workdir, ".ansible-tmp"),
            "ANSIBLE_HOME": os.path.join(self.workdir, ".ansible-home"),
            "PATH": BIN + os.pathsep + env.get("PATH", ""),
        })
        for key in [k for k in env if k.startswith("ORCHESTRATOR_EMAIL_")]:
            del env[key]
        env.update(self.env)
        env.update(extra or {})
        return env

    def write(self, text, name=None):
        self._count += 1
        path = os.path.join(self.workdir, name or "play%03d.yml" % self._count)
        with open(path, "w") as handle:
            handle.write(text)
        return path

    def playbook(self, playbook, extra_vars=None, check=False, diff=False, verbosity=0, env=None,
                 args=(), timeout=300):
        """Run a playbook (a path, or YAML text) and return a PlaybookResult."""
        if "\n" in playbook:
            playbook = self.write(playbook)
        log = os.path.join(self.workdir, "results-%d.jsonl" % self._count)
        self._count += 1
        if os.path.exists(log):
            os.unlink(log)
        cmd = [os.path.join(BIN, "ansible-playbook"), "-i", self.inventory, playbook]
        if extra_vars:
            # As users pass vaulted variables: from a file (-e @file). Ansible prints the command
            # line, inline -e values included, at -vvvv.
            vars_file = os.path.join(self.workdir, "extra-vars-%d.json" % self._count)
            with open(vars_file, "w") as handle:
                json.dump(extra_vars, handle)
            cmd += ["-e", "@" + vars_file]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        if verbosity:
            cmd.append("-" + "v" * verbosity)
        cmd.extend(args)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False,
                              env=self.environment(dict(env or {}, RESULT_LOG_PATH=log)),
                              cwd=self.workdir)
        records = []
        if os.path.exists(log):
            with open(log) as handle:
                records = [json.loads(line) for line in handle if line.strip()]
        return PlaybookResult(proc.returncode, proc.stdout, proc.stderr, records)
