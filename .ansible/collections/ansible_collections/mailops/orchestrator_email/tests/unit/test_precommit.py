"""The pre-commit hook's command on a good and a bad file, run as a separate process (no Ansible)."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.path.join(ROOT, "tools", "precommit", "orchestrator_email_validate.py")
DATA = os.path.join(ROOT, "tests", "data")


def run(*files):
    env = dict(os.environ, PYTHONPATH="")
    return subprocess.run([sys.executable, "-I", CLI] + [os.path.join(DATA, f) for f in files],
                          capture_output=True, text=True, env=env, check=False, cwd="/")


def test_good_file_passes():
    proc = run("good-email-settings.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == ""


def test_bad_file_fails_with_every_error_and_its_path():
    proc = run("good-email-settings.yml", "bad-email-settings.yml")
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert all(line.startswith(os.path.join(DATA, "bad-email-settings.yml")) for line in lines)
    text = proc.stdout
    assert "host.smtp_host: " in text and "port in smtp_port" in text
    assert "host.from_adress: unknown key" in text and "did you mean 'from_address'" in text
    assert "host.smtp_username: is required" in text
    assert "organizations.finance.secure: must be true for Gmail" in text
    assert "organizations.finance.smtp_username: is required for Gmail" in text


def test_hook_definition_points_at_the_console_script():
    import yaml
    with open(os.path.join(ROOT, ".pre-commit-hooks.yaml")) as handle:
        hooks = yaml.safe_load(handle)
    with open(os.path.join(ROOT, "pyproject.toml")) as handle:
        pyproject = handle.read()
    assert hooks[0]["entry"] == "orchestrator-email-validate"
    assert 'orchestrator-email-validate = "orchestrator_email_validate:main"' in pyproject
