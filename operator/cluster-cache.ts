/**
 * The operator's view of the cluster: informers on Recommenders and on every child kind (scoped by
 * the managed-by label, and by namespace when configured). Implements `ClusterView` for the
 * reconciler and maps each change to the Recommender key that must be reconciled.
 */
import { CustomObjectsApi, KubernetesObjectApi, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { GROUP, KIND, PLURAL, VERSION, type Recommender } from '../cdk8s/api/v1alpha1/recommender.js';
import { LABEL_INSTANCE, LABEL_MANAGED_BY, MANAGED_BY } from '../cdk8s/constants.js';
import { CHILD_KINDS, type ChildKind } from '../cdk8s/recommender-chart.js';
import { ResilientInformer } from './informer.js';
import type { OperatorMetrics } from './metrics.js';
import type { ClusterView } from './reconciler.js';
import { useWireJson } from './wire-json.js';

const MANAGED_SELECTOR = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;

/** Whether the API server serves `kind` (a one-item list answers; an unknown kind or a 404 does not). */
async function served(objects: KubernetesObjectApi, kind: ChildKind, ns: string | undefined): Promise<boolean> {
  try {
    await objects.list(kind.apiVersion, kind.kind, ns, undefined, undefined, undefined, undefined, MANAGED_SELECTOR, 1);
    return true;
  } catch (err) {
    if ((err as { code?: number }).code === 404 || /Unrecognized API version and kind|not found/i.test(String((err as Error).message))) return false;
    throw err;
  }
}

export class ClusterCache implements ClusterView {
  private readonly recommenders: ResilientInformer<Recommender>[] = [];
  private readonly childInformers = new Map<string, ResilientInformer<KubernetesObject>[]>();
  /** Optional kinds (child-kinds.ts), probed at start: watched only where the API server serves them. */
  private readonly probes: { key: string; probe: () => Promise<boolean> }[] = [];
  private readonly log: Logger;

  constructor(
    kc: KubeConfig,
    opts: { namespaces: readonly string[]; log: Logger; metrics: OperatorMetrics; enqueue: (key: string) => void; onChildDeleted?: (obj: KubernetesObject) => void },
    kinds: readonly ChildKind[] = CHILD_KINDS,
  ) {
    useWireJson(kinds);
    this.log = opts.log;
    const scopes = opts.namespaces.length > 0 ? opts.namespaces : [undefined];
    const custom = kc.makeApiClient(CustomObjectsApi);
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const restart = (name: string) => {
      opts.metrics.informerRestarts.inc({ informer: name }, 0); // exported at 0 from the start
      return () => opts.metrics.informerRestarts.inc({ informer: name });
    };

    for (const ns of scopes) {
      const name = `${GROUP}/${VERSION} ${KIND}`;
      this.recommenders.push(
        new ResilientInformer<Recommender>(kc, {
          name,
          path: `/apis/${GROUP}/${VERSION}${ns ? `/namespaces/${ns}` : ''}/${PLURAL}`,
          list: () =>
            withTypeMeta(
              (ns
                ? custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL })
                : custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL })) as Promise<KubernetesListObject<Recommender>>,
              `${GROUP}/${VERSION}`,
              KIND,
            ),
          onEvent: (_event, rec) => opts.enqueue(`${rec.metadata.namespace}/${rec.metadata.name}`),
          onRestart: restart(name),
          transform: stripManagedFields,
          log: opts.log,
        }),
      );
      for (const kind of kinds) {
        const name = `${kind.apiVersion} ${kind.kind}`;
        const prefix = kind.apiVersion.includes('/') ? `/apis/${kind.apiVersion}` : `/api/${kind.apiVersion}`;
        const informer = new ResilientInformer<KubernetesObject>(kc, {
          name,
          path: `${prefix}${ns ? `/namespaces/${ns}` : ''}/${kind.plural}`,
          labelSelector: MANAGED_SELECTOR,
          list: () => withTypeMeta(objects.list(kind.apiVersion, kind.kind, ns, undefined, undefined, undefined, undefined, MANAGED_SELECTOR), kind.apiVersion, kind.kind),
          onEvent: (event, obj) => {
            if (event === 'delete') opts.onChildDeleted?.(obj);
            const owner = obj.metadata?.ownerReferences?.find((r) => r.controller && r.kind === KIND && r.apiVersion.startsWith(`${GROUP}/`));
            if (owner) opts.enqueue(`${obj.metadata!.namespace}/${owner.name}`);
          },
          onRestart: restart(name),
          transform: stripManagedFields,
          log: opts.log,
        });
        const key = `${kind.apiVersion}/${kind.kind}`;
        this.childInformers.set(key, [...(this.childInformers.get(key) ?? []), informer]);
        if (kind.optional && !this.probes.some((p) => p.key === key)) {
          this.probes.push({ key, probe: () => served(objects, kind, ns) });
        }
      }
    }
  }

  async start(): Promise<void> {
    for (const { key, probe } of this.probes) {
      if (await probe()) continue;
      this.childInformers.delete(key);
      this.log.info({ kind: key }, 'kind not served by the API server (its operator is not installed): not watched; Recommenders that need it will fail to apply');
    }
    await Promise.all(this.all().map((i) => i.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.all().map((i) => i.stop()));
  }

  get hasSynced(): boolean {
    return this.all().every((i) => i.hasSynced);
  }

  recommenderKeys(): string[] {
    return this.recommenders.flatMap((i) => i.list().map((r) => `${r.metadata.namespace}/${r.metadata.name}`));
  }

  recommender(namespace: string, name: string): Recommender | undefined {
    for (const i of this.recommenders) {
      const found = i.get(name, namespace);
      if (found) return found;
    }
    return undefined;
  }

  child(apiVersion: string, kind: string, namespace: string, name: string): KubernetesObject | undefined {
    for (const i of this.childInformers.get(`${apiVersion}/${kind}`) ?? []) {
      const found = i.get(name, namespace);
      if (found) return found;
    }
    return undefined;
  }

  children(namespace: string, instance: string): KubernetesObject[] {
    return [...this.childInformers.values()].flat().flatMap((i) => i.list(namespace).filter((o) => o.metadata?.labels?.[LABEL_INSTANCE] === instance));
  }

  private all(): ResilientInformer<KubernetesObject>[] {
    return [...(this.recommenders as unknown as ResilientInformer<KubernetesObject>[]), ...[...this.childInformers.values()].flat()];
  }
}

/**
 * managedFields are often half of an object and the reconciler never reads them from the cache
 * (as controller-runtime's TransformStripManagedFields). This is the cache's own copy; nothing else holds it yet.
 */
function stripManagedFields(obj: KubernetesObject): void {
  if (obj.metadata) delete obj.metadata.managedFields;
}

/** List items come without apiVersion and kind; the cache needs them to name and compare objects. */
async function withTypeMeta<T extends KubernetesObject>(list: Promise<KubernetesListObject<T>>, apiVersion: string, kind: string): Promise<KubernetesListObject<T>> {
  const result = await list;
  return { ...result, items: result.items.map((item) => ({ ...item, apiVersion, kind })) };
}
