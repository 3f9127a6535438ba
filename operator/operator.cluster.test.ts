import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubernetesObjectApi, PatchStrategy, setHeaderOptions, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_VERSION, KIND, type Recommender } from '../cdk8s/api/v1alpha1/recommender.js';
import { LABEL_COMPONENT, LABEL_INSTANCE, LABEL_MANAGED_BY, MANAGED_BY } from '../cdk8s/constants.js';
import { CHILD_KINDS } from '../cdk8s/recommender-chart.js';
import { packJobName } from '../cdk8s/spark-training.js';
import { createTestNamespace, deleteNamespace, eventually, testKubeConfig } from '../test/kube.js';
import { condition, recommenders, startTestOperator, writesBetween, writesSoFar } from '../test/operator.js';
import type { RunningOperator } from './operator.js';
import { ConditionType, Reason } from './status.js';
import { useWireJson } from './wire-json.js';

const kc = testKubeConfig();
const SPARK_ONLY = ['ScheduledSparkApplication', 'Job'];
useWireJson(CHILD_KINDS);
const objects = KubernetesObjectApi.makeApiClient(kc);
const apps = kc.makeApiClient(AppsV1Api);
const core = kc.makeApiClient(CoreV1Api);
const recs = recommenders(kc);

let ns: string;
let quotaNs: string;
let operator: RunningOperator;

async function children(namespace: string, instance: string): Promise<KubernetesObject[]> {
  const lists = await Promise.all(CHILD_KINDS.map((k) => objects.list(k.apiVersion, k.kind, namespace, undefined, undefined, undefined, undefined, `${LABEL_INSTANCE}=${instance}`)));
  return lists.flatMap((l, i) => l.items.map((o) => ({ ...o, kind: CHILD_KINDS[i]!.kind })));
}

/** Waits until the operator has written status for the Recommender's current generation. */
async function converged(namespace: string, name: string): Promise<Recommender> {
  return eventually(async () => {
    const rec = await recs.get(namespace, name);
    return rec.status?.observedGeneration === rec.metadata.generation ? rec : undefined;
  }, 20_000, `${namespace}/${name} to converge`);
}

/** Lets the operator settle: no new writes for a second. */
async function quiet(): Promise<void> {
  let last = JSON.stringify(await writesSoFar(operator));
  for (let i = 0; i < 40; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const now = JSON.stringify(await writesSoFar(operator));
    if (now === last && i >= 1) return;
    last = now;
  }
}

beforeAll(async () => {
  ns = await createTestNamespace(kc, 'op');
  quotaNs = await createTestNamespace(kc, 'op-quota');
  operator = await startTestOperator(kc, { namespaces: [ns, quotaNs] });
});

afterAll(async () => {
  await operator?.stop();
  await Promise.all([deleteNamespace(kc, ns), deleteNamespace(kc, quotaNs)]);
});

describe('The operator on a real control plane', () => {
  it('When a Recommender is created, Then every child exists with its owner and labels, and the conditions reflect the Deployment', async () => {
    const rec = await recs.create(ns, 'shop', { network: { allowedCallers: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'storefront' } } }] } });
    const created = await eventually(async () => {
      const list = await children(ns, 'shop');
      return list.some((o) => o.kind === 'PrometheusRule') && list.length >= 15 ? list : undefined;
    });
    for (const child of created) {
      expect(child.metadata?.ownerReferences, `${child.kind} ${child.metadata?.name}`).toEqual([
        { apiVersion: API_VERSION, kind: KIND, name: 'shop', uid: rec.metadata.uid, controller: true, blockOwnerDeletion: true },
      ]);
      expect(child.metadata?.labels).toMatchObject({ [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_INSTANCE]: 'shop' });
      expect(child.metadata?.labels?.[LABEL_COMPONENT]).toBeTruthy();
    }
    // Every kind but what only `training.engine: spark` makes.
    expect(new Set(created.map((o) => o.kind))).toEqual(new Set(CHILD_KINDS.map((k) => k.kind).filter((k) => !SPARK_ONLY.includes(k))));

    // No kubelet runs pods, so the Deployment controller reports MinimumReplicasUnavailable, and so must we.
    const status = await eventually(async () => {
      const r = await recs.get(ns, 'shop');
      return condition(r, ConditionType.AVAILABLE)?.message.includes('MinimumReplicasUnavailable') ? r : undefined;
    });
    expect(condition(status, ConditionType.AVAILABLE)).toMatchObject({ status: 'False', reason: Reason.NOT_AVAILABLE });
    expect(condition(status, ConditionType.READY)).toMatchObject({ status: 'False' });
    expect(condition(status, ConditionType.DEGRADED)).toMatchObject({ status: 'False', reason: Reason.AS_EXPECTED });
    expect(status.status?.endpoint).toMatch(new RegExp(`^http://.+\\.${ns}\\.svc:\\d+$`));
  });

  it('When nothing changes, Then the operator makes no writes at all', async () => {
    await converged(ns, 'shop');
    await quiet();
    const before = await writesSoFar(operator);
    await new Promise((r) => setTimeout(r, 3000));
    expect(writesBetween(before, await writesSoFar(operator))).toEqual({});
  });

  it('When one spec field changes, Then only the child it affects is written', async () => {
    await quiet();
    const before = await writesSoFar(operator);
    await recs.patchSpec(ns, 'shop', { autoscaling: { targetCPUUtilizationPercentage: 55 } });
    await eventually(async () => {
      const hpa = (await objects.read({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'shop', namespace: ns } })) as KubernetesObject & { spec: { metrics: { resource?: { target: { averageUtilization?: number } } }[] } };
      return hpa.spec.metrics.some((m) => m.resource?.target.averageUtilization === 55) ? true : undefined;
    });
    await converged(ns, 'shop');
    await quiet();
    const writes = writesBetween(before, await writesSoFar(operator));
    expect(Object.keys(writes).filter((k) => k.endsWith(' apply'))).toEqual(['HorizontalPodAutoscaler apply']);
    expect(writes['HorizontalPodAutoscaler apply']).toBe(1);
  });

  it('When a child is deleted by hand, Then it is restored', async () => {
    const service = (await children(ns, 'shop')).find((o) => o.kind === 'Service' && o.metadata?.labels?.[LABEL_COMPONENT] === 'scoring')!;
    await core.deleteNamespacedService({ name: service.metadata!.name!, namespace: ns });
    const restored = await eventually(async () => {
      const s = await core.readNamespacedService({ name: service.metadata!.name!, namespace: ns }).catch(() => undefined);
      return s && s.metadata?.uid !== service.metadata?.uid ? s : undefined;
    });
    expect(restored.metadata?.ownerReferences?.[0]?.name).toBe('shop');
  });

  it('When a child is edited by hand, Then the edit is reverted', async () => {
    const deployment = (await children(ns, 'shop')).find((o) => o.kind === 'Deployment')!;
    const name = deployment.metadata!.name!;
    const { name: container, image } = (await apps.readNamespacedDeployment({ name, namespace: ns })).spec!.template.spec!.containers[0]!;
    await apps.patchNamespacedDeployment({ name, namespace: ns, body: { spec: { template: { spec: { containers: [{ name: container, image: 'evil:latest' }] } } } } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
    await eventually(async () => {
      const d = await apps.readNamespacedDeployment({ name, namespace: ns });
      return d.spec!.template.spec!.containers.every((c) => c.image !== 'evil:latest') ? true : undefined;
    });
    expect((await apps.readNamespacedDeployment({ name, namespace: ns })).spec!.template.spec!.containers[0]!.image).toBe(image);
  });

  it('When the cache is disabled, Then the Redis objects are pruned', async () => {
    const cacheObjects = (await children(ns, 'shop')).filter((o) => o.metadata?.labels?.[LABEL_COMPONENT] === 'cache');
    expect(cacheObjects.map((o) => o.kind)).toContain('StatefulSet');
    await recs.patchSpec(ns, 'shop', { cache: { enabled: false } });
    await eventually(async () => ((await children(ns, 'shop')).some((o) => o.metadata?.labels?.[LABEL_COMPONENT] === 'cache') ? undefined : true));
    const rec = await converged(ns, 'shop');
    expect(condition(rec, ConditionType.CACHE_READY)).toMatchObject({ status: 'False', reason: Reason.CACHE_DISABLED });
  });

  it('When a Recommender is paused, Then its children are left alone and the status says Paused', async () => {
    await recs.patchSpec(ns, 'shop', { paused: true });
    await eventually(async () => (condition(await recs.get(ns, 'shop'), ConditionType.READY)?.reason === Reason.PAUSED ? true : undefined));
    const hpaName = (await children(ns, 'shop')).find((o) => o.kind === 'HorizontalPodAutoscaler')!.metadata!.name!;
    await objects.patch({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: hpaName, namespace: ns }, spec: { maxReplicas: 42 } } as KubernetesObject, undefined, undefined, 'someone', undefined, PatchStrategy.MergePatch);
    await recs.patchSpec(ns, 'shop', { replicas: { max: 12 } });
    await converged(ns, 'shop');
    await quiet();
    const hpa = (await objects.read({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: hpaName, namespace: ns } })) as KubernetesObject & { spec: { maxReplicas: number } };
    expect(hpa.spec.maxReplicas).toBe(42);

    await recs.patchSpec(ns, 'shop', { paused: false });
    await eventually(async () => {
      const h = (await objects.read({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: hpaName, namespace: ns } })) as KubernetesObject & { spec: { maxReplicas: number } };
      return h.spec.maxReplicas === 12 ? true : undefined;
    });
  });

  it('When a child cannot be created, Then Degraded says which object failed and why, and an Event is recorded', async () => {
    await core.createNamespacedResourceQuota({ namespace: quotaNs, body: { metadata: { name: 'no-deployments' }, spec: { hard: { 'count/deployments.apps': '0' } } } });
    await recs.create(quotaNs, 'blocked');
    const rec = await eventually(async () => {
      const r = await recs.get(quotaNs, 'blocked');
      return condition(r, ConditionType.DEGRADED)?.status === 'True' ? r : undefined;
    });
    const degraded = condition(rec, ConditionType.DEGRADED)!;
    expect(degraded.reason).toBe(Reason.APPLY_FAILED);
    expect(degraded.message).toMatch(new RegExp(`^failed to apply Deployment ${quotaNs}/blocked: .*exceeded quota`));
    expect(condition(rec, ConditionType.READY)).toMatchObject({ status: 'False', reason: Reason.APPLY_FAILED });
    const events = await eventually(async () => {
      const list = await core.listNamespacedEvent({ namespace: quotaNs });
      return list.items.some((e) => e.reason === Reason.APPLY_FAILED) ? list.items : undefined;
    });
    expect(events.find((e) => e.reason === Reason.APPLY_FAILED)).toMatchObject({ type: 'Warning', involvedObject: { kind: KIND, name: 'blocked' } });
  });

  it('When autoscaling is switched on, Then the HPA takes over the running replica count instead of it dropping to 1', async () => {
    await recs.create(ns, 'scaled', { autoscaling: { enabled: false }, replicas: { min: 3, max: 6 } });
    const deployment = async () => (await children(ns, 'scaled')).find((o) => o.kind === 'Deployment') as (KubernetesObject & { spec: { replicas?: number } }) | undefined;
    await eventually(async () => ((await deployment())?.spec.replicas === 3 ? true : undefined));
    await recs.patchSpec(ns, 'scaled', { autoscaling: { enabled: true } });
    await eventually(async () => ((await children(ns, 'scaled')).some((o) => o.kind === 'HorizontalPodAutoscaler') ? true : undefined));
    await converged(ns, 'scaled');
    await quiet();
    expect((await deployment())?.spec.replicas).toBe(3);
  });

  it('When a Recommender trains on Spark, Then a ScheduledSparkApplication replaces the CronJob, and each successful run it reports gets a packing Job, pruned when the run is gone', async () => {
    await recs.create(ns, 'big', { training: { engine: 'spark', spark: { apiServer: { cidrs: ['10.0.0.1/32'] } } } });
    const scheduled = await eventually(async () => (await children(ns, 'big')).find((o) => o.kind === 'ScheduledSparkApplication'));
    expect(scheduled.metadata?.name).toBe('big-spark');
    expect((await children(ns, 'big')).map((o) => o.kind)).not.toContain('CronJob');
    // What the Spark operator writes when a run completes (its status subresource).
    const status = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const report = (runs: string[]) =>
      custom.patchNamespacedCustomObjectStatus(
        { group: 'sparkoperator.k8s.io', version: 'v1beta2', plural: 'scheduledsparkapplications', namespace: ns, name: 'big-spark', body: { status: { pastSuccessfulRunNames: runs, lastRunName: runs[0] } } },
        status,
      );
    await report(['big-spark-1796176767176000000']);
    const job = await eventually(async () => (await children(ns, 'big')).find((o) => o.kind === 'Job'), 20_000, 'the packing Job');
    expect(job.metadata?.name).toBe(packJobName('big', 'big-spark-1796176767176000000'));
    expect(job.metadata?.ownerReferences?.[0]).toMatchObject({ kind: KIND, name: 'big', controller: true });
    const args = (job as { spec?: { template: { spec: { containers: { args: string[] }[] } } } }).spec!.template.spec.containers[0]!.args;
    expect(args).toEqual(['pack', '--job-dir', '/models/spark/big-spark-1796176767176000000', '--out', '/models/versions', '--config', '/etc/tandem/config.yaml']);
    await report(['big-spark-1796262767176000000']);
    await eventually(async () => {
      const jobs = (await children(ns, 'big')).filter((o) => o.kind === 'Job').map((o) => o.metadata?.name);
      return jobs.length === 1 && jobs[0] === packJobName('big', 'big-spark-1796262767176000000') ? true : undefined;
    }, 20_000, 'the old packing Job pruned and the new one created');
  });

  it('When a Recommender is deleted, Then the garbage collector removes its children', async () => {
    await recs.create(ns, 'short-lived');
    await eventually(async () => ((await children(ns, 'short-lived')).length >= 15 ? true : undefined));
    await recs.delete(ns, 'short-lived');
    await eventually(async () => ((await children(ns, 'short-lived')).length === 0 ? true : undefined), 30_000, 'garbage collection');
  });
});

