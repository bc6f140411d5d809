#!/usr/bin/env bash
# `make artifact`: the tarball `ansible-galaxy collection build` makes is what users install, so
# check it, not the source tree:
# - it lists every module, plugin, role, playbook and schema of the checkout, and meta/runtime.yml;
# - it carries nothing of the development machinery (venv, build output, caches, tools, molecule);
# - it installs with `ansible-galaxy collection install` into an empty directory, and from there
#   ansible-doc lists every module and a module runs (validate, on localhost).
# Usage: tools/artifact.sh path/to/mailops-orchestrator_email-X.Y.Z.tar.gz
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/.venv/bin"
TARBALL=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
cd "$ROOT"

listing=$(mktemp)
work=$(mktemp -d)
trap 'rm -rf "$listing" "$work"' EXIT
tar tzf "$TARBALL" | sed 's|^\./||' | sort > "$listing"

fail=0
# Every file of the collection proper that git knows about (tracked or new, not ignored).
while IFS= read -r f; do
  [ -e "$f" ] || continue
  grep -qxF "$f" "$listing" || { echo "artifact: missing from the tarball: $f" >&2; fail=1; }
done < <(git ls-files --cached --others --exclude-standard -- \
           meta plugins roles playbooks schemas galaxy.yml README.md CHANGELOG.md \
         | grep -v -e '/molecule/' -e '__pycache__' | sed 's|^galaxy.yml$|MANIFEST.json|')
for f in MANIFEST.json FILES.json meta/runtime.yml; do
  grep -qxF "$f" "$listing" || { echo "artifact: missing from the tarball: $f" >&2; fail=1; }
done
# Nothing that belongs to the development machine.
if leaked=$(grep -E '(^|/)(\.venv|\.git|\.ansible|build|\.pytest_cache|\.hypothesis|__pycache__|molecule|tools|tests/output)(/|$)|\.pyc$|\.tar\.gz$' "$listing"); then
  echo "artifact: the tarball carries development files:" >&2
  echo "$leaked" | head -20 >&2
  fail=1
fi
[ "$fail" = 0 ]
modules=$(find plugins/modules -maxdepth 1 -name "*.py" | wc -l)
roles=$(find roles -mindepth 1 -maxdepth 1 -type d | wc -l)

# It installs into an empty collections path, and what is installed works.
export ANSIBLE_COLLECTIONS_PATH="$work/collections" ANSIBLE_LOCAL_TEMP="$work/tmp" ANSIBLE_NOCOLOR=1
"$BIN/ansible-galaxy" collection install --force -p "$work/collections" "$TARBALL" > /dev/null
"$BIN/ansible-galaxy" collection list -p "$work/collections" mailops.orchestrator_email \
  | grep -q 'mailops.orchestrator_email' || { echo "artifact: installed collection not listed" >&2; exit 1; }
listed=$("$BIN/ansible-doc" -t module -l mailops.orchestrator_email 2>/dev/null | grep -c '^mailops\.orchestrator_email\.' || true)
[ "$listed" -eq "$modules" ] || { echo "artifact: ansible-doc lists $listed modules, the checkout has $modules" >&2; exit 1; }
out=$("$BIN/ansible" localhost -c local -i localhost, -e "ansible_python_interpreter=$BIN/python" \
  -m mailops.orchestrator_email.validate \
  -a '{"config": {"host": {"smtp_host": "smtp.example.com", "from_address": "orchestrator@example.com"}}}' 2>&1) \
  || { echo "artifact: the installed validate module failed:" >&2; echo "$out" >&2; exit 1; }
echo "$out" | grep -q '"valid": true' || { echo "artifact: unexpected module result: $out" >&2; exit 1; }
echo "artifact: $(basename "$TARBALL"): $(wc -l < "$listing") entries, $modules modules and $roles roles listed; installs; ansible-doc lists $listed modules; validate runs"
