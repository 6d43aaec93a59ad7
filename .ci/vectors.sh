#!/usr/bin/env bash
# Installs the pinned itsdangerous, Flask and werkzeug into a virtualenv, regenerates the
# known-answer vectors and fails if they differ from the committed ones (drift), then prints
# the virtualenv's python for the round-trip test (MITTEN_PYTHON).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=$root/target/tools/pyvenv

if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  echo "vectors: installing python3 and python3-venv" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >/dev/null
fi
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import itsdangerous, flask, werkzeug' 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/scripts/vectors/requirements.txt" >&2
fi

fresh=$(mktemp -d)
trap 'rm -rf "$fresh"' EXIT
"$venv/bin/python" "$root/scripts/vectors/generate.py" "$fresh"
for file in itsdangerous.json werkzeug.json; do
  if ! diff -u "$root/crates/mitten-core/tests/vectors/$file" "$fresh/$file" >&2; then
    echo "vectors: $file differs from what the pinned libraries produce; run scripts/vectors/generate.py crates/mitten-core/tests/vectors" >&2
    exit 1
  fi
done
echo "vectors: committed vectors match itsdangerous, Flask and werkzeug" >&2
echo "$venv/bin/python"
