#!/usr/bin/env bash
# Installs the PyPI test tools pinned under hack/tools/<tool>/requirements.txt (their whole dependency set
# fixed by constraints.txt next to it) into a virtual environment
# outside the work tree, keyed by a hash of the requirements: ~/.cache/tandem-venvs/<tool>-<hash>. An
# existing environment is reused; a half-built one (no `.complete` marker) is rebuilt. The tool's entry
# point is linked into the tools bin directory next to the Go-built ones.
# Usage: hack/python-tools.sh [tool ...]   (default: all)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
venvs="${TANDEM_VENVS:-${XDG_CACHE_HOME:-$HOME/.cache}/tandem-venvs}"
bin="${TANDEM_TOOLS_BIN:-${TANDEM_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tandem-tools}/bin}"
mkdir -p "$venvs" "$bin"
# Debian's python3 (python3-venv comes from hack/system-deps.sh), not whatever a version manager put first on PATH.
python="${TANDEM_PYTHON:-$(command -v /usr/bin/python3 || command -v python3 || true)}"
[[ -n $python ]] || { echo "python-tools: python3 with venv is needed for checkov; install python3-venv and retry" >&2; exit 1; }

install() { # tool name, the entry point to link
  local name=$1 entry=$2 reqs="$here/tools/$1/requirements.txt" constraints="$here/tools/$1/constraints.txt"
  local key; key="$( { cat "$reqs" "$constraints"; "$python" -c 'import sys; print(sys.version_info[:3])'; } | sha256sum | cut -c1-12)"
  local env="$venvs/$name-$key"
  if [[ ! -f $env/.complete ]]; then
    # One install at a time across checkouts; another run's finished environment is taken as it is.
    exec {lock}>"$venvs/.install.lock"
    flock "$lock"
    if [[ ! -f $env/.complete ]]; then
      echo "installing $name into $env (once per requirements file)" >&2
      rm -rf "$env"
      "$python" -m venv "$env"
      "$env/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$reqs" -c "$constraints"
      touch "$env/.complete"
    fi
    exec {lock}>&-
  fi
  ln -sfn "$env/bin/$entry" "$bin/$entry"
}

selected=("$@")
for tool in checkov; do
  if [[ ${#selected[@]} -gt 0 && " ${selected[*]} " != *" $tool "* ]]; then continue; fi
  install "$tool" "$tool"
done
