"""Shared by every test: the source tree importable as ``ansible_collections.mailops.orchestrator_email``."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "build", "src")
LINK = os.path.join(SRC, "ansible_collections", "mailops", "orchestrator_email")

if not os.path.exists(LINK):
    os.makedirs(os.path.dirname(LINK), exist_ok=True)
    try:
        os.symlink(ROOT, LINK)
    except FileExistsError:
        pass
if SRC not in sys.path:
    sys.path.insert(0, SRC)
