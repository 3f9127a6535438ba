import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createTestNamespace, deleteNamespace, eventually, testKubeConfig } from '../test/kube.js';
import type { Recommender } from './api/v1alpha1/recommender.js';
import { validateRecommender } from './api/v1alpha1/validate.js';
import { FIELD_MANAGER, HPA_HANDOVER_FIELD_MANAGER, LABEL_COMPONENT, LABEL_INSTANCE } from './constants.js';
import { OPERATOR_RBAC, renderInstallBundle } from './install-bundle.js';
import { renderRecommender, replicasHandover } from './recommender-chart.js';
import { collectionPath, dryRunCreate, remove, send, serverSideApply } from './test/server-apply.js';
import { find, recommender, type Obj } from './test/fixtures.js';
import { packJobs } from './spark-training.js';

const RESTRICTED = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/enforce-version': 'latest',
  'pod-security.kubernetes.io/warn': 'restricted',
  'pod-security.kubernetes.io/warn-version': 'latest',
};

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');

/** One of the repository's examples (by default the every-field one), moved into `namespace`. */
function exampleIn(namespace: string, file = 'recommender.yaml'): Recommender {
  const doc = parse(readFileSync(join(repo, 'examples', file), 'utf8')) as { metadata: Record<string, unknown> };
  const result = validateRecommender({ ...doc, metadata: { ...doc.metadata, namespace } });
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.value;
}

/**
 * Applies each object in order, by server-side dry run first and then for real (the Namespace must
 * exist before a dry run of what goes in it); returns every warning the API server sent.
 */
async function applyAll(kc: KubeConfig, objects: readonly KubernetesObject[]): Promise<string[]> {
  const warnings: string[] = [];
  for (const obj of objects) {
    for (const dryRun of [true, false]) {
      const res = await serverSideApply(kc, obj, { dryRun });
      warnings.push(...res.warnings.map((w) => `${dryRun ? 'dry-run ' : ''}${obj.kind}/${obj.metadata?.name}: ${w}`));
    }
  }
  return warnings;
}

/** A Pod made from each workload's pod template, as the controllers would create it. */
function podsFromTemplates(objects: readonly KubernetesObject[]): KubernetesObject[] {
  return objects.flatMap((o) => {
    const spec = (o as Obj).spec;
    const template = o.kind === 'CronJob' ? spec.jobTemplate.spec.template : ['Deployment', 'StatefulSet', 'Job'].includes(o.kind!) ? spec.template : undefined;
    if (!template) return [];
    return [{ apiVersion: 'v1', kind: 'Pod', metadata: { ...template.metadata, name: `${o.metadata?.name}-probe`, namespace: o.metadata?.namespace }, spec: template.spec } as KubernetesObject];
  });
}

describe('RecommenderChart on a real API server', () => {
  let kc: KubeConfig;
  let namespace: string;

  beforeAll(async () => {
    kc = testKubeConfig();
    namespace = await createTestNamespace(kc, 'cdk8s-chart', RESTRICTED);
  });
  afterAll(async () => {
    await deleteNamespace(kc, namespace);
  });

  it('accepts every object of the every-field example by dry run, then applies it, in a restricted namespace, with no warnings', async () => {
    const objects = renderRecommender(exampleIn(namespace));
    expect(objects.length).toBeGreaterThanOrEqual(20);
    expect(await applyAll(kc, objects)).toEqual([]);
    for (const obj of objects) {
      const res = await send(kc, 'GET', `${collectionPath(obj)}/${obj.metadata?.name}`);
      expect(res.status, `${obj.kind}/${obj.metadata?.name}`).toBe(200);
    }
  });

  it('accepts a minimal Recommender without cache, autoscaling or its own model volume, with no warnings', async () => {
    const rec = recommender({ cache: { enabled: false }, autoscaling: { enabled: false }, model: { storage: { existingClaim: 'shared-models' } } }, 'minimal', namespace);
    expect(await applyAll(kc, renderRecommender(rec))).toEqual([]);
  });

  it('accepts every object of the object-storage example (no model PersistentVolumeClaim), and admits its pods under restricted, with no warnings', async () => {
    const objects = renderRecommender(exampleIn(namespace, 'recommender-s3.yaml'));
    expect(objects.filter((o) => o.kind === 'PersistentVolumeClaim').map((o) => o.metadata?.labels?.['app.kubernetes.io/component'])).toEqual(['state']);
    expect(await applyAll(kc, objects)).toEqual([]);
    for (const pod of podsFromTemplates(objects)) {
      const res = await dryRunCreate(kc, pod);
      expect({ pod: pod.metadata?.name, status: res.status, warnings: res.warnings }).toEqual({ pod: pod.metadata?.name, status: 201, warnings: [] });
    }
  });

  it('admits a Pod of every workload template under restricted Pod Security, with no warnings', async () => {
    const pods = podsFromTemplates(renderRecommender(exampleIn(namespace)));
    expect(pods.map((p) => p.metadata?.name)).toEqual(['storefront-redis-probe', 'storefront-probe', 'storefront-retrain-probe']);
    for (const pod of pods) {
      const res = await dryRunCreate(kc, pod);
      expect({ pod: pod.metadata?.name, status: res.status, warnings: res.warnings }).toEqual({ pod: pod.metadata?.name, status: 201, warnings: [] });
    }
  });

  it('accepts the Spark example — its ScheduledSparkApplication against the Kubeflow Spark operator\'s CRD, and a run\'s packing Job — and admits the driver, executor and packing pods under restricted, with no warnings', async () => {
    const rec = exampleIn(namespace, 'recommender-spark.yaml');
    const run = `${rec.metadata.name}-spark-1796176767176000000`;
    const objects = [...renderRecommender(rec), ...packJobs(rec, [run])];
    expect(objects.map((o) => o.kind)).toEqual(expect.arrayContaining(['ScheduledSparkApplication', 'Job']));
    expect(objects.map((o) => o.kind)).not.toContain('CronJob');
    expect(await applyAll(kc, objects)).toEqual([]);
    const scheduled = JSON.parse((await send(kc, 'GET', `${collectionPath(find(objects, 'ScheduledSparkApplication'))}/${rec.metadata.name}-spark`)).body) as Obj;
    expect(scheduled.spec).toMatchObject({ schedule: '0 3 * * *', suspend: false, concurrencyPolicy: 'Forbid', template: { type: 'Python', mode: 'cluster' } });
    // The pods the Spark operator makes from the template: the driver (with its init container) and an executor.
    const t = (find(objects, 'ScheduledSparkApplication') as Obj).spec.template;
    const sparkPod = (role: 'driver' | 'executor') => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `${rec.metadata.name}-${role}-probe`, namespace, labels: t[role].labels },
      spec: {
        securityContext: t[role].podSecurityContext,
        ...(role === 'driver' ? { initContainers: t.driver.initContainers } : {}),
        containers: [{ name: `spark-kubernetes-${role}`, image: t.image, env: t[role].env, securityContext: t[role].securityContext, volumeMounts: t[role].volumeMounts }],
        volumes: t.volumes,
      },
    });
    for (const pod of [sparkPod('driver'), sparkPod('executor'), ...podsFromTemplates(objects)] as KubernetesObject[]) {
      const res = await dryRunCreate(kc, pod);
      expect({ pod: pod.metadata?.name, status: res.status, warnings: res.warnings }).toEqual({ pod: pod.metadata?.name, status: 201, warnings: [] });
    }
  });

  it('would see a Pod Security warning, so the checks above are live', async () => {
    const [deployment] = renderRecommender(exampleIn(namespace)).filter((o) => o.kind === 'Deployment') as Obj[];
    const bad = structuredClone(deployment!);
    bad.metadata = { ...bad.metadata, name: 'not-restricted' };
    delete bad.spec.template.spec.containers[0].securityContext.capabilities;
    const res = await serverSideApply(kc, bad, { dryRun: true });
    expect(res.warnings.join('\n')).toMatch(/would violate PodSecurity .*restricted:latest.*capabilities/);
  });

  it('lets the ReplicaSet controller create scoring pods in the restricted namespace', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const pods = await eventually(
      async () => {
        const list = await core.listNamespacedPod({ namespace, labelSelector: `${LABEL_INSTANCE}=storefront,${LABEL_COMPONENT}=scoring` });
        return list.items.length > 0 ? list.items : undefined;
      },
      // The shared kube-controller-manager may still be syncing its caches when this file runs first.
      75_000,
      'scoring pods created by the ReplicaSet controller',
    );
    expect(pods[0]?.spec?.securityContext?.runAsNonRoot).toBe(true);
    expect(pods[0]?.spec?.automountServiceAccountToken).toBe(false);
  }, 90_000);

  it('changes nothing when the same render is applied again', async () => {
    const objects = renderRecommender(exampleIn(namespace));
    const versions = async () =>
      Promise.all(
        objects.map(async (o) => {
          const live = JSON.parse((await send(kc, 'GET', `${collectionPath(o)}/${o.metadata?.name}`)).body) as KubernetesObject & {
            metadata: { generation?: number; resourceVersion?: string };
            spec?: unknown;
          };
          // kube-apiserver writes a no-op apply of a PersistentVolumeClaim (its resourceVersion moves with
          // identical content), so for PVCs compare the content; elsewhere the generation or resourceVersion.
          const version = o.kind === 'PersistentVolumeClaim' ? JSON.stringify([live.metadata.labels, live.spec]) : (live.metadata.generation ?? live.metadata.resourceVersion);
          return `${o.kind}/${o.metadata?.name}@${version}`;
        }),
      );
    const before = await versions();
    for (const o of objects) await serverSideApply(kc, o);
    expect(await versions()).toEqual(before);
  });
});

describe('switching autoscaling on under server-side apply', () => {
  let kc: KubeConfig;
  let namespace: string;
  const fixedThenAutoscaled = (ns: string) => {
    const spec = { replicas: { min: 4, max: 10 } };
    const deployment = (autoscaling: boolean) =>
      renderRecommender(recommender({ ...spec, autoscaling: { enabled: autoscaling } }, 'scaled', ns)).find((o) => o.kind === 'Deployment')!;
    return { fixed: deployment(false), autoscaled: deployment(true) };
  };
  const apply = (obj: object, manager: string) =>
    send(kc, 'PATCH', `${collectionPath(obj as KubernetesObject)}/${(obj as KubernetesObject).metadata?.name}?fieldManager=${manager}&force=true`, obj, 'application/apply-patch+yaml');
  const liveReplicas = async (obj: KubernetesObject) => (JSON.parse((await send(kc, 'GET', `${collectionPath(obj)}/${obj.metadata?.name}`)).body) as Obj).spec.replicas as number;

  beforeAll(async () => {
    kc = testKubeConfig();
    namespace = await createTestNamespace(kc, 'cdk8s-hpa');
  });
  afterAll(async () => {
    await deleteNamespace(kc, namespace);
  });

  it('drops a fixed replica count to 1 when the render simply stops setting it', async () => {
    const { fixed, autoscaled } = fixedThenAutoscaled(namespace);
    await apply(fixed, FIELD_MANAGER);
    expect(await liveReplicas(fixed)).toBe(4);
    await apply(autoscaled, FIELD_MANAGER);
    expect(await liveReplicas(fixed)).toBe(1);
  });

  it('keeps the replica count when replicasHandover is applied first under its own field manager', async () => {
    const { fixed, autoscaled } = fixedThenAutoscaled(namespace);
    await apply(fixed, FIELD_MANAGER);
    const handover = await apply(replicasHandover(fixed, await liveReplicas(fixed)), HPA_HANDOVER_FIELD_MANAGER);
    expect(handover.status).toBe(200);
    await apply(autoscaled, FIELD_MANAGER);
    expect(await liveReplicas(fixed)).toBe(4);
  });
});

describe('the install bundle on a real API server', () => {
  let kc: KubeConfig;
  const suffix = String(process.pid);
  const namespace = `tandem-system-${suffix}`;
  // Cluster-scoped RBAC gets a unique name so parallel test files never share it; the rules are unchanged.
  const objects = renderInstallBundle({ namespace }).map((o) => {
    if (o.kind !== 'ClusterRole' && o.kind !== 'ClusterRoleBinding') return o;
    const copy = structuredClone(o) as KubernetesObject & { roleRef?: { name: string } };
    copy.metadata = { ...copy.metadata, name: `${copy.metadata?.name}-${suffix}` };
    if (copy.roleRef) copy.roleRef = { ...copy.roleRef, name: `${copy.roleRef.name}-${suffix}` };
    return copy;
  });

  beforeAll(() => {
    kc = testKubeConfig();
  });
  afterAll(async () => {
    for (const o of objects) if (o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding' || o.kind === 'Namespace') await remove(kc, o);
  });

  it('is accepted by dry run, then applied, with no warnings', async () => {
    expect(await applyAll(kc, objects)).toEqual([]);
  });

  it('admits the operator Pod under the restricted Pod Security of its namespace', async () => {
    const [pod] = podsFromTemplates(objects);
    const res = await dryRunCreate(kc, pod!);
    expect({ status: res.status, warnings: res.warnings }).toEqual({ status: 201, warnings: [] });
  });

  it('lets the operator ServiceAccount do what the operator does, and no more', async () => {
    const user = `system:serviceaccount:${namespace}:tandem-operator`;
    const can = async (verb: string, group: string, resource: string, ns = 'some-shop', subresource?: string) => {
      const res = await send(kc, 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { user, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`], resourceAttributes: { verb, group, resource, namespace: ns, ...(subresource ? { subresource } : {}) } },
      });
      return (JSON.parse(res.body) as { status: { allowed: boolean } }).status.allowed;
    };
    for (const rule of OPERATOR_RBAC.clusterRole) {
      for (const resource of rule.resources) {
        const [res, sub] = resource.split('/') as [string, string | undefined];
        for (const verb of rule.verbs) expect(await can(verb, rule.apiGroups[0]!, res, 'some-shop', sub), `${verb} ${resource}`).toBe(true);
      }
    }
    expect(await can('update', 'coordination.k8s.io', 'leases', namespace)).toBe(true);
    expect(await can('update', 'coordination.k8s.io', 'leases', 'some-shop')).toBe(false);
    expect(await can('get', '', 'secrets')).toBe(false);
    expect(await can('update', 'apps', 'deployments')).toBe(false);
    expect(await can('create', 'rbac.authorization.k8s.io', 'roles')).toBe(false);
    expect(await can('delete', 'tandem.dev', 'recommenders')).toBe(false);
  });
});
