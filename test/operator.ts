/** Runs the real operator in-process against the test control plane, scoped to the test's namespaces. */
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { GROUP, PLURAL, VERSION, type Recommender } from '../cdk8s/api/v1alpha1/recommender.js';
import type { OperatorConfig } from '../operator/config.js';
import { startOperator, type OperatorTimings, type RunningOperator } from '../operator/operator.js';

let operators = 0;

export async function startTestOperator(kc: KubeConfig, overrides: Partial<OperatorConfig> & Pick<OperatorConfig, 'namespaces'>, timings?: OperatorTimings): Promise<RunningOperator> {
  const config: OperatorConfig = {
    workers: 4,
    resyncSeconds: 600,
    leaderElect: false,
    leaseNamespace: overrides.namespaces[0] ?? 'default',
    leaseName: 'tandem-operator',
    identity: `test-${process.pid}-${++operators}`,
    metricsPort: 0,
    healthPort: 0,
    modelProbeSeconds: 0,
    ...overrides,
  };
  return startOperator(kc, config, pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), timings);
}

/** API writes the operator made so far, as `{ "<kind> <verb>": count }`. */
export async function writesSoFar(op: RunningOperator): Promise<Record<string, number>> {
  const { values } = await op.metrics.apiWrites.get();
  return Object.fromEntries(values.map((v) => [`${v.labels.kind} ${v.labels.verb}`, v.value]));
}

export function writesBetween(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => (v as number) > 0));
}

export function recommenders(kc: KubeConfig) {
  const api = kc.makeApiClient(CustomObjectsApi);
  const ref = (namespace: string, name: string) => ({ group: GROUP, version: VERSION, plural: PLURAL, namespace, name });
  const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  return {
    create: (namespace: string, name: string, spec: Record<string, unknown> = {}) =>
      api.createNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace, body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'Recommender', metadata: { name }, spec } }) as Promise<Recommender>,
    get: (namespace: string, name: string) => api.getNamespacedCustomObject(ref(namespace, name)) as Promise<Recommender>,
    patchSpec: (namespace: string, name: string, spec: Record<string, unknown>) => api.patchNamespacedCustomObject({ ...ref(namespace, name), body: { spec } }, merge) as Promise<Recommender>,
    delete: (namespace: string, name: string) => api.deleteNamespacedCustomObject(ref(namespace, name)),
  };
}

export function condition(rec: Recommender | undefined, type: string) {
  return rec?.status?.conditions?.find((c) => c.type === type);
}
