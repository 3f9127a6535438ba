import type { KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Recommender, RecommenderStatus } from '../cdk8s/api/v1alpha1/recommender.js';
import { validateRecommender } from '../cdk8s/api/v1alpha1/validate.js';
import { LABEL_INSTANCE } from '../cdk8s/constants.js';
import { AppliedFingerprints } from './compare.js';
import { objectKey } from './desired.js';
import { ReconcileError, reconcile, type ClusterView, type ClusterWriter } from './reconciler.js';
import { ConditionType, Reason } from './status.js';

/** An in-memory cluster: what the writer applies, the view sees (as the informers would). */
class FakeCluster implements ClusterView, ClusterWriter {
  readonly objects = new Map<string, KubernetesObject>();
  readonly calls: string[] = [];
  status: RecommenderStatus | undefined;
  failOn: string | undefined;

  constructor(public rec: Recommender) {}

  recommender(namespace: string, name: string) {
    return namespace === this.rec.metadata.namespace && name === this.rec.metadata.name ? { ...this.rec, status: this.status } : undefined;
  }
  child(apiVersion: string, kind: string, namespace: string, name: string) {
    return this.objects.get(`${apiVersion}/${kind}/${namespace}/${name}`);
  }
  children(namespace: string, instance: string) {
    return [...this.objects.values()].filter((o) => o.metadata?.namespace === namespace && o.metadata?.labels?.[LABEL_INSTANCE] === instance);
  }
  async apply(obj: KubernetesObject) {
    this.calls.push(`apply ${obj.kind}/${obj.metadata?.name}`);
    if (obj.kind === this.failOn) throw Object.assign(new Error('HTTP-Code: 403'), { body: JSON.stringify({ message: 'exceeded quota: no-deployments' }) });
    const stored = structuredClone({ ...obj, status: {} });
    this.objects.set(objectKey(obj), stored);
    return stored;
  }
  async delete(obj: KubernetesObject) {
    this.calls.push(`delete ${obj.kind}/${obj.metadata?.name}`);
    this.objects.delete(objectKey(obj));
  }
  async writeStatus(_rec: Recommender, status: RecommenderStatus) {
    this.calls.push('status');
    this.status = status;
  }
  async event(_rec: Recommender, type: string, reason: string) {
    this.calls.push(`event ${type} ${reason}`);
  }
}

function recommender(spec: Record<string, unknown> = {}): Recommender {
  const result = validateRecommender({ apiVersion: 'tandem.dev/v1alpha1', kind: 'Recommender', metadata: { name: 'storefront', namespace: 'shop' }, spec });
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return { ...result.value, metadata: { ...result.value.metadata, uid: 'uid-1', generation: 1 } };
}

const log = pino({ level: 'silent' });
const run = (cluster: FakeCluster, fingerprints = new AppliedFingerprints()) => reconcile('shop/storefront', { view: cluster, writer: cluster, fingerprints, log });

describe('reconcile (in memory)', () => {
  it('When nothing exists, Then every child is applied once and status is written; a second pass writes nothing', async () => {
    const cluster = new FakeCluster(recommender());
    const fingerprints = new AppliedFingerprints();
    const first = await run(cluster, fingerprints);
    expect(first.applied).toBeGreaterThanOrEqual(15);
    expect(cluster.calls.filter((c) => c === 'status')).toHaveLength(1);
    cluster.calls.length = 0;
    const second = await run(cluster, fingerprints);
    expect(second).toEqual({ applied: 0, pruned: 0, statusWritten: false, servingPods: false });
    expect(cluster.calls).toEqual([]);
  });

  it('When the HPA reports it cannot get the requests-per-second metric, Then status says so from the HPA’s own condition', async () => {
    const cluster = new FakeCluster(recommender({ autoscaling: { targetRequestsPerSecondPerPod: 300 } }));
    await run(cluster);
    const hpa = cluster.children('shop', 'storefront').find((o) => o.kind === 'HorizontalPodAutoscaler') as KubernetesObject & { status: unknown };
    hpa.status = { conditions: [{ type: 'ScalingActive', status: 'False', reason: 'FailedGetPodsMetric', message: 'unable to get metric tandem_http_requests_per_second' }] };
    await run(cluster);
    expect(cluster.status?.conditions?.find((c) => c.type === ConditionType.AUTOSCALING_READY)).toMatchObject({ status: 'False', reason: Reason.PODS_METRIC_UNAVAILABLE });
  });

  it('When the Recommender is paused, Then nothing is applied and Ready says Paused', async () => {
    const cluster = new FakeCluster(recommender({ paused: true }));
    await run(cluster);
    expect(cluster.calls.some((c) => c.startsWith('apply'))).toBe(false);
    expect(cluster.status?.conditions?.find((c) => c.type === ConditionType.READY)?.reason).toBe(Reason.PAUSED);
  });

  it('When the spec cannot be rendered safely, Then nothing is applied and Degraded names the fields', async () => {
    const cluster = new FakeCluster(recommender({ network: { allowedCallers: [{ namespaceSelector: { matchLabels: { 'tandem.dev/zone': 'payments' } } }] } }));
    await expect(run(cluster)).rejects.toBeInstanceOf(ReconcileError);
    expect(cluster.calls.some((c) => c.startsWith('apply'))).toBe(false);
    const degraded = cluster.status?.conditions?.find((c) => c.type === ConditionType.DEGRADED);
    expect(degraded).toMatchObject({ status: 'True', reason: Reason.INVALID_SPEC });
    expect(degraded?.message).toContain('allowedCallers');
    expect(cluster.calls).toContain(`event Warning ${Reason.INVALID_SPEC}`);
  });

  it('When one child fails, Then the others are still applied and the error reaches status, an Event and the retry', async () => {
    const cluster = new FakeCluster(recommender());
    cluster.failOn = 'Deployment';
    await expect(run(cluster)).rejects.toThrow(/failed to apply Deployment shop\/storefront: exceeded quota/);
    expect(cluster.calls).toContain('apply HorizontalPodAutoscaler/storefront');
    expect(cluster.status?.conditions?.find((c) => c.type === ConditionType.DEGRADED)).toMatchObject({ status: 'True', reason: Reason.APPLY_FAILED });
  });

  it('When the cache is disabled, Then our Redis objects are pruned and objects we do not own are left alone', async () => {
    const cluster = new FakeCluster(recommender());
    const fingerprints = new AppliedFingerprints();
    await run(cluster, fingerprints);
    const foreign = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'someone-elses', namespace: 'shop', labels: { [LABEL_INSTANCE]: 'storefront' } } };
    cluster.objects.set(objectKey(foreign), foreign);
    cluster.rec = recommender({ cache: { enabled: false } });
    cluster.calls.length = 0;
    const result = await run(cluster, fingerprints);
    expect(cluster.calls.filter((c) => c.startsWith('delete')).sort()).toEqual(['delete NetworkPolicy/storefront-cache-ingress', 'delete PodDisruptionBudget/storefront-redis', 'delete Service/storefront-redis', 'delete ServiceAccount/storefront-redis', 'delete StatefulSet/storefront-redis']);
    expect(result.pruned).toBe(5);
    expect(cluster.objects.has(objectKey(foreign))).toBe(true);
  });

  it('When someone edits a field we set, Then that child alone is re-applied', async () => {
    const cluster = new FakeCluster(recommender());
    const fingerprints = new AppliedFingerprints();
    await run(cluster, fingerprints);
    const deployment = [...cluster.objects.values()].find((o) => o.kind === 'Deployment') as KubernetesObject & { spec: { template: { spec: { containers: { image: string }[] } } } };
    deployment.spec.template.spec.containers[0]!.image = 'evil:latest';
    cluster.calls.length = 0;
    await run(cluster, fingerprints);
    expect(cluster.calls.filter((c) => c.startsWith('apply'))).toEqual(['apply Deployment/storefront']);
  });
});
