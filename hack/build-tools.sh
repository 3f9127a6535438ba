#!/usr/bin/env bash
# Builds the Go test tools pinned under hack/tools/*/go.mod into a cache outside the work tree,
# keyed by tool version and a hash of its module files. A cached tool is reused, never rebuilt.
# Usage: hack/build-tools.sh [tool ...]   (default: all)   Prints the bin directory last.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
command -v go >/dev/null || export PATH="/usr/local/go/bin:$PATH"
command -v go >/dev/null || { echo "build-tools: Go >= 1.25 is needed to build the test tools (kube-apiserver, etcd, …); install it and retry" >&2; exit 1; }
cache="${TANDEM_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tandem-tools}"
export CGO_ENABLED=0 GOFLAGS=-mod=mod GONOSUMDB=github.com/np-guard,github.com/grafana/dashboard-linter
bin="$cache/bin"
mkdir -p "$bin"

module_version() { # module dir, module path → version required in go.mod
  awk -v m="$2" '$1 == m || $2 == m { for (i = 1; i <= NF; i++) if ($i ~ /^v[0-9]/) { print $i; exit } }' "$1/go.mod"
}

build() { # name, module dir, package, version, ldflags
  local name=$1 dir=$2 pkg=$3 version=$4 ldflags=${5:-}
  # The cache key covers what decides the binary: the module's pins, its local main and the flags.
  local key; key="$( { cat "$dir/go.mod" "$dir/go.sum"; [[ $pkg == ./* ]] && cat "$dir/$pkg"/*.go; echo "$ldflags"; } | sha256sum | cut -c1-12)"
  local out="$cache/$name-$version-$key/$name"
  if [[ ! -x $out ]]; then
    # One Go build at a time across every checkout on the machine (2 cores; each link wants ~2 GiB),
    # and a tool another run built while this one waited is taken as it is.
    exec {lock}>"$cache/.build.lock"
    flock "$lock"
    if [[ ! -x $out ]]; then
      echo "building $name $version (once per version; cached in $cache)" >&2
      local start=$SECONDS
      (cd "$dir" && go build -trimpath -ldflags "-s -w $ldflags" -o "$out.tmp" "$pkg") && mv "$out.tmp" "$out"
      echo "built $name in $((SECONDS - start))s" >&2
    fi
    exec {lock}>&-
  fi
  ln -sfn "$out" "$bin/$name"
}

selected=("$@")
want() { [[ ${#selected[@]} -eq 0 ]] || [[ " ${selected[*]} " == *" $1 "* ]]; }

kube_dir="$here/tools/kubernetes"
kube_version="$(module_version "$kube_dir" k8s.io/kubernetes)"
minor="$(cut -d. -f2 <<<"$kube_version")"
kube_ldflags="-X k8s.io/component-base/version.gitVersion=$kube_version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/client-go/pkg/version.gitVersion=$kube_version -X k8s.io/component-base/version.gitTreeState=clean"

# The control plane and the chart/rules/dashboard tools (the Prometheus server shares promtool's module), then
# the node: kubelet, kube-proxy, kube-scheduler (same pinned k8s.io/kubernetes), CoreDNS, kube-router
# (NetworkPolicy enforcement only), metrics-server, kube-state-metrics (the object series that alerts and
# dashboards read), local-path-provisioner (volumes, as kind and k3s provision them), and crane (the local image
# registry); then the policy checker kube-score and SeaweedFS's `weed` (an S3 server for the model store tests).
for tool in etcd kube-apiserver kube-controller-manager kubectl promtool prometheus helm netpolicy dashboard-linter \
  kubelet kube-proxy kube-scheduler coredns kube-router metrics-server kube-state-metrics local-path-provisioner crane kube-score weed; do
  if ! want "$tool"; then continue; fi
  case $tool in
    etcd) build etcd "$here/tools/etcd" ./ "$(module_version "$here/tools/etcd" go.etcd.io/etcd/server/v3)" ;;
    kube-apiserver | kube-controller-manager | kubectl | kubelet | kube-proxy | kube-scheduler)
      build "$tool" "$kube_dir" "./cmd/$tool" "$kube_version" "$kube_ldflags" ;;
    promtool)
      v="$(module_version "$here/tools/prometheus" github.com/prometheus/prometheus)"
      build promtool "$here/tools/prometheus" github.com/prometheus/prometheus/cmd/promtool "$v" \
        "-X github.com/prometheus/common/version.Version=3.${v#v0.}" ;;
    prometheus)
      # Without the `builtinassets` tag the web UI is not embedded; the HTTP API the tests use is all there.
      v="$(module_version "$here/tools/prometheus" github.com/prometheus/prometheus)"
      build prometheus "$here/tools/prometheus" github.com/prometheus/prometheus/cmd/prometheus "$v" \
        "-X github.com/prometheus/common/version.Version=3.${v#v0.}" ;;
    dashboard-linter)
      build dashboard-linter "$here/tools/dashboard-linter" github.com/grafana/dashboard-linter \
        "$(module_version "$here/tools/dashboard-linter" github.com/grafana/dashboard-linter)" ;;
    helm)
      v="$(module_version "$here/tools/helm" helm.sh/helm/v3)"
      build helm "$here/tools/helm" helm.sh/helm/v3/cmd/helm "$v" "-X helm.sh/helm/v3/internal/version.version=$v" ;;
    netpolicy)
      build netpolicy "$here/tools/netpol" github.com/np-guard/netpol-analyzer/cmd/netpolicy \
        "$(module_version "$here/tools/netpol" github.com/np-guard/netpol-analyzer)" ;;
    coredns)
      build coredns "$here/tools/coredns" github.com/coredns/coredns "$(module_version "$here/tools/coredns" github.com/coredns/coredns)" ;;
    kube-router)
      v="$(module_version "$here/tools/kube-router" github.com/cloudnativelabs/kube-router/v2)"
      build kube-router "$here/tools/kube-router" github.com/cloudnativelabs/kube-router/v2/cmd/kube-router "$v" \
        "-X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$v" ;;
    metrics-server)
      v="$(module_version "$here/tools/metrics-server" sigs.k8s.io/metrics-server)"
      build metrics-server "$here/tools/metrics-server" sigs.k8s.io/metrics-server/cmd/metrics-server "$v" \
        "-X k8s.io/client-go/pkg/version.gitVersion=$v" ;;
    kube-state-metrics)
      v="$(module_version "$here/tools/kube-state-metrics" k8s.io/kube-state-metrics/v2)"
      build kube-state-metrics "$here/tools/kube-state-metrics" k8s.io/kube-state-metrics/v2 "$v" \
        "-X github.com/prometheus/common/version.Version=$v -X k8s.io/kube-state-metrics/v2/pkg/app.ClientGoVersion=$(module_version "$here/tools/kube-state-metrics" k8s.io/client-go)" ;;
    local-path-provisioner)
      v="$(module_version "$here/tools/local-path-provisioner" github.com/rancher/local-path-provisioner)"
      build local-path-provisioner "$here/tools/local-path-provisioner" github.com/rancher/local-path-provisioner "$v" ;;
    crane)
      v="$(module_version "$here/tools/crane" github.com/google/go-containerregistry)"
      build crane "$here/tools/crane" github.com/google/go-containerregistry/cmd/crane "$v" \
        "-X github.com/google/go-containerregistry/cmd/crane/cmd.Version=$v" ;;
    kube-score)
      v="$(module_version "$here/tools/kube-score" github.com/zegl/kube-score)"
      build kube-score "$here/tools/kube-score" github.com/zegl/kube-score/cmd/kube-score "$v" "-X main.version=$v" ;;
    weed)
      v="$(module_version "$here/tools/seaweedfs" github.com/seaweedfs/seaweedfs)"
      build weed "$here/tools/seaweedfs" github.com/seaweedfs/seaweedfs/weed "$v" \
        "-X github.com/seaweedfs/seaweedfs/weed/util/version.COMMIT=${v##*-}" ;;
  esac
done
echo "$bin"
