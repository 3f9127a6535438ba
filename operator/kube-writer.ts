/**
 * Every write the operator makes, in one place: server-side apply of children (field manager
 * `tandem-operator`, force), deletes for pruning, status through the status subresource, and Events.
 * Each write is counted by kind and verb, and refused once this replica is no longer the leader.
 */
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type Recommender, type RecommenderStatus } from '../cdk8s/api/v1alpha1/recommender.js';
import { FIELD_MANAGER, HPA_HANDOVER_FIELD_MANAGER } from '../cdk8s/constants.js';
import { CHILD_KINDS, replicasHandover } from '../cdk8s/recommender-chart.js';
import type { OperatorMetrics } from './metrics.js';
import { useWireJson } from './wire-json.js';
import type { ClusterWriter } from './reconciler.js';

export class KubeWriter implements ClusterWriter {
  private readonly objects: KubernetesObjectApi;
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;
  private readonly applyOptions = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

  constructor(
    kc: KubeConfig,
    private readonly metrics: OperatorMetrics,
    private readonly identity: string,
    private readonly mayWrite: () => boolean,
  ) {
    useWireJson(CHILD_KINDS);
    this.objects = KubernetesObjectApi.makeApiClient(kc);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async apply(obj: KubernetesObject, live: KubernetesObject | undefined): Promise<KubernetesObject> {
    this.guard();
    if (live) await this.handOverReplicas(obj, live);
    this.metrics.apiWrites.inc({ kind: obj.kind, verb: 'apply' });
    return this.objects.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  }

  async delete(obj: KubernetesObject): Promise<void> {
    this.guard();
    this.metrics.apiWrites.inc({ kind: obj.kind, verb: 'delete' });
    try {
      await this.objects.delete(obj, undefined, undefined, undefined, undefined, 'Background');
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 404)) throw err;
    }
  }

  async writeStatus(rec: Recommender, status: RecommenderStatus): Promise<void> {
    this.guard();
    this.metrics.apiWrites.inc({ kind: rec.kind, verb: 'apply-status' });
    await this.custom.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace: rec.metadata.namespace!,
        name: rec.metadata.name,
        body: { apiVersion: rec.apiVersion, kind: rec.kind, metadata: { name: rec.metadata.name, namespace: rec.metadata.namespace }, status },
        fieldManager: FIELD_MANAGER,
        force: true,
      },
      this.applyOptions,
    );
  }

  async event(rec: Recommender, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    this.guard();
    this.metrics.apiWrites.inc({ kind: 'Event', verb: 'create' });
    const now = new Date();
    await this.core.createNamespacedEvent({
      namespace: rec.metadata.namespace!,
      body: {
        metadata: { generateName: `${rec.metadata.name}.`, namespace: rec.metadata.namespace },
        involvedObject: { apiVersion: rec.apiVersion, kind: rec.kind, name: rec.metadata.name, namespace: rec.metadata.namespace, uid: rec.metadata.uid, resourceVersion: rec.metadata.resourceVersion },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component: FIELD_MANAGER },
        reportingComponent: `tandem.dev/${FIELD_MANAGER}`,
        reportingInstance: this.identity,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    });
  }

  /**
   * When a Deployment we scaled ourselves comes under an HPA, our apply stops setting `spec.replicas`.
   * If we were its only manager, server-side apply would reset it to 1 and drop the running pods.
   * Co-owning it first under a second manager keeps the current value until the HPA writes its own.
   */
  private async handOverReplicas(obj: KubernetesObject, live: KubernetesObject): Promise<void> {
    if (obj.kind !== 'Deployment' || (obj as { spec?: { replicas?: number } }).spec?.replicas !== undefined) return;
    if ((live as { spec?: { replicas?: number } }).spec?.replicas === undefined) return;
    // The cache has no managedFields; read them only in this rare case.
    const fresh = await this.objects.read({ apiVersion: obj.apiVersion!, kind: obj.kind, metadata: { name: obj.metadata!.name!, namespace: obj.metadata!.namespace! } });
    const replicas = (fresh as { spec?: { replicas?: number } }).spec?.replicas;
    const ownsReplicas = (manager: string) =>
      (fresh.metadata?.managedFields ?? []).some((f) => f.manager === manager && JSON.stringify(f.fieldsV1 ?? {}).includes('"f:replicas"'));
    if (replicas === undefined || !ownsReplicas(FIELD_MANAGER) || ownsReplicas(HPA_HANDOVER_FIELD_MANAGER)) return;
    this.metrics.apiWrites.inc({ kind: obj.kind, verb: 'apply' });
    await this.objects.patch(replicasHandover(obj, replicas) as KubernetesObject, undefined, undefined, HPA_HANDOVER_FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  }

  private guard(): void {
    if (!this.mayWrite()) throw new Error('this replica is no longer the leader; not writing');
  }
}
