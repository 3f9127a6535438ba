import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../hack/control-plane.js';
import { startControlPlaneWithCrds } from '../hack/install-crds.js';
import { createTestNamespace, deleteNamespace, eventually, testKubeConfig } from '../test/kube.js';
import { recommenders, startTestOperator, writesSoFar } from '../test/operator.js';
import type { RunningOperator } from './operator.js';

const converged = (recs: ReturnType<typeof recommenders>, ns: string, name: string, timeoutMs = 30_000) =>
  eventually(async () => {
    const rec = await recs.get(ns, name);
    return rec.status?.observedGeneration === rec.metadata.generation ? rec : undefined;
  }, timeoutMs, `${ns}/${name} to converge`);

describe('When the API server restarts mid-run', () => {
  // A private control plane: restarting the shared one would disturb every other test file.
  let plane: ControlPlane;
  let kc: KubeConfig;
  let operator: RunningOperator;

  beforeAll(async () => {
    plane = await startControlPlaneWithCrds();
    kc = new KubeConfig();
    kc.loadFromFile(plane.kubeconfigPath);
  });

  afterAll(async () => {
    await operator?.stop();
    await plane?.stop();
  });

  it('Then the operator recovers by itself and keeps reconciling', async () => {
    const ns = await createTestNamespace(kc, 'restart');
    const recs = recommenders(kc);
    operator = await startTestOperator(kc, { namespaces: [ns] });
    await recs.create(ns, 'before');
    await converged(recs, ns, 'before');

    await plane.restartApiServer();
    await recs.create(ns, 'after');
    const rec = await converged(recs, ns, 'after', 60_000);
    expect(rec.status?.conditions?.length).toBeGreaterThan(0);
    const restarts = await operator.metrics.informerRestarts.get();
    expect(restarts.values.reduce((n, v) => n + v.value, 0)).toBeGreaterThan(0);
  });
});

describe('When two operator replicas run', () => {
  const kc = testKubeConfig();
  const recs = recommenders(kc);
  let ns: string;
  let replicas: RunningOperator[] = [];

  beforeAll(async () => {
    ns = await createTestNamespace(kc, 'leader');
    const config = { namespaces: [ns], leaderElect: true, leaseNamespace: ns };
    replicas = [await startTestOperator(kc, { ...config, identity: 'replica-a' }), await startTestOperator(kc, { ...config, identity: 'replica-b' })];
  });

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await deleteNamespace(kc, ns);
  });

  it('Then exactly one leads and only the leader writes; when it stops, the other takes over', async () => {
    const leader = await eventually(async () => {
      const leaders = replicas.filter((r) => r.isLeader());
      return leaders.length === 1 ? leaders[0] : undefined;
    }, 20_000, 'a leader');
    const follower = replicas.find((r) => r !== leader)!;

    await recs.create(ns, 'shop');
    await converged(recs, ns, 'shop');
    expect(replicas.filter((r) => r.isLeader())).toHaveLength(1);
    expect(await writesSoFar(follower)).toEqual({});

    await leader!.stop();
    await eventually(async () => (follower.isLeader() ? true : undefined), 10_000, 'the follower to take over');
    await recs.patchSpec(ns, 'shop', { replicas: { max: 7 } });
    await converged(recs, ns, 'shop');
    expect(Object.keys(await writesSoFar(follower))).toContain('HorizontalPodAutoscaler apply');
  });
});
