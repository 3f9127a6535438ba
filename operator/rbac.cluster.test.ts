import { CoreV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATOR_NAME } from '../cdk8s/constants.js';
import { renderInstallBundle, type InstallBundleOptions } from '../cdk8s/install-bundle.js';
import { createTestNamespace, deleteNamespace, eventually, testKubeConfig } from '../test/kube.js';
import { condition, recommenders, startTestOperator } from '../test/operator.js';
import { withConnectionReuse } from './kubeconfig.js';
import type { RunningOperator } from './operator.js';
import { ConditionType } from './status.js';

const RBAC_KINDS = ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'];

describe.each([
  ['cluster-wide install bundle’s RBAC (a ClusterRole)', () => ({})],
  ['namespaced install bundle’s RBAC (a Role in the watched namespace, no ClusterRole)', (ns: string) => ({ watchNamespaces: [ns] })],
])('When the operator runs as its own ServiceAccount with the %s', (_mode, bundleOptions: (ns: string) => InstallBundleOptions) => {
  const admin = testKubeConfig();
  let ns: string;
  let operator: RunningOperator | undefined;
  const clusterScoped: KubernetesObject[] = [];

  beforeAll(async () => {
    ns = await createTestNamespace(admin, 'rbac');
    // Cluster-scoped names get the namespace as a suffix, so parallel test files never share them.
    const objects = renderInstallBundle({ namespace: ns, ...bundleOptions(ns) })
      .filter((o) => RBAC_KINDS.includes(o.kind!))
      .map((o) => {
        const rbac = structuredClone(o) as KubernetesObject & { roleRef?: { kind: string; name: string } };
        if (rbac.kind!.startsWith('Cluster')) rbac.metadata!.name = `${rbac.metadata!.name}-${ns}`;
        if (rbac.roleRef?.kind === 'ClusterRole') rbac.roleRef.name = `${rbac.roleRef.name}-${ns}`;
        return rbac;
      });
    const api = KubernetesObjectApi.makeApiClient(admin);
    for (const obj of objects) {
      await api.patch(obj, undefined, undefined, 'tandem-test', true, PatchStrategy.ServerSideApply);
      if (obj.kind!.startsWith('Cluster')) clusterScoped.push(obj);
    }
    const { status } = await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({ name: OPERATOR_NAME, namespace: ns, body: { spec: { expirationSeconds: 3600 } } });
    const asOperator = new KubeConfig();
    asOperator.loadFromOptions({
      clusters: [{ name: 'test', server: admin.getCurrentCluster()!.server, skipTLSVerify: true }],
      users: [{ name: OPERATOR_NAME, token: status!.token }],
      contexts: [{ name: 'test', cluster: 'test', user: OPERATOR_NAME }],
      currentContext: 'test',
    });
    operator = await startTestOperator(withConnectionReuse(asOperator), { namespaces: [ns], leaderElect: true, leaseNamespace: ns });
  });

  afterAll(async () => {
    await operator?.stop();
    const api = KubernetesObjectApi.makeApiClient(admin);
    await Promise.all(clusterScoped.map((o) => api.delete(o).catch(() => undefined)));
    await deleteNamespace(admin, ns);
  });

  it('Then it leads, applies every child, writes status and records Events with no permission errors', async () => {
    await eventually(async () => (operator!.isLeader() ? true : undefined), 20_000, 'leadership');
    const recs = recommenders(admin);
    await recs.create(ns, 'least-privilege');
    const rec = await eventually(async () => {
      const r = await recs.get(ns, 'least-privilege');
      return r.status?.observedGeneration === r.metadata.generation && condition(r, ConditionType.AVAILABLE)?.message.includes('available replicas') ? r : undefined;
    }, 30_000, 'the Recommender to converge');
    expect(condition(rec, ConditionType.DEGRADED)).toMatchObject({ status: 'False' });
    const events = await admin.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: ns });
    expect(events.items.some((e) => e.involvedObject.name === 'least-privilege')).toBe(true);

    // Pruning needs delete: disabling the cache must succeed under the same identity.
    await recs.patchSpec(ns, 'least-privilege', { cache: { enabled: false } });
    const after = await eventually(async () => {
      const r = await recs.get(ns, 'least-privilege');
      return r.status?.observedGeneration === r.metadata.generation ? r : undefined;
    });
    expect(condition(after, ConditionType.DEGRADED)).toMatchObject({ status: 'False' });
  });
});
