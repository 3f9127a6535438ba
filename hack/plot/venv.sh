#!/usr/bin/env bash
# Creates (once) a Python virtual environment outside the tree for the dashboard pictures, keyed by a hash of
# hack/plot/requirements.txt, and prints its python. Idempotent: an existing venv is reused as it is.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
hash="$(sha256sum "$here/requirements.txt" | cut -c1-12)"
venv="${TANDEM_VENVS:-${XDG_CACHE_HOME:-$HOME/.cache}/tandem-venvs}/plot-$hash"
if [[ ! -x $venv/bin/python ]] || ! "$venv/bin/python" -c 'import matplotlib' 2>/dev/null; then
  rm -rf "$venv.tmp"
  python3 -m venv "$venv.tmp"
  "$venv.tmp/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2
  rm -rf "$venv" && mv "$venv.tmp" "$venv"
fi
echo "$venv/bin/python"
