/**
 * A real Kubernetes control plane for tests and local development: etcd, kube-apiserver and
 * kube-controller-manager (garbage collector, namespace, deployment, replicaset, service-account and
 * statefulset, resource-quota and PVC-protection controllers), on free loopback ports under a temp dir. The binaries come from `hack/build-tools.sh`.
 *
 * With `node`, it is the control plane of a real node (hack/node/): the API server listens on the
 * node's address with a CA-signed certificate pods can verify, authorises kubelets (Node, RBAC), can
 * reach them (logs, exec) and aggregate metrics-server; every controller runs; and kube-scheduler
 * places the pods.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:https';
import { stringify } from 'yaml';
import { makeNodePki, type NodePki } from './node/pki.js';
import { launch as launchProcess, terminate } from './process.js';

export interface ControlPlane {
  /** `https://127.0.0.1:<port>` */
  readonly server: string;
  readonly token: string;
  readonly kubeconfigPath: string;
  readonly dir: string;
  /** Set in node mode. */
  readonly node?: {
    readonly pki: NodePki;
    /** A kubeconfig for the kubelet (`system:node:<name>`, group `system:nodes`). */
    readonly kubeletKubeconfigPath: string;
    readonly apiPort: number;
  };
  /** Restarts kube-apiserver on the same port and data (for recovery tests). */
  restartApiServer(): Promise<void>;
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  /** Where the binaries are. Default `$TANDEM_TOOLS_BIN` or `~/.cache/tandem-tools/bin`. */
  readonly binDir?: string;
  /** Keep the temp dir after stop (logs, etcd data). Default false. */
  readonly keepDir?: boolean;
  readonly log?: (message: string) => void;
  /**
   * Runs once kube-apiserver is ready, before kube-controller-manager starts: install CRDs here, so
   * the garbage collector knows their kinds from the start (it rediscovers only every 30 s).
   */
  readonly beforeControllers?: (kubeconfigPath: string) => Promise<void>;
  /** Run as the control plane of a real node with this address and name (see hack/node/). */
  readonly node?: { readonly ip: string; readonly name: string };
}

const CONTROLLERS = [
  'garbage-collector-controller',
  'namespace-controller',
  'deployment-controller',
  'replicaset-controller',
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'resourcequota-controller',
  'persistentvolumeclaim-protection-controller',
  'statefulset-controller',
];

export const TOOLS = ['etcd', 'kube-apiserver', 'kube-controller-manager'] as const;

/** The API server's port in node mode. */
export const NODE_API_PORT = 6443;

/** The Service range; its first address is the `kubernetes` Service, its tenth `kube-dns` (as kubeadm does). */
export const SERVICE_CIDR = '10.96.0.0/16';

export function toolsBinDir(): string {
  return process.env.TANDEM_TOOLS_BIN ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tandem-tools', 'bin');
}

/** Path to a Go-built tool, or a clear error naming the command that builds it. */
export function toolPath(name: string, binDir = toolsBinDir()): string {
  const path = join(binDir, name);
  if (!existsSync(path)) throw new Error(`${name} not found at ${path}: run \`npm run tools\` (hack/build-tools.sh) to build it`);
  return path;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const binDir = options.binDir ?? toolsBinDir();
  const log = options.log ?? (() => {});
  const [etcdBin, apiserverBin, kcmBin] = TOOLS.map((t) => toolPath(t, binDir)) as [string, string, string];

  const dir = mkdtempSync(join(tmpdir(), 'tandem-cp-'));
  const pki = join(dir, 'pki');
  mkdirSync(pki);
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const token = randomBytes(24).toString('hex');
  const nodeToken = randomBytes(24).toString('hex');
  const node = options.node;
  const tokens = [`${token},admin,admin,"system:masters"`];
  if (node) tokens.push(`${nodeToken},system:node:${node.name},system:node:${node.name},"system:nodes"`);
  writeFileSync(join(dir, 'tokens.csv'), `${tokens.join('\n')}\n`);
  const nodePki = node ? makeNodePki(pki, node.ip) : undefined;

  // A node's pods reach the API server through the `kubernetes` Service, which NetworkPolicies see as the
  // port behind it: 6443, as kubeadm clusters use (one node per machine, so it is free).
  const [etcdPort, etcdPeerPort, apiPort] = [await freePort(), await freePort(), node ? NODE_API_PORT : await freePort()];
  const server = `https://127.0.0.1:${apiPort}`;
  const kubeconfigPath = join(dir, 'kubeconfig');
  writeFileSync(kubeconfigPath, kubeconfig(server, token));
  const kubeletKubeconfigPath = join(dir, 'kubelet.kubeconfig');
  if (node) writeFileSync(kubeletKubeconfigPath, kubeconfig(`https://${node.ip}:${apiPort}`, nodeToken, 'kubelet', nodePki!.ca));

  const processes: ChildProcess[] = [];
  const launch = (name: string, bin: string, args: string[]) => {
    const { child } = launchProcess(name, bin, args, { logDir: dir, onExit: (n, code, signal) => log(`${n} exited (code ${code}, signal ${signal})`) });
    processes.push(child);
    return child;
  };

  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  launch('etcd', etcdBin, [
    `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=${etcdUrl}`,
    `--advertise-client-urls=${etcdUrl}`,
    `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
    `--initial-cluster=default=http://127.0.0.1:${etcdPeerPort}`,
    '--unsafe-no-fsync=true',
    '--log-level=warn',
  ]);

  const apiserverArgs = [
    `--etcd-servers=${etcdUrl}`,
    `--cert-dir=${pki}`,
    `--secure-port=${apiPort}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    '--allow-privileged=true',
    ...(nodePki && node ? nodeApiServerArgs(nodePki, node.ip) : ['--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', '--authorization-mode=RBAC']),
    `--token-auth-file=${join(dir, 'tokens.csv')}`,
    `--service-account-issuer=${server}`,
    `--service-account-key-file=${join(dir, 'sa.pub')}`,
    `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
    '--enable-priority-and-fairness=false',
    '--v=0',
  ];
  let apiserver = launch('kube-apiserver', apiserverBin, apiserverArgs);
  const watchdog = startWatchdog(() => processes.map((p) => p.pid).filter((p): p is number => p !== undefined), dir, options.keepDir ?? false);

  const stop = async () => {
    watchdog.kill('SIGKILL');
    for (const p of [...processes].reverse()) await terminate(p);
    if (!options.keepDir) rmSync(dir, { recursive: true, force: true });
  };

  try {
    await waitReady(server, token, apiserver, join(dir, 'kube-apiserver.log'));
    log(`kube-apiserver ready at ${server}`);
    await options.beforeControllers?.(kubeconfigPath);
    const started = [
      launch('kube-controller-manager', kcmBin, [
        `--kubeconfig=${kubeconfigPath}`,
        '--leader-elect=false',
        '--secure-port=0',
        ...(nodePki
          ? ['--controllers=*', `--root-ca-file=${nodePki.ca}`, '--horizontal-pod-autoscaler-sync-period=5s']
          : [`--controllers=${CONTROLLERS.join(',')}`, `--root-ca-file=${join(pki, 'apiserver.crt')}`]),
        `--service-account-private-key-file=${join(dir, 'sa.key')}`,
        '--use-service-account-credentials=false',
        '--concurrent-gc-syncs=5',
      ]),
    ];
    if (node) started.push(launch('kube-scheduler', toolPath('kube-scheduler', binDir), [`--kubeconfig=${kubeconfigPath}`, '--leader-elect=false', '--secure-port=0']));
    watchdog.update();
    // A bad flag makes them exit at once; fail here rather than run tests without garbage collection.
    await new Promise((r) => setTimeout(r, 1000));
    for (const p of started) {
      const name = p.spawnargs.find((a) => a.endsWith('kube-controller-manager') || a.endsWith('kube-scheduler'));
      if (p.exitCode !== null) throw new Error(`${name} exited with code ${p.exitCode}; see ${dir}`);
    }
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    server,
    token,
    kubeconfigPath,
    dir,
    ...(nodePki ? { node: { pki: nodePki, kubeletKubeconfigPath, apiPort } } : {}),
    stop,
    async restartApiServer() {
      await terminate(apiserver);
      processes.splice(processes.indexOf(apiserver), 1);
      apiserver = launch('kube-apiserver', apiserverBin, apiserverArgs);
      watchdog.update();
      await waitReady(server, token, apiserver, join(dir, 'kube-apiserver.log'));
    },
  };
}

/** The API server flags of node mode (see the module comment; hack/node/pki.ts makes the files). */
function nodeApiServerArgs(pki: NodePki, nodeIp: string): string[] {
  return [
    '--bind-address=0.0.0.0',
    `--advertise-address=${nodeIp}`,
    '--authorization-mode=Node,RBAC',
    '--enable-admission-plugins=NodeRestriction',
    `--tls-cert-file=${pki.apiserverCert}`,
    `--tls-private-key-file=${pki.apiserverKey}`,
    `--client-ca-file=${pki.ca}`,
    `--kubelet-client-certificate=${pki.kubeletClientCert}`,
    `--kubelet-client-key=${pki.kubeletClientKey}`,
    `--requestheader-client-ca-file=${pki.frontProxyCa}`,
    '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--proxy-client-cert-file=${pki.frontProxyClientCert}`,
    `--proxy-client-key-file=${pki.frontProxyClientKey}`,
    '--enable-aggregator-routing=true',
  ];
}

/** A kubeconfig with a bearer token; the CA is verified when given, skipped otherwise (loopback tests). */
function kubeconfig(server: string, token: string, user = 'admin', caFile?: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'tandem-test', cluster: caFile ? { server, 'certificate-authority': caFile } : { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: 'tandem-test', context: { cluster: 'tandem-test', user } }],
    'current-context': 'tandem-test',
  });
}

async function waitReady(server: string, token: string, proc: ChildProcess, logPath: string, timeoutMs = 90_000): Promise<void> {
  const agent = new Agent({ rejectUnauthorized: false });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`kube-apiserver exited with code ${proc.exitCode}; see ${logPath}`);
    const status = await new Promise<number>((resolve) => {
      const req = request(`${server}/readyz`, { agent, headers: { Authorization: `Bearer ${token}` }, timeout: 2000 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(0));
      req.on('timeout', () => req.destroy());
      req.end();
    });
    if (status === 200) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`kube-apiserver not ready after ${timeoutMs} ms; see ${logPath}`);
}

/**
 * A tiny shell that outlives us only to kill the control plane when this process dies without
 * running its cleanup (SIGKILL, a crashed test runner), so no etcd or apiserver is ever orphaned.
 * It backs up PR_SET_PDEATHSIG, which is missing where setpriv is not installed.
 */
function startWatchdog(pids: () => number[], dir: string, keepDir: boolean) {
  const script = `
    pids=""
    while read -t 1 line || [ $? -gt 128 ]; do
      [ -n "$line" ] && pids="$line"
      kill -0 ${process.pid} 2>/dev/null || break
    done
    [ -n "$pids" ] && kill -TERM $pids 2>/dev/null; sleep 3; [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
    ${keepDir ? '' : `rm -rf '${dir}'`}
  `;
  const child = spawn('bash', ['-c', script], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  const update = () => child.stdin?.write(`${pids().join(' ')}\n`);
  update();
  return { update, kill: (signal: NodeJS.Signals) => child.kill(signal) };
}
