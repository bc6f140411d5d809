"""Files generated from a single source must be in step with it."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_readme_is_generated_from_its_sections():
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "build_readme.py"), "--check"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
