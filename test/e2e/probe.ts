/**
 * Connectivity probes for the end-to-end tests: real TCP connections and HTTP requests from pods (the
 * recommender image has node, so it doubles as the probe image), or from inside a running pod with
 * `kubectl exec`. Every probe has a timeout, and reports `connected` or why it did not.
 */
import { inject } from 'vitest';
import { RECOMMENDER_UID } from '../../cdk8s/constants.js';
import { kubectlRun } from '../../hack/node/node.js';
import { apply, images, k, until } from './stack.js';

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

/**
 * A long-lived pod of `namespace` to run probes in (restricted, no token), or to run `script` (a load). New pods are programmed into the
 * NetworkPolicy enforcer's sets a moment after they start, so probes run in pods that have settled, and
 * every allowed path is retried until it answers (see `eventuallyConnects`).
 */
export async function probePod(namespace: string, name = 'probe', labels: Record<string, string> = {}, script = 'setInterval(() => {}, 1 << 30)'): Promise<string> {
  await apply([
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace, labels: { 'tandem.dev/e2e': 'probe', ...labels } },
      spec: {
        automountServiceAccountToken: false,
        securityContext: restrictedPod,
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'probe', image: images().recommender, command: ['node', '-e', script], securityContext: restrictedContainer, resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } } }],
      },
    },
  ]);
  await k(['-n', namespace, 'wait', '--for=condition=Ready', `pod/${name}`, '--timeout=120s']);
  return name;
}

/** Runs `script` inside a running container (its network identity, its NetworkPolicies). */
export async function probeFromInside(namespace: string, pod: string, script: string): Promise<ProbeResult> {
  const res = await kubectlRun(inject('kubeconfigPath'), ['-n', namespace, 'exec', pod, '--', 'node', '-e', script]);
  return { ok: res.code === 0, output: res.stdout.trim() || res.stderr.trim() };
}

/** An allowed path answers, perhaps after the enforcer has caught up with a new pod. */
export async function eventuallyConnects(namespace: string, pod: string, script: string): Promise<ProbeResult> {
  return until(`${namespace}/${pod} to get through`, async () => {
    const res = await probeFromInside(namespace, pod, script);
    return res.ok ? res : undefined;
  }, 60_000, 1000);
}

/** A connection the NetworkPolicies forbid: kube-router rejects it (ECONNREFUSED); a DROP would time out instead. */
export const BLOCKED = /^(timeout|error ECONNREFUSED)$/;

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
