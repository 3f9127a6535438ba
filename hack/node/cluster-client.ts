/**
 * A client for the cluster with a real node, as the end-to-end tests and `npm run dev -- --node` use it:
 * kubectl and helm against it, namespaces under Pod Security `restricted`, the operator installed from the
 * chart, a Recommender on the locally built images, and the steps a shop takes to give it data and a
 * first model.
 */
import { spawn } from 'node:child_process';
import { stringify } from 'yaml';
import type { Recommender, RecommenderSpecInput } from '../../cdk8s/api/v1alpha1/recommender.js';
import { API_VERSION, KIND } from '../../cdk8s/api/v1alpha1/recommender.js';
import { OPERATOR_NAME, OPERATOR_NAMESPACE, RECOMMENDER_UID } from '../../cdk8s/constants.js';
import { recommenderNames } from '../../cdk8s/names.js';
import { CHART_DIR } from '../../charts/generate.js';
import { NODE_API_PORT, toolPath } from '../control-plane.js';
import { kubectl, type NodeImages } from './node.js';

/** Polls until `check` returns a value (not undefined); the last error is in the timeout message. */
export async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 180_000, intervalMs = 1000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Image reference split the way the chart's values take it. */
export function imageParts(ref: string): { repository: string; tag: string } {
  const at = ref.lastIndexOf(':');
  return { repository: ref.slice(0, at), tag: ref.slice(at + 1) };
}

interface PodList {
  items: {
    metadata: { name: string; labels?: Record<string, string> };
    spec: { serviceAccountName?: string; containers: { name: string; securityContext?: { readOnlyRootFilesystem?: boolean } }[] };
    status: { phase?: string; podIP?: string; containerStatuses?: { name: string; ready: boolean; restartCount: number }[] };
  }[];
}


export type NodeClusterClient = ReturnType<typeof nodeClusterClient>;

let namespaces = 0;

export function nodeClusterClient(kubeconfigPath: string, images: NodeImages, nodeIp: string) {
  /** kubectl against the shared cluster; returns stdout, throws with stderr. */
  const k = (args: string[], stdin?: string): Promise<string> => kubectl(kubeconfigPath, args, stdin);

  /** kubectl returning parsed JSON (`-o json` is added). */
  async function kJson<T = Record<string, unknown>>(args: string[]): Promise<T> {
    return JSON.parse(await k([...args, '-o', 'json'])) as T;
  }

  async function apply(objects: readonly object[]): Promise<void> {
    await k(['apply', '--server-side', '--field-manager=tandem-e2e', '--force-conflicts', '-f', '-'], objects.map((o) => stringify(o)).join('---\n'));
  }

  async function helm(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(toolPath('helm'), [`--kubeconfig=${kubeconfigPath}`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`helm ${args.join(' ')} failed (${code}): ${err.trim()}`))));
    });
  }




  /** A namespace enforcing Pod Security `restricted` (every Tandem workload must run under it). */
  /** `prefix-<pid>-<n>` (unique in a test run), or `prefix` itself with `exact`. */
  async function restrictedNamespace(prefix: string, labels: Record<string, string> = {}, opts: { exact?: boolean } = {}): Promise<string> {
    const name = opts.exact ? prefix : `${prefix}-${process.pid}-${++namespaces}`;
    await apply([
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name,
          labels: {
            'pod-security.kubernetes.io/enforce': 'restricted',
            'pod-security.kubernetes.io/enforce-version': 'latest',
            'pod-security.kubernetes.io/warn': 'restricted',
            ...labels,
          },
        },
      },
    ]);
    return name;
  }

  async function deleteNamespace(name: string): Promise<void> {
    await k(['delete', 'namespace', name, '--wait=false', '--ignore-not-found']);
  }

  const API_KEY = 'e2e-storefront-key-0001';

  /** The Recommender's auth Secret (API key, HMAC key) and the Recommender itself, on the node's images. */
  async function createRecommender(namespace: string, name: string, spec: RecommenderSpecInput = {}): Promise<void> {
    const names = recommenderNames(name, namespace);
    await apply([
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: names.defaultAuthSecret, namespace },
        stringData: { 'api-keys': API_KEY, 'hmac-key': 'e2e-hmac-key-0123456789abcdef' },
      },
      {
        apiVersion: API_VERSION,
        kind: KIND,
        metadata: { name, namespace },
        spec: {
          image: images.recommender,
          ...spec,
          cache: { image: images.redis, ...spec.cache },
        },
      },
    ]);
  }

  async function getRecommender(namespace: string, name: string): Promise<Recommender> {
    return kJson<Recommender>(['-n', namespace, 'get', 'recommender', name]);
  }

  /** Waits for a Job to complete; a failed Job throws with its pods' logs. */
  async function waitJob(namespace: string, job: string, timeoutMs = 300_000): Promise<void> {
    await until(`Job ${namespace}/${job} to complete`, async () => {
      const j = await kJson<{ status?: { conditions?: { type: string; status: string }[] } }>(['-n', namespace, 'get', 'job', job]);
      const done = (type: string) => j.status?.conditions?.some((c) => c.type === type && c.status === 'True');
      if (done('Failed')) {
        const logs = await k(['-n', namespace, 'logs', `job/${job}`, '--tail=30']).catch((e: Error) => e.message);
        throw new Error(`Job ${namespace}/${job} failed: ${logs}`);
      }
      return done('Complete') ? true : undefined;
    }, timeoutMs, 2000);
  }

  /**
   * What a shop does before the first retraining: put its catalogue and events on the model volume (here
   * the demo shop, written by the recommender image itself), then run the retraining CronJob once.
   */
  async function seedAndTrain(namespace: string, name: string, run = 1): Promise<void> {
    const names = recommenderNames(name, namespace);
    await until(`PVC ${names.models} Bound`, async () => ((await k(['-n', namespace, 'get', 'pvc', names.models, '-o', 'jsonpath={.status.phase}'])) === 'Bound' ? true : undefined));
    const seed = `${name}-seed-${run}`;
    await apply([
      {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: seed, namespace },
        spec: {
          backoffLimit: 0,
          template: {
            spec: {
              restartPolicy: 'Never',
              automountServiceAccountToken: false,
              securityContext: { runAsNonRoot: true, runAsUser: RECOMMENDER_UID, runAsGroup: RECOMMENDER_UID, seccompProfile: { type: 'RuntimeDefault' } },
              containers: [
                {
                  name: 'seed',
                  image: images.recommender,
                  args: ['demo-data', '--out', '/models/data'],
                  securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
                  resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } },
                  volumeMounts: [{ name: 'models', mountPath: '/models' }],
                },
              ],
              volumes: [{ name: 'models', persistentVolumeClaim: { claimName: names.models } }],
            },
          },
        },
      },
    ]);
    await waitJob(namespace, seed);
    await retrain(namespace, name, `${name}-train-${run}`);
  }

  /** A Job created from the retraining CronJob, as `kubectl create job --from=cronjob/…` does; waits for it. */
  async function retrain(namespace: string, name: string, job: string): Promise<void> {
    await k(['-n', namespace, 'create', 'job', job, `--from=cronjob/${recommenderNames(name, namespace).retrain}`]);
    await waitJob(namespace, job);
  }

  function condition(rec: Recommender, type: string) {
    return rec.status?.conditions?.find((c) => c.type === type);
  }

  async function waitRecommenderReady(namespace: string, name: string, timeoutMs = 300_000): Promise<Recommender> {
    return until(`Recommender ${namespace}/${name} Ready=True`, async () => {
      const rec = await getRecommender(namespace, name);
      return condition(rec, 'Ready')?.status === 'True' ? rec : undefined;
    }, timeoutMs, 2000);
  }

  async function pods(namespace: string, selector: string): Promise<PodList['items']> {
    return (await kJson<PodList>(['-n', namespace, 'get', 'pods', '-l', selector])).items;
  }

  /** `helm install` of charts/tandem-operator with the locally built image. */
  async function installOperatorChart(): Promise<void> {
    const image = imageParts(images.operator);
    await helm([
      'install', OPERATOR_NAME, CHART_DIR, '-n', OPERATOR_NAMESPACE, '--create-namespace',
      '--set', `image.repository=${image.repository}`,
      '--set', `image.tag=${image.tag}`,
      // The operator may reach the API server by address only: here the node's, on kubeadm's port.
      '--set', `networkPolicy.apiServer.cidrs={${nodeIp}/32}`,
      '--set', `networkPolicy.apiServer.ports={${NODE_API_PORT}}`,
      '--wait', '--timeout=5m',
    ]);
  }

  /** Installs the chart unless a release is there already (test files share one operator). */
  async function ensureOperator(): Promise<void> {
    const installed = await helm(['status', OPERATOR_NAME, '-n', OPERATOR_NAMESPACE]).then(() => true, () => false);
    if (!installed) await installOperatorChart();
    await k(['-n', OPERATOR_NAMESPACE, 'rollout', 'status', `deployment/${OPERATOR_NAME}`, '--timeout=240s']);
  }

  return {
    images,
    k,
    kJson,
    apply,
    helm,
    restrictedNamespace,
    deleteNamespace,
    API_KEY,
    createRecommender,
    getRecommender,
    waitJob,
    seedAndTrain,
    retrain,
    condition,
    waitRecommenderReady,
    pods,
    installOperatorChart,
    ensureOperator,
  };
}
