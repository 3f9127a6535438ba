#!/usr/bin/env bash
# `npm run images`: builds Tandem's images here with buildah (no Docker engine, no registry access):
#   recommender, operator          images/Dockerfile, against the local bases of images/base.sh
#   pause, coredns, metrics-server, kube-state-metrics, local-path-provisioner, busybox, redis
#                                  the test node's own images (a static binary on an empty base; Debian's Redis)
# Each image is tagged `localhost/tandem-dev/<name>:<version>-<hash of its inputs>`, so an unchanged input
# is never rebuilt. Prints a JSON map {name: reference} on stdout (the test node reads it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash hack/system-deps.sh buildah mmdebstrap gcc libc6-dev binutils busybox-static >&2
bin=$(bash hack/build-tools.sh coredns metrics-server kube-state-metrics local-path-provisioner | tail -n 1)
version=$(node -p 'require("./package.json").version')

exists() { buildah inspect --type image "$1" >/dev/null 2>&1; }
hash_of() { sha256sum "$@" | sha256sum | cut -c1-12; }

mapfile -t bases < <(bash images/base.sh)
node_base=${bases[0]} runtime_base=${bases[1]}

declare -A refs
# This machine reaches the npm registry through a TLS-intercepting proxy whose CA is in the system bundle.
ca_secret=()
ca_bundle=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
[[ -f $ca_bundle ]] && ca_secret=(--secret "id=npm-ca,src=$ca_bundle")

# The two product images: the hash covers everything the Dockerfile copies, and the bases.
sources=$(git ls-files -co --exclude-standard package.json package-lock.json tsconfig.json tsconfig.build.json \
  cdk8s operator recommender/src images/Dockerfile .dockerignore | grep -vE '\.test\.ts$|/test/|recommender/src/bench/|operator/bench\.ts$|cdk8s/synth\.ts$' | sort)
app_hash=$( { hash_of $sources; echo "$node_base $runtime_base"; } | sha256sum | cut -c1-12)
for target in recommender operator; do
  ref="localhost/tandem-dev/$target:$version-$app_hash"
  if ! exists "$ref"; then
    echo "images: building $ref" >&2
    start=$SECONDS
    log=$(mktemp)
    if ! buildah bud --isolation chroot --network host --pull-never --layers \
      -f images/Dockerfile --target "$target" "${ca_secret[@]}" \
      --build-arg "NODE_IMAGE=$node_base" --build-arg "RUNTIME_IMAGE=$runtime_base" \
      --build-arg "VERSION=$version" --build-arg "REVISION=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
      -t "$ref" . >"$log" 2>&1; then
      echo "images: building $target failed; the end of its log:" >&2
      tail -n 40 "$log" >&2
      exit 1
    fi
    rm -f "$log"
    echo "images: built $target in $((SECONDS - start))s" >&2
  fi
  refs[$target]=$ref
done

# One static binary on an empty base.
scratch_image() { # name, binary, uid, entrypoint args...
  local name=$1 binary=$2 uid=$3; shift 3
  local ref="localhost/tandem-dev/$name:$(hash_of "$binary")"
  if ! exists "$ref"; then
    echo "images: building $ref" >&2
    local c; c=$(buildah from scratch)
    buildah copy --quiet "$c" "$binary" "/$name" >/dev/null
    local entrypoint="[\"/$name\""
    for arg in "$@"; do entrypoint+=",\"$arg\""; done
    buildah config --entrypoint "$entrypoint]" --user "$uid:$uid" \
      --label "org.opencontainers.image.title=$name" "$c"
    buildah commit --quiet --rm "$c" "$ref" >/dev/null
  fi
  refs[$name]=$ref
}

# The pod sandbox image, from the pause.c of the pinned k8s.io/kubernetes (its Makefile's flags).
kube_version=$(awk '$1 == "k8s.io/kubernetes" { print $2 }' hack/tools/kubernetes/go.mod)
pause_src=$(cd hack/tools/kubernetes && go env GOMODCACHE)/k8s.io/kubernetes@$kube_version/build/pause/linux/pause.c
[[ -f $pause_src ]] || (cd hack/tools/kubernetes && go mod download k8s.io/kubernetes)
pause_bin="${TANDEM_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tandem-tools}/pause-3.10.1/pause"
if [[ ! -x $pause_bin ]]; then
  mkdir -p "$(dirname "$pause_bin")"
  gcc -Os -Wall -Werror -static -DVERSION=v3.10.1-tandem -o "$pause_bin" "$pause_src"
  strip "$pause_bin"
fi
scratch_image pause "$pause_bin" 65535
scratch_image coredns "$(readlink -f "$bin/coredns")" 65532
scratch_image metrics-server "$(readlink -f "$bin/metrics-server")" 65532
scratch_image kube-state-metrics "$(readlink -f "$bin/kube-state-metrics")" 65534
scratch_image local-path-provisioner "$(readlink -f "$bin/local-path-provisioner")" 0

# The shell local-path-provisioner's helper pods run its setup and teardown scripts with.
busybox_ref="localhost/tandem-dev/busybox:$(hash_of /bin/busybox)"
if ! exists "$busybox_ref"; then
  echo "images: building $busybox_ref" >&2
  c=$(buildah from scratch)
  buildah copy --quiet "$c" /bin/busybox /bin/busybox >/dev/null
  for applet in sh mkdir rm chmod ls cat; do buildah run --isolation chroot "$c" -- /bin/busybox ln -s busybox "/bin/$applet"; done
  buildah config --cmd /bin/sh --label org.opencontainers.image.title=busybox "$c"
  buildah commit --quiet --rm "$c" "$busybox_ref" >/dev/null
fi
refs[busybox]=$busybox_ref

# Redis for the cache tier: Debian's redis-server on a minimal bookworm (the StatefulSet's start script and
# readiness probe need sh, sed, grep and redis-cli, as the official image has them).
redis_version=$(dpkg-query -W -f='${Version}' redis-server 2>/dev/null | sed 's/^[0-9]*://; s/[-+~].*//')
redis_packages=redis-server,redis-tools
redis_ref="localhost/tandem-dev/redis:${redis_version:-bookworm}"
if ! exists "$redis_ref"; then
  echo "images: building $redis_ref" >&2
  work=$(mktemp -d)
  mmdebstrap --quiet --variant=minbase --include="$redis_packages" --aptopt='Acquire::Check-Valid-Until "false"' \
    bookworm "$work/redis.tar" /etc/apt/sources.list.d/debian.sources
  c=$(buildah from scratch)
  buildah add --quiet "$c" "$work/redis.tar" / >/dev/null
  rm -rf "$work"
  buildah run --isolation chroot "$c" -- sh -c 'mkdir -p /data && chown 999:1000 /data'
  buildah config --cmd redis-server --user 999:1000 --workingdir /data --label org.opencontainers.image.title=redis "$c"
  buildah commit --quiet --rm "$c" "$redis_ref" >/dev/null
fi
refs[redis]=$redis_ref

# Older builds of these images are dropped (buildah keeps the layers the current ones share).
current=" ${refs[*]} "
for old in $(buildah images --format '{{.Name}}:{{.Tag}}' | grep '^localhost/tandem-dev/'); do
  [[ $current == *" $old "* ]] || buildah rmi "$old" >/dev/null 2>&1 || true
done

printf '{'
sep=''
for name in "${!refs[@]}"; do printf '%s"%s":"%s"' "$sep" "$name" "${refs[$name]}"; sep=','; done
printf '}\n'
