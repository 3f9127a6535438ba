/**
 * A real kubelet node for the local control plane (hack/control-plane.ts in node mode): containerd with
 * its own socket, root and CNI config; a CNI bridge; the kubelet; kube-proxy (iptables); kube-router as
 * the NetworkPolicy enforcer; and, as pods, CoreDNS (`kube-dns`), metrics-server, kube-state-metrics and
 * local-path-provisioner (the default StorageClass). Images come from `npm run images` through a local
 * registry. One node per machine (a lock serialises runs); everything it leaves behind is removed by
 * hack/node/teardown.sh, before each start, at stop, and by a watchdog if this process dies.
 * The recipe and its pitfalls: ../shared/notes/real-node.md.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import type { KubernetesObject } from '@kubernetes/client-node';
import { freePort, startControlPlane, toolPath, type ControlPlane, type ControlPlaneOptions } from '../control-plane.js';
import { addons } from './addons.js';
import { cniConflist, containerdConfig, kubeletConfig, kubeProxyConfig, kubeRouterArgs, paths, type NodeLayout } from './config.js';
import { launch, logTail, waitFor, type Launched } from '../process.js';
import { startRegistry, type Registry } from './registry.js';

const run = promisify(execFile);
const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const TEARDOWN = join(HERE, 'teardown.sh');
const LOCK = '/run/tandem-node.lock';

/** The images of `npm run images`, by name, as the node pulls them from the local registry. */
export type NodeImages = Record<(typeof NODE_IMAGES)[number], string>;
const NODE_IMAGES = ['recommender', 'operator', 'redis', 'pause', 'coredns', 'metrics-server', 'kube-state-metrics', 'local-path-provisioner', 'busybox'] as const;

export interface RealNode {
  readonly name: string;
  readonly ip: string;
  readonly images: NodeImages;
  readonly registry: string;
  readonly layout: NodeLayout;
  stop(): Promise<void>;
}

export interface NodeOptions {
  readonly log?: (message: string) => void;
  /** Where the registry keeps its blobs between runs. Default `~/.cache/tandem-images`. */
  readonly cacheDir?: string;
}

/** The address of the interface the default route leaves by (the node's InternalIP). */
export async function defaultRouteAddress(): Promise<string> {
  const { stdout: route } = await run('ip', ['-4', 'route', 'show', 'default']);
  const dev = /\bdev (\S+)/.exec(route)?.[1];
  if (!dev) throw new Error(`no default IPv4 route (ip -4 route show default: ${JSON.stringify(route.trim())}); the node needs one`);
  const { stdout: addr } = await run('ip', ['-4', '-o', 'addr', 'show', 'dev', dev]);
  const ip = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(addr)?.[1];
  if (!ip) throw new Error(`interface ${dev} has no IPv4 address`);
  return ip;
}

/** What the node needs of this machine, checked before anything is started, with what to do about it. */
export async function nodePreflight(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the test node runs containers and changes iptables: run as root (without root: npx vitest run --project unit --project cluster)');
  for (const bin of ['containerd', 'runc', 'ctr', 'iptables', 'ipset', 'buildah']) {
    await run('sh', ['-c', `command -v ${bin}`]).catch(() => {
      throw new Error(`${bin} is missing: run \`npm run tools\` (hack/system-deps.sh installs the node's Debian packages)`);
    });
  }
  for (const tool of ['kubelet', 'kube-proxy', 'kube-scheduler', 'kube-router', 'crane']) toolPath(tool);
}

/** Starts the control plane in node mode and the node, sharing one life: `stop` on either stops both. */
export async function startClusterWithNode(
  options: Omit<ControlPlaneOptions, 'node'> & NodeOptions = {},
): Promise<{ plane: ControlPlane; node: RealNode }> {
  await nodePreflight();
  const ip = await defaultRouteAddress();
  const name = hostname().toLowerCase();
  const lock = await acquireLock(options.log ?? (() => {}));
  try {
    const plane = await startControlPlane({ ...options, node: { ip, name } });
    try {
      const node = await startNode(plane, { ip, name }, options);
      return { plane, node: { ...node, stop: () => node.stop().finally(() => lock.kill('SIGKILL')) } };
    } catch (err) {
      await plane.stop();
      throw err;
    }
  } catch (err) {
    lock.kill('SIGKILL');
    throw err;
  }
}

export async function startNode(plane: ControlPlane, where: { ip: string; name: string }, options: NodeOptions = {}): Promise<RealNode> {
  if (!plane.node) throw new Error('startNode needs a control plane started with `node` (startControlPlane({ node }))');
  const log = options.log ?? (() => {});
  const layout: NodeLayout = {
    ...where,
    stateDir: '/run/tandem-node',
    dataDir: '/var/lib/tandem-node',
    bridge: 'tandem0',
    network: 'tandem-pods',
    podSubnet: '10.244.0.0/24',
    pauseImage: '',
  };
  const p = paths(layout);
  const started: Launched[] = [];
  let watchdog: ChildProcess | undefined;
  const stop = async () => {
    watchdog?.kill('SIGKILL');
    await runTeardown(layout);
    for (const proc of started.reverse()) await proc.stop();
    let left = await leftovers(layout);
    if (left.length > 0) {
      // A shim or CNI plugin may still have been finishing its work: one more pass after it has.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      await runTeardown(layout);
      left = await leftovers(layout);
    }
    if (left.length > 0) throw new Error(`the node left things behind after its teardown: ${left.join('; ')}`);
  };
  try {
    await runTeardown(layout);
    mkdirSync(p.cniConfDir, { recursive: true });
    mkdirSync(p.kubeletRoot, { recursive: true });
    writeFileSync(join(layout.stateDir, 'pod-subnet-prefix'), layout.podSubnet.split('.').slice(0, 2).join('.') + '.');
    watchdog = startTeardownWatchdog();
    const logDir = plane.dir;
    const onExit = (n: string, code: number | null, signal: string | null) => log(`${n} exited (code ${code}, signal ${signal})`);
    const start = (n: string, bin: string, args: string[]) => {
      const proc = launch(n, bin, args, { logDir, pidFile: join(layout.stateDir, `${n}.pid`), onExit });
      started.push(proc);
      return proc;
    };

    // Images: built (cached) by `npm run images`, served by a local registry.
    const t0 = Date.now();
    const built = await buildImages();
    const registry = await startRegistry({ cacheDir: options.cacheDir ?? join(homedir(), '.cache', 'tandem-images'), logDir, pidFile: join(layout.stateDir, 'registry.pid') });
    started.push(registry.process);
    const images = await pushAll(registry, built);
    log(`images ready in ${Date.now() - t0} ms (registry ${registry.host})`);
    const ready: NodeLayout = { ...layout, pauseImage: images.pause };

    await sysctl('net.ipv4.ip_forward', '1');
    await sysctl('net.bridge.bridge-nf-call-iptables', '1');
    writeFileSync(p.containerdConfig, containerdConfig(ready));
    writeFileSync(join(p.cniConfDir, '10-tandem.conflist'), cniConflist(ready));
    const containerd = start('containerd', 'containerd', ['--config', p.containerdConfig]);
    await waitFor('containerd', async () => (await run('ctr', ['--address', p.containerdSocket, 'version'])).stdout.includes('Server'), { timeoutMs: 30_000, proc: containerd });

    const kubeletHealthz = await freePort();
    writeFileSync(p.kubeletConfig, kubeletConfig(ready, plane.node.pki.ca, { healthz: kubeletHealthz }));
    const kubeletArgs = [
      `--config=${p.kubeletConfig}`,
      `--kubeconfig=${plane.node.kubeletKubeconfigPath}`,
      `--node-ip=${layout.ip}`,
      `--hostname-override=${layout.name}`,
      `--root-dir=${p.kubeletRoot}`,
      // cAdvisor finds the containers' pods and names (/metrics/cadvisor labels) on this socket, not the default one.
      `--containerd=${p.containerdSocket}`,
      '--v=1',
    ];
    // As systemd's Restart= does on a real node: a kubelet that exits while containerd's CRI is still
    // coming up (it validates the runtime at start) is started again.
    for (let attempt = 1; ; attempt++) {
      const kubelet = start('kubelet', toolPath('kubelet'), kubeletArgs);
      try {
        await waitFor(`node ${layout.name} Ready`, () => nodeReady(plane, layout.name), { timeoutMs: 120_000, intervalMs: 500, proc: kubelet });
        break;
      } catch (err) {
        if (attempt >= 3 || kubelet.child.exitCode === null) throw err;
        log(`kubelet exited at start (attempt ${attempt}); starting it again: ${logTail(kubelet.logPath, 3)}`);
        started.splice(started.indexOf(kubelet), 1);
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
    log(`node ${layout.name} Ready`);

    writeFileSync(p.kubeProxyConfig, kubeProxyConfig(ready, plane.kubeconfigPath, { healthz: await freePort(), metrics: await freePort() }));
    start('kube-proxy', toolPath('kube-proxy'), [`--config=${p.kubeProxyConfig}`, '--v=1']);
    start('kube-router', toolPath('kube-router'), kubeRouterArgs(ready, plane.kubeconfigPath, await freePort()));

    await kubectl(plane.kubeconfigPath, ['apply', '--server-side', '--field-manager=tandem-test-node', '-f', '-'], addonsYaml(images, join(layout.dataDir, 'volumes')));
    for (const [ns, deploy] of [['kube-system', 'coredns'], ['kube-system', 'metrics-server'], ['kube-system', 'kube-state-metrics'], ['local-path-storage', 'local-path-provisioner']] as const) {
      await kubectl(plane.kubeconfigPath, ['-n', ns, 'rollout', 'status', `deployment/${deploy}`, '--timeout=180s']);
    }
    await kubectl(plane.kubeconfigPath, ['wait', '--for=condition=Available', 'apiservice/v1beta1.metrics.k8s.io', '--timeout=120s']);
    log('add-ons ready: CoreDNS, metrics-server, kube-state-metrics, local-path-provisioner');
    return { name: layout.name, ip: layout.ip, images, registry: registry.host, layout: ready, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** kubectl with a kubeconfig (the control plane's admin one); stdin optional. Returns stdout, or throws with stderr. */
export async function kubectl(kubeconfigPath: string, args: string[], stdin?: string): Promise<string> {
  const res = await kubectlRun(kubeconfigPath, args, stdin);
  if (res.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${res.code}): ${res.stderr.trim() || res.stdout.trim()}`);
  return res.stdout;
}

/** kubectl, with its exit code and both streams, whatever the outcome. */
export function kubectlRun(kubeconfigPath: string, args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(toolPath('kubectl'), [`--kubeconfig=${kubeconfigPath}`, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

function addonsYaml(images: NodeImages, volumesPath: string): string {
  const objects: KubernetesObject[] = addons(
    { coredns: images.coredns, metricsServer: images['metrics-server'], kubeStateMetrics: images['kube-state-metrics'], localPathProvisioner: images['local-path-provisioner'], busybox: images.busybox },
    volumesPath,
  );
  return objects.map((o) => stringify(o)).join('---\n');
}

async function nodeReady(plane: ControlPlane, name: string): Promise<boolean> {
  const out = await kubectl(plane.kubeconfigPath, ['get', 'node', name, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']).catch(() => '');
  return out.trim() === 'True';
}

async function buildImages(): Promise<NodeImages> {
  const { stdout } = await run('bash', [join(ROOT, 'images', 'build.sh')], { cwd: ROOT, maxBuffer: 64 << 20 });
  const refs = JSON.parse(stdout.trim().split('\n').at(-1)!) as Partial<NodeImages>;
  for (const n of NODE_IMAGES) {
    if (!refs[n]) throw new Error(`images/build.sh did not report the ${n} image`);
  }
  return refs as NodeImages;
}

async function pushAll(registry: Registry, built: NodeImages): Promise<NodeImages> {
  const out: Partial<NodeImages> = {};
  for (const [n, ref] of Object.entries(built) as [keyof NodeImages, string][]) out[n] = await registry.push(ref);
  return out as NodeImages;
}

async function sysctl(key: string, value: string): Promise<void> {
  writeFileSync(`/proc/sys/${key.replaceAll('.', '/')}`, value);
}

async function runTeardown(layout: NodeLayout): Promise<void> {
  await run('bash', [TEARDOWN], {
    env: { ...process.env, TANDEM_NODE_STATE: layout.stateDir, TANDEM_NODE_DATA: layout.dataDir, TANDEM_NODE_BRIDGE: layout.bridge, TANDEM_NODE_NETWORK: layout.network },
  });
  mkdirSync(layout.stateDir, { recursive: true });
}

/** What a teardown must have removed: our processes, mounts, bridge, iptables chains and ipsets. */
export async function leftovers(layout: NodeLayout): Promise<string[]> {
  const out = (cmd: string) => run('sh', ['-c', cmd]).then((r) => r.stdout.trim(), () => '');
  const found: string[] = [];
  // Not through `sh -c`: pgrep would find that shell, whose command line holds the pattern.
  const procs = await run('pgrep', ['-af', `${paths(layout).containerdConfig}|containerd-shim.*${paths(layout).containerdSocket}|--root-dir=${paths(layout).kubeletRoot}`]).then((r) => r.stdout.trim(), () => '');
  if (procs) found.push(`processes: ${procs.split('\n').length}`);
  const mounts = await out(`grep -cE ' (${layout.stateDir}|${layout.dataDir})' /proc/self/mounts || true`);
  if (Number(mounts) > 0) found.push(`mounts: ${mounts}`);
  if (await out(`ip link show ${layout.bridge} 2>/dev/null`)) found.push(`bridge ${layout.bridge}`);
  for (const table of ['filter', 'nat', 'mangle']) {
    const chains = await out(`iptables -t ${table} -S 2>/dev/null | grep -cE '^-N KUBE-' || true`);
    if (Number(chains) > 0) found.push(`${table} KUBE-* chains: ${chains}`);
  }
  const masquerade = await out(`iptables -t nat -S 2>/dev/null | grep -cF '${layout.network}' || true`);
  if (Number(masquerade) > 0) found.push(`rules naming ${layout.network}: ${masquerade}`);
  const sets = await out(`ipset list -n 2>/dev/null | grep -cE '^(KUBE-|kube-router-)' || true`);
  if (Number(sets) > 0) found.push(`ipsets: ${sets}`);
  return found;
}

/** Runs the teardown if this process dies without stopping the node (SIGKILL, a crashed test runner). */
function startTeardownWatchdog(): ChildProcess {
  const child = spawn('bash', ['-c', `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; bash '${TEARDOWN}'`], { stdio: 'ignore', detached: true });
  child.unref();
  return child;
}

/**
 * One node per machine (fixed bridge, kubelet and API server ports, iptables chains): a `flock` child holds
 * the lock for as long as we live (it dies with us). Call startNode only while holding it.
 */
async function acquireLock(log: (m: string) => void): Promise<ChildProcess> {
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'flock', '--no-fork', '--exclusive', '--timeout', '1800', LOCK, 'sh', '-c', 'echo locked; exec sleep 2147483647'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const waiting = setTimeout(() => log(`waiting for ${LOCK}: another test node runs on this machine`), 2000);
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
      child.once('exit', (code) => reject(new Error(`could not take ${LOCK} (flock exited ${code}): another test node has held it for 30 minutes`)));
    });
  } finally {
    clearTimeout(waiting);
  }
  return child;
}
