"""An execution environment definition that ansible-builder accepts (the ansible-runner events test
is tests/integration/test_runner.py)."""
import os
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


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
