#!/usr/bin/env bash
# `make docs`: the documentation of the installed collection must build.
# - antsibull-docs lints every plugin's and role's documentation (markup, links, semantics);
# - ansible-doc renders every module, plugin and role as users see it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$ROOT/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$ROOT/build/collections"
COLL="$ANSIBLE_COLLECTIONS_PATH/ansible_collections/mailops/orchestrator_email"
cd "$COLL"
antsibull-docs lint-collection-docs --plugin-docs .
count=0
for module in plugins/modules/*.py; do
  name=$(basename "$module" .py)
  ansible-doc "mailops.orchestrator_email.$name" > /dev/null
  count=$((count + 1))
done
for role in roles/*/; do
  name=$(basename "$role")
  ansible-doc -t role "mailops.orchestrator_email.$name" > /dev/null
  count=$((count + 1))
done
listed=$(ansible-doc -l mailops.orchestrator_email 2>/dev/null | wc -l)
[ "$listed" -ge "$(find plugins/modules -maxdepth 1 -name "*.py" | wc -l)" ] || { echo "ansible-doc -l lists $listed modules" >&2; exit 1; }
echo "docs: antsibull-docs lint passed; ansible-doc rendered $count modules and roles"
