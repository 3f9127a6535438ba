/**
 * Reconcile one Recommender: read it, render its children, apply what differs, prune what is no
 * longer wanted, observe the children, and write status only when it changed. Level-triggered and
 * safe to repeat. Reads come from the informer caches (`ClusterView`); every write goes through
 * `ClusterWriter`, so the story below has no I/O details in it.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Recommender, RecommenderStatus } from '../cdk8s/api/v1alpha1/recommender.js';
import { Component, LABEL_COMPONENT, LABEL_INSTANCE } from '../cdk8s/constants.js';
import { recommenderNames } from '../cdk8s/names.js';
import { SPARK_API_VERSION, successfulRuns } from '../cdk8s/spark-training.js';
import type { AppliedFingerprints } from './compare.js';
import type { RenderOptions } from '../cdk8s/recommender-chart.js';
import type { ModelProbe } from './model-probe.js';
import { describeObject, desiredChildren, objectKey } from './desired.js';
import { ConditionType, Reason, computeStatus, statusChanged, type Observations } from './status.js';

export interface ClusterView {
  recommender(namespace: string, name: string): Recommender | undefined;
  child(apiVersion: string, kind: string, namespace: string, name: string): KubernetesObject | undefined;
  /** Every child in the namespace that carries our managed-by label and this instance label. */
  children(namespace: string, instance: string): KubernetesObject[];
}

export interface ClusterWriter {
  /** Server-side applies the object; returns what the server stored. */
  apply(obj: KubernetesObject, live: KubernetesObject | undefined): Promise<KubernetesObject>;
  delete(obj: KubernetesObject): Promise<void>;
  writeStatus(rec: Recommender, status: RecommenderStatus): Promise<void>;
  event(rec: Recommender, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

export interface ReconcileResult {
  readonly applied: number;
  readonly pruned: number;
  readonly statusWritten: boolean;
  /** The scoring Deployment has ready pods (their served model version is worth reading again later). */
  readonly servingPods?: boolean;
}

export class ReconcileError extends Error {}

const APPLY_CONCURRENCY = 4;

async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

export interface ReconcileDeps {
  readonly view: ClusterView;
  readonly writer: ClusterWriter;
  readonly fingerprints: AppliedFingerprints;
  readonly log: Logger;
  /** Reads which model version the ready scoring pods serve; without it, status.modelVersion stays unset. */
  readonly models?: ModelProbe;
  readonly render?: RenderOptions;
}

export async function reconcile(key: string, { view, writer, fingerprints, log, models, render }: ReconcileDeps, now = new Date()): Promise<ReconcileResult> {
  const [namespace, name] = key.split('/') as [string, string];
  const cached = view.recommender(namespace, name);
  // No finalizer: every child carries a controller ownerReference, so the garbage collector deletes
  // them with the Recommender, and nothing outside the cluster's owner graph needs cleaning up.
  if (!cached || cached.metadata.deletionTimestamp) return { applied: 0, pruned: 0, statusWritten: false };
  const rec = structuredClone(cached);

  if (rec.spec.paused) {
    const statusWritten = await reportStatus(rec, observe(rec, view, undefined, {}), writer, now);
    return { applied: 0, pruned: 0, statusWritten };
  }

  let desired: KubernetesObject[] | undefined;
  let error: Observations['error'];
  try {
    desired = desiredChildren(rec, render, sparkRuns(rec, view));
  } catch (err) {
    error = { reason: Reason.INVALID_SPEC, message: `failed to render the children: ${message(err)}` };
  }

  let applied = 0;
  let pruned = 0;
  if (desired) {
    // Children are independent to the API server, so a few are applied at once.
    await eachLimited(desired, APPLY_CONCURRENCY, async (obj) => {
      const live = view.child(obj.apiVersion!, obj.kind!, namespace, obj.metadata!.name!);
      const childKey = objectKey(obj);
      const drift = live && fingerprints.drift(childKey, obj, live);
      if (live && drift === undefined) return;
      try {
        fingerprints.record(childKey, obj, await writer.apply(obj, live));
        applied++;
        log.info({ object: describeObject(obj), ...(drift ? { drift } : {}) }, live ? 'updated child' : 'created child');
      } catch (err) {
        error ??= { reason: Reason.APPLY_FAILED, message: `failed to apply ${describeObject(obj)}: ${message(err)}` };
      }
    });
    const wanted = new Set(desired.map(objectKey));
    for (const obj of view.children(namespace, name)) {
      if (wanted.has(objectKey(obj)) || !ownedBy(obj, rec)) continue;
      try {
        await writer.delete(obj);
        fingerprints.forget(objectKey(obj));
        pruned++;
        log.info({ object: describeObject(obj) }, 'pruned child');
      } catch (err) {
        error ??= { reason: Reason.APPLY_FAILED, message: `failed to prune ${describeObject(obj)}: ${message(err)}` };
      }
    }
  }

  const seen = observe(rec, view, desired, { error });
  const servingPods = (seen.deployment?.status?.readyReplicas ?? 0) > 0;
  const modelVersion = servingPods && seen.deployment ? await servedModel(models, seen.deployment, log) : undefined;
  const statusWritten = await reportStatus(rec, { ...seen, modelVersion }, writer, now);
  if (error) {
    log.warn({ reason: error.reason, err: error.message }, 'reconcile failed');
    throw new ReconcileError(error.message);
  }
  return { applied, pruned, statusWritten, servingPods };
}

/** The Spark runs to pack: the live ScheduledSparkApplication's successful ones (engine spark only). */
function sparkRuns(rec: Recommender, view: ClusterView): string[] {
  if (rec.spec.training.engine !== 'spark') return [];
  const names = recommenderNames(rec.metadata.name, rec.metadata.namespace!);
  return successfulRuns(view.child(SPARK_API_VERSION, 'ScheduledSparkApplication', names.namespace, names.spark));
}

/** The scoring Service has the Deployment's name (cdk8s/scoring.ts); a failed read is not a failed reconcile. */
async function servedModel(models: ModelProbe | undefined, deployment: { namespace: string; name: string }, log: Logger): Promise<string | undefined> {
  try {
    return await models?.served(deployment.namespace, deployment.name);
  } catch (err) {
    log.warn({ err: message(err) }, 'failed to read the served model version');
    return undefined;
  }
}

function observe(rec: Recommender, view: ClusterView, desired: KubernetesObject[] | undefined, extra: Pick<Observations, 'error'>): Observations {
  const ns = rec.metadata.namespace!;
  const children = desired ?? view.children(ns, rec.metadata.name);
  const find = (kind: string, component: string) => children.find((o) => o.kind === kind && o.metadata?.labels?.[LABEL_COMPONENT] === component);
  const live = (o: KubernetesObject | undefined) => (o ? view.child(o.apiVersion!, o.kind!, ns, o.metadata!.name!) : undefined);

  const deployment = live(find('Deployment', Component.SCORING)) as (KubernetesObject & { spec?: { replicas?: number }; status?: NonNullable<Observations['deployment']>['status'] }) | undefined;
  const redis = live(find('StatefulSet', Component.CACHE)) as (KubernetesObject & { spec?: { replicas?: number }; status?: { readyReplicas?: number } }) | undefined;
  const hpa = live(find('HorizontalPodAutoscaler', Component.SCORING)) as (KubernetesObject & { status?: NonNullable<Observations['autoscaler']>['status'] }) | undefined;
  const service = children.find((o) => o.kind === 'Service' && o.metadata?.labels?.[LABEL_COMPONENT] === Component.SCORING && o.metadata?.labels?.[LABEL_INSTANCE] === rec.metadata.name);
  const port = (service as { spec?: { ports?: { port: number; name?: string }[] } } | undefined)?.spec?.ports?.[0]?.port;

  return {
    ...extra,
    deployment: deployment && {
      namespace: ns,
      name: deployment.metadata!.name!,
      generation: deployment.metadata?.generation,
      status: deployment.status,
      desiredReplicas: deployment.spec?.replicas ?? 1,
    },
    cache: redis && { namespace: ns, name: redis.metadata!.name!, replicas: redis.spec?.replicas ?? 1, readyReplicas: redis.status?.readyReplicas ?? 0 },
    autoscaler: hpa && { namespace: ns, name: hpa.metadata!.name!, status: hpa.status },
    endpoint: service && port ? `http://${service.metadata!.name}.${ns}.svc:${port}` : undefined,
  };
}

async function reportStatus(rec: Recommender, seen: Observations, writer: ClusterWriter, now: Date): Promise<boolean> {
  const status = computeStatus(rec, seen, now);
  if (!statusChanged(rec.status, status)) return false;
  await writer.writeStatus(rec, status);
  await announceTransitions(rec, rec.status, status, writer);
  return true;
}

/** Events for the transitions a person would want in `kubectl describe`: readiness flips and new failures. */
async function announceTransitions(rec: Recommender, before: RecommenderStatus | undefined, after: RecommenderStatus, writer: ClusterWriter): Promise<void> {
  const get = (s: RecommenderStatus | undefined, type: string) => s?.conditions?.find((c) => c.type === type);
  const readyBefore = get(before, ConditionType.READY);
  const readyAfter = get(after, ConditionType.READY);
  const degradedBefore = get(before, ConditionType.DEGRADED);
  const degradedAfter = get(after, ConditionType.DEGRADED);
  const sends: Promise<void>[] = [];
  if (degradedAfter?.status === 'True' && (degradedBefore?.status !== 'True' || degradedBefore.message !== degradedAfter.message)) {
    sends.push(writer.event(rec, 'Warning', degradedAfter.reason, degradedAfter.message));
  }
  if (readyAfter && (readyBefore?.status !== readyAfter.status || readyBefore.reason !== readyAfter.reason)) {
    sends.push(writer.event(rec, readyAfter.status === 'True' ? 'Normal' : 'Warning', readyAfter.reason, readyAfter.message));
  }
  // An event that cannot be recorded must not fail the reconcile that already did its work.
  await Promise.allSettled(sends);
}

function ownedBy(obj: KubernetesObject, rec: Recommender): boolean {
  return (obj.metadata?.ownerReferences ?? []).some((r) => r.uid === rec.metadata.uid && r.controller);
}

/** The API server's own words when there are some (ApiException bodies are JSON Status strings). */
export function message(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      const status = JSON.parse(body) as { message?: string };
      if (status.message) return status.message;
    } catch {
      // not JSON: fall through
    }
  }
  return err instanceof Error ? err.message : String(err);
}
