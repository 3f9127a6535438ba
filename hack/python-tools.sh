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
[[ -n $python ]] || { echo "python-tools: python3 with venv is needed for checkov and pyspark; install python3-venv and retry" >&2; exit 1; }

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
      # A file with hashes pins the whole resolution itself: nothing else is resolved.
      local hashes=()
      grep -q -- '--hash=' "$reqs" && hashes=(--require-hashes --no-deps)
      "$env/bin/pip" install --quiet --disable-pip-version-check --no-input "${hashes[@]}" -r "$reqs" -c "$constraints"
      touch "$env/.complete"
    fi
    exec {lock}>&-
  fi
  if [[ $entry == duckdb-extensions ]]; then
    # DuckDB's own layout (<dir>/<duckdb version>/<platform>/<name>.duckdb_extension), so `LOAD httpfs` finds it
    # with SET extension_directory = <dir> (the embedded engine does, from TANDEM_DUCKDB_EXTENSIONS).
    local ext dir="$bin/../duckdb-extensions"
    for ext in "$env"/lib/python*/site-packages/duckdb_extension_*/extensions/v*/*.duckdb_extension; do
      local version; version=$(basename "$(dirname "$ext")")
      mkdir -p "$dir/$version/linux_amd64"
      ln -sfn "$ext" "$dir/$version/linux_amd64/$(basename "$ext")"
    done
    return
  fi
  ln -sfn "$env/bin/$entry" "$bin/$entry"
}

selected=("$@")
# tool:entry point (pyspark's spark-submit runs the `spark` training engine's job in local mode; the httpfs
# extension lets the embedded engine read s3:// inputs)
for tool in checkov:checkov pyspark:spark-submit duckdb-httpfs:duckdb-extensions; do
  name=${tool%%:*}
  if [[ ${#selected[@]} -gt 0 && " ${selected[*]} " != *" $name "* ]]; then continue; fi
  install "$name" "${tool#*:}"
done
