#!/usr/bin/env bash
# Removes everything the test node (hack/node/) leaves on the machine: its processes, containers and
# shims, mounts, network namespaces, bridge, IPAM state, iptables rules and ipsets. Idempotent: safe
# to run when nothing is left, and run before every start, so an interrupted run never leaks into the
# next one. The registry's images and containerd's content store are kept (they are caches).
# Usage: hack/node/teardown.sh   (env: TANDEM_NODE_STATE, TANDEM_NODE_DATA, TANDEM_NODE_BRIDGE, TANDEM_NODE_NETWORK)
set -uo pipefail
state=${TANDEM_NODE_STATE:-/run/tandem-node}
data=${TANDEM_NODE_DATA:-/var/lib/tandem-node}
bridge=${TANDEM_NODE_BRIDGE:-tandem0}
network=${TANDEM_NODE_NETWORK:-tandem-pods}
bin=${TANDEM_TOOLS_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/tandem-tools/bin}
sock="$state/containerd.sock"

# 1. Host processes the harness started (their pids are recorded), most dependent first.
for name in kube-router kube-proxy kubelet registry; do
  pidfile="$state/$name.pid"
  [[ -f $pidfile ]] && kill -TERM "$(cat "$pidfile")" 2>/dev/null
done
sleep 1
for name in kube-router kube-proxy kubelet registry; do
  pidfile="$state/$name.pid"
  [[ -f $pidfile ]] && kill -KILL "$(cat "$pidfile")" 2>/dev/null
  rm -f "$pidfile"
done

# 2. Containers, while containerd still runs: kill every task of the k8s.io namespace, then remove it.
if [[ -S $sock ]] && ctr --address "$sock" version >/dev/null 2>&1; then
  for task in $(ctr --address "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
    ctr --address "$sock" -n k8s.io tasks kill -s SIGKILL "$task" >/dev/null 2>&1
  done
  sleep 1
  for task in $(ctr --address "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
    ctr --address "$sock" -n k8s.io tasks delete -f "$task" >/dev/null 2>&1
  done
  for c in $(ctr --address "$sock" -n k8s.io containers ls -q 2>/dev/null); do
    ctr --address "$sock" -n k8s.io containers delete "$c" >/dev/null 2>&1
  done
fi
# Any containerd started with our config (the pid file may be stale after a crash).
pkill -TERM -f "containerd --config $state/containerd.toml" 2>/dev/null
if [[ -f $state/containerd.pid ]]; then
  pid=$(cat "$state/containerd.pid")
  kill -TERM "$pid" 2>/dev/null
  for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -KILL "$pid" 2>/dev/null
  rm -f "$state/containerd.pid"
fi
pkill -KILL -f "containerd --config $state/containerd.toml" 2>/dev/null
# Shims of our containerd (they name its socket) and whatever still runs under them.
for pid in $(pgrep -f "containerd-shim.*-address $sock" 2>/dev/null); do
  pkill -KILL -P "$pid" 2>/dev/null
  kill -KILL "$pid" 2>/dev/null
done

# CNI plugins our containerd was running (a pod's network set-up or tear-down) finish on their own: let them,
# so their iptables rules are in place before step 5 removes them.
for _ in 1 2 3 4 5 6 7 8 9 10; do pgrep -f '^/(opt/cni/bin|usr/lib/cni)/' >/dev/null 2>&1 || break; sleep 0.5; done

# 3. Mounts under our directories, deepest first (pod volumes, overlay rootfs, sandbox shm).
for dir in "$data" "$state"; do
  awk -v d="$dir" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null
  done
done

# 4. Network: pod namespaces with an address of our bridge's subnet, the bridge, IPAM state.
subnet_prefix=$(cat "$state/pod-subnet-prefix" 2>/dev/null || echo 10.244.)
for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
  if ip netns exec "$ns" ip -4 -o addr show 2>/dev/null | grep -q " inet ${subnet_prefix}"; then
    ip netns delete "$ns" 2>/dev/null
  fi
done
ip link show "$bridge" >/dev/null 2>&1 && ip link delete "$bridge" 2>/dev/null
rm -rf "/var/lib/cni/networks/$network" "/var/lib/cni/results/$network"-* 2>/dev/null

# 5. iptables and ipsets: kube-proxy's own cleanup first; then every KUBE-* chain (the kubelet's, kube-proxy's
#    and kube-router's: one Kubernetes node per machine, see the lock in node.ts), the bridge plugin's
#    masquerade chains (their comment names our network), and kube-router's ipsets.
[[ -x $bin/kube-proxy ]] && "$bin/kube-proxy" --cleanup >/dev/null 2>&1
for table in filter nat mangle; do
  rules=$(iptables -t "$table" -S 2>/dev/null) || continue
  ours=$( { awk '$1 == "-N" && $2 ~ /^KUBE-/ { print $2 }' <<<"$rules"
            grep -F "\\\"$network\\\"" <<<"$rules" | grep -oE -- '-j CNI-[0-9a-f]+' | awk '{ print $2 }'
            # a chain whose jump is gone (a CNI DEL cut short) still names our network in its own rules
            grep -F "\\\"$network\\\"" <<<"$rules" | awk '$1 == "-A" && $2 ~ /^CNI-/ { print $2 }'; } | sort -u)
  [[ -n $ours ]] || continue
  pattern="-j ($(paste -sd'|' <<<"$ours"))( |$)"
  # Rules in other chains that jump to ours, then our chains themselves.
  grep -E -- "$pattern" <<<"$rules" | grep '^-A ' | sed 's/^-A /-D /' | while read -r rule; do
    eval "iptables -t $table $rule" 2>/dev/null
  done
  for chain in $ours; do iptables -t "$table" -F "$chain" 2>/dev/null; done
  for chain in $ours; do iptables -t "$table" -X "$chain" 2>/dev/null; done
done
for set in $(ipset list -n 2>/dev/null | grep -E '^(KUBE-|kube-router-)'); do ipset destroy "$set" 2>/dev/null; done

# 6. The hostpath provisioner's volumes and the kubelet's pod directories.
rm -rf /tmp/hostpath_pv 2>/dev/null
rm -rf "$data/kubelet" "$state" 2>/dev/null
exit 0
