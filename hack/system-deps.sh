#!/usr/bin/env bash
# Installs the Debian packages the tests need (idempotent: nothing happens when all are present).
# Called by `npm run tools`, so the README's test command sets up a fresh machine by itself.
# Usage: hack/system-deps.sh [package ...]   (default: every package below)
set -euo pipefail

# package             why
packages=(
  redis-server      # the cache tier's tests run against a real redis-server
  python3-venv      # checkov (the manifest policy checks) lives in a virtual environment (hack/python-tools.sh)
  openjdk-17-jre-headless   # Spark (PyPI pyspark, hack/tools/pyspark) for the `spark` training engine's tests
  # The real node of the end-to-end suite (hack/node/) and its images (images/build.sh):
  containerd runc containernetworking-plugins   # the container runtime and the CNI bridge
  iptables ipset conntrack                       # kube-proxy and kube-router's NetworkPolicy enforcement
  buildah mmdebstrap busybox-static              # images without a Docker engine: local bases, the helper shell
  gcc libc6-dev binutils                         # the pause binary, built from the pinned Kubernetes source
)

wanted=("$@")
[[ ${#wanted[@]} -gt 0 ]] || wanted=("${packages[@]}")
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if ! command -v apt-get >/dev/null; then
  echo "system-deps: missing ${missing[*]} and no apt-get here; install them with your package manager" >&2
  exit 1
fi
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
echo "system-deps: installing ${missing[*]}" >&2
# apt holds its own lock; wait for it instead of failing when another checkout installs at the same time.
exec {lock}>/tmp/tandem-apt.lock
flock "$lock"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
$sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
