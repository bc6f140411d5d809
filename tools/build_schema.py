"""Write schemas/email-settings.schema.json from the field table (``make schema``)."""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "build", "src"))  # the working tree (make schema links it)

from ansible_collections.mailops.orchestrator_email.plugins.module_utils._schema import build_schema  # noqa: E402

with open(os.path.join(ROOT, "schemas", "email-settings.schema.json"), "w") as handle:
    json.dump(build_schema(), handle, indent=2, sort_keys=False)
    handle.write("\n")
