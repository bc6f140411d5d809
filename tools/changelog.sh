#!/usr/bin/env bash
# `make changelog-lint`: the changelog fragments are valid (antsibull-changelog lint), and
# CHANGELOG.md + changelogs/changelog.yaml are what `make changelog` generates from them now (run
# in a scratch copy, so the checkout is not touched). Fix a failure with `make changelog`.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/.venv/bin"
VERSION=$(sed -n 's/^version: *//p' "$ROOT/galaxy.yml")
DATE=${RELEASE_DATE:?RELEASE_DATE (the date make changelog uses) must be set}
cd "$ROOT"
"$BIN/antsibull-changelog" lint

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git ls-files -z --cached --others --exclude-standard -- galaxy.yml CHANGELOG.md changelogs plugins meta \
  | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done | xargs -0 cp --parents -t "$work"
(cd "$work" && rm -f changelogs/changelog.yaml \
  && "$BIN/antsibull-changelog" release --version "$VERSION" --date "$DATE" > /dev/null)
for f in CHANGELOG.md changelogs/changelog.yaml; do
  if ! diff -u "$f" "$work/$f" > "$work/diff.txt"; then
    echo "changelog: $f is not generated from the current fragments; run 'make changelog':" >&2
    head -40 "$work/diff.txt" >&2
    exit 1
  fi
done
echo "changelog: fragments lint clean; CHANGELOG.md for $VERSION is up to date"
