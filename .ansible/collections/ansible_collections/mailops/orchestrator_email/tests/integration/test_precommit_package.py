"""The pre-commit hook's package: pyproject.toml builds a wheel whose console script validates files."""
import glob
import os
import subprocess
import sys
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "tests", "data")


def test_wheel_installs_a_working_validator(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), ROOT],
                   check=True, capture_output=True, timeout=300, cwd=str(tmp_path))
    wheel = glob.glob(str(wheels / "*.whl"))[0]
    names = zipfile.ZipFile(wheel).namelist()
    assert "orchestrator_email_validate.py" in names
    assert "ansible_collections/mailops/orchestrator_email/plugins/module_utils/_validation.py" in names
    entry_points = [n for n in names if n.endswith("entry_points.txt")][0]
    assert "orchestrator-email-validate = orchestrator_email_validate:main" in \
        zipfile.ZipFile(wheel).read(entry_points).decode()
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), wheel],
                   check=True, capture_output=True, timeout=300)
    code = ("import sys, orchestrator_email_validate as v; "
            "sys.exit(v.main(sys.argv[1:]))")
    env = dict(os.environ, PYTHONPATH=str(target))
    good = subprocess.run([sys.executable, "-c", code, os.path.join(DATA, "good-email-settings.yml")],
                          capture_output=True, text=True, env=env, cwd=str(tmp_path), check=False)
    assert good.returncode == 0, good.stdout + good.stderr
    bad = subprocess.run([sys.executable, "-c", code, os.path.join(DATA, "bad-email-settings.yml")],
                         capture_output=True, text=True, env=env, cwd=str(tmp_path), check=False)
    assert bad.returncode == 1 and "host.from_adress: unknown key" in bad.stdout
    # the installed copy was used, not the checkout
    where = subprocess.run([sys.executable, "-c", "import orchestrator_email_validate as v; print(v.__file__)"],
                           capture_output=True, text=True, env=env, cwd=str(tmp_path), check=True)
    assert where.stdout.startswith(str(target))
