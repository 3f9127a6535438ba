/**
 * Connectivity probes for the end-to-end tests: real TCP connections and HTTP requests from pods (the
 * recommender image has node, so it doubles as the probe image), or from inside a running pod with
 * `kubectl exec`. Every probe has a timeout, and reports `connected` or why it did not.
 */
import { RECOMMENDER_UID } from '../../cdk8s/constants.js';
import { apply, images, k, kJson, until } from './stack.js';

export interface ProbeResult {
  readonly ok: boolean;
  readonly output: string;
}

/** Node code that connects to host:port and exits 0 when connected, 1 when refused, timed out or unresolvable. */
export function tcpProbeScript(host: string, port: number, timeoutMs = 3000): string {
  return `const s=require('net').connect(${port},${JSON.stringify(host)});` +
    `const t=setTimeout(()=>{console.log('timeout');process.exit(1)},${timeoutMs});` +
    `s.on('connect',()=>{console.log('connected');clearTimeout(t);s.destroy();process.exit(0)});` +
    `s.on('error',e=>{console.log('error '+e.code);process.exit(1)});`;
}

/** Node code that GETs a URL (with an optional bearer key) and exits 0 on a 2xx, printing the status and body. */
export function httpProbeScript(url: string, key?: string, timeoutMs = 5000): string {
  const auth = key ? `headers:{authorization:${JSON.stringify(`Bearer ${key}`)}},` : '';
  return `fetch(${JSON.stringify(url)},{${auth}signal:AbortSignal.timeout(${timeoutMs})})` +
    `.then(async r=>{console.log(r.status+' '+(await r.text()));process.exit(r.ok?0:1)})` +
    `.catch(e=>{console.log('error '+(e.cause?.code||e.name));process.exit(1)});`;
}

const restrictedContainer = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } };
const restrictedPod = { runAsNonRoot: true, runAsUser: RECOMMENDER_UID, runAsGroup: RECOMMENDER_UID, seccompProfile: { type: 'RuntimeDefault' } };

let probes = 0;

/** Runs `script` in a fresh pod of `namespace` (restricted, no token), waits for it to finish, returns the outcome. */
export async function probeFromPod(namespace: string, script: string, labels: Record<string, string> = {}): Promise<ProbeResult> {
  const name = `probe-${process.pid}-${++probes}`;
  await apply([
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace, labels: { 'tandem.dev/e2e': 'probe', ...labels } },
      spec: {
        restartPolicy: 'Never',
        automountServiceAccountToken: false,
        securityContext: restrictedPod,
        containers: [{ name: 'probe', image: images().recommender, command: ['node', '-e', script], securityContext: restrictedContainer, resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } } }],
      },
    },
  ]);
  const phase = await until(`probe pod ${namespace}/${name} to finish`, async () => {
    const p = await kJson<{ status?: { phase?: string } }>(['-n', namespace, 'get', 'pod', name]);
    return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' ? p.status.phase : undefined;
  }, 120_000, 500);
  const output = (await k(['-n', namespace, 'logs', name])).trim();
  await k(['-n', namespace, 'delete', 'pod', name, '--wait=false']);
  return { ok: phase === 'Succeeded', output };
}

/** Runs `script` inside a running container (its network identity, its NetworkPolicies). */
export async function probeFromInside(namespace: string, pod: string, script: string): Promise<ProbeResult> {
  try {
    return { ok: true, output: (await k(['-n', namespace, 'exec', pod, '--', 'node', '-e', script])).trim() };
  } catch (err) {
    return { ok: false, output: err instanceof Error ? err.message : String(err) };
  }
}

/** A long-running HTTP server pod (a stand-in for a payments service) and its address once Ready. */
export async function serverPod(namespace: string, name: string, port = 8080): Promise<string> {
  await apply([
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace, labels: { app: name } },
      spec: {
        automountServiceAccountToken: false,
        securityContext: restrictedPod,
        containers: [
          {
            name: 'server',
            image: images().recommender,
            command: ['node', '-e', `require('http').createServer((q,s)=>s.end('payments')).listen(${port})`],
            ports: [{ containerPort: port }],
            readinessProbe: { tcpSocket: { port }, periodSeconds: 1 },
            securityContext: restrictedContainer,
            resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } },
          },
        ],
      },
    },
  ]);
  await k(['-n', namespace, 'wait', '--for=condition=Ready', `pod/${name}`, '--timeout=120s']);
  return (await k(['-n', namespace, 'get', 'pod', name, '-o', 'jsonpath={.status.podIP}'])).trim();
}
