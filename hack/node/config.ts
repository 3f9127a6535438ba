/**
 * The configuration files of the test node, as pure functions of its layout (hack/node/node.ts writes
 * them). The facts behind each setting are in ../shared/notes/real-node.md.
 */
import { stringify } from 'yaml';
import { SERVICE_CIDR } from '../control-plane.js';

export interface NodeLayout {
  /** Node name (lowercase hostname) and the address pods reach the API server and the kubelet on. */
  readonly name: string;
  readonly ip: string;
  /** Runtime state (sockets, pids, configs); removed on teardown. */
  readonly stateDir: string;
  /** containerd's root (content store, snapshots: a cache kept across runs) and the kubelet's root. */
  readonly dataDir: string;
  readonly bridge: string;
  /** CNI network name; also names the host-local IPAM state and the masquerade rules. */
  readonly network: string;
  /** The pods' subnet on this node, e.g. 10.244.0.0/24, inside CLUSTER_CIDR. */
  readonly podSubnet: string;
  /** The pod sandbox image, in the local registry. */
  readonly pauseImage: string;
}

export const CLUSTER_CIDR = '10.244.0.0/16';
export const CLUSTER_DOMAIN = 'cluster.local';
/** kube-dns, the tenth address of the Service range (as kubeadm does). */
export const CLUSTER_DNS_IP = '10.96.0.10';

export const paths = (l: NodeLayout) => ({
  containerdConfig: `${l.stateDir}/containerd.toml`,
  containerdSocket: `${l.stateDir}/containerd.sock`,
  containerdRoot: `${l.dataDir}/containerd`,
  containerdState: `${l.stateDir}/containerd`,
  cniConfDir: `${l.stateDir}/cni`,
  kubeletConfig: `${l.stateDir}/kubelet.yaml`,
  kubeletRoot: `${l.dataDir}/kubelet`,
  kubeProxyConfig: `${l.stateDir}/kube-proxy.yaml`,
});

/** containerd 1.6 (Debian), with a root, state, socket and CNI config of its own, so it coexists with any other. */
export function containerdConfig(l: NodeLayout): string {
  const p = paths(l);
  return `version = 2
root = "${p.containerdRoot}"
state = "${p.containerdState}"
[grpc]
  address = "${p.containerdSocket}"
[ttrpc]
  address = "${p.containerdSocket}.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${l.pauseImage}"
  # This VM withholds CAP_SYS_RESOURCE even from root, so no process may lower its oom_score_adj: the
  # kubelet's -998 for sandboxes and -997 for Guaranteed pods would fail runc's nsexec. Clamp them to ours.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${p.cniConfDir}"
`;
}

/** CNI: one bridge with host-local IPAM; hairpin so a pod reaches itself through its own Service. */
export function cniConflist(l: NodeLayout): string {
  return `${JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: l.network,
      plugins: [
        {
          type: 'bridge',
          bridge: l.bridge,
          isGateway: true,
          ipMasq: true,
          hairpinMode: true,
          ipam: { type: 'host-local', ranges: [[{ subnet: l.podSubnet }]], routes: [{ dst: '0.0.0.0/0' }] },
        },
      ],
    },
    null,
    2,
  )}\n`;
}

export function kubeletConfig(l: NodeLayout, caFile: string, ports: { healthz: number }): string {
  return stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    // This host has cgroup v1 (hybrid); kubelet 1.35 refuses it unless told otherwise (KEP-5573).
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    containerRuntimeEndpoint: `unix://${paths(l).containerdSocket}`,
    clusterDNS: [CLUSTER_DNS_IP],
    clusterDomain: CLUSTER_DOMAIN,
    resolvConf: '/etc/resolv.conf',
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: caFile } },
    authorization: { mode: 'Webhook' },
    failSwapOn: false,
    // containerd 1.6 cannot pin the pause image; image GC must never delete it (or a side-loaded image).
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '2%', 'imagefs.available': '2%', 'nodefs.inodesFree': '2%' },
    serializeImagePulls: false,
    healthzPort: ports.healthz,
    healthzBindAddress: '127.0.0.1',
    readOnlyPort: 0,
    // Status and metrics come quickly enough for tests (defaults: 10 s and 15 s).
    nodeStatusUpdateFrequency: '5s',
    syncFrequency: '10s',
    maxPods: 110,
    shutdownGracePeriod: '0s',
  });
}

export function kubeProxyConfig(l: NodeLayout, kubeconfigPath: string, ports: { healthz: number; metrics: number }): string {
  return stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: 'iptables',
    clusterCIDR: CLUSTER_CIDR,
    hostnameOverride: l.name,
    clientConnection: { kubeconfig: kubeconfigPath },
    // Zeros: kube-proxy writes no conntrack sysctls (the host's are fine and shared).
    conntrack: { maxPerCore: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    healthzBindAddress: `127.0.0.1:${ports.healthz}`,
    metricsBindAddress: `127.0.0.1:${ports.metrics}`,
  });
}

/** kube-router as a NetworkPolicy enforcer only (no routing, no service proxy), as k3s embeds it. */
export function kubeRouterArgs(l: NodeLayout, kubeconfigPath: string, healthPort: number): string[] {
  return [
    '--run-firewall=true',
    '--run-router=false',
    '--run-service-proxy=false',
    `--kubeconfig=${kubeconfigPath}`,
    `--hostname-override=${l.name}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    '--metrics-port=0',
    `--health-port=${healthPort}`,
    '--iptables-sync-period=10s',
    '--v=1',
  ];
}
