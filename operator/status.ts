/**
 * The Recommender's status, derived from what its children report (as KServe's raw mode does).
 * Pure: observations in, status out. Each condition is decided by a small function returning a
 * reason constant and a message written for the person on call.
 */
import type { Condition, Recommender, RecommenderStatus } from '../cdk8s/api/v1alpha1/recommender.js';

/** Condition types. */
export const ConditionType = {
  READY: 'Ready',
  AVAILABLE: 'Available',
  PROGRESSING: 'Progressing',
  DEGRADED: 'Degraded',
  CACHE_READY: 'CacheReady',
} as const;

/** Reasons, one per situation a person on call must tell apart. */
export const Reason = {
  /** Every child is applied and the scoring Deployment is available. */
  READY: 'Ready',
  /** `spec.paused` is true: status is reported, nothing is changed. */
  PAUSED: 'Paused',
  /** The scoring Deployment has fewer available replicas than it needs. */
  NOT_AVAILABLE: 'NotAvailable',
  /** The scoring Deployment does not exist (yet). */
  DEPLOYMENT_MISSING: 'DeploymentMissing',
  /** Applying or pruning a child failed; the message names the object and the API server's answer. */
  APPLY_FAILED: 'ApplyFailed',
  /** The Recommender's spec cannot be rendered (e.g. a caller selector overlaps protected namespaces). */
  INVALID_SPEC: 'InvalidSpec',
  /** The Deployment reports ProgressDeadlineExceeded or ReplicaFailure. */
  ROLLOUT_FAILED: 'RolloutFailed',
  /** Nothing is wrong. */
  AS_EXPECTED: 'AsExpected',
  /** The Deployment is rolling out a new ReplicaSet. */
  ROLLING_OUT: 'RollingOut',
  /** The rollout is complete. */
  ROLLOUT_COMPLETE: 'RolloutComplete',
  /** The children are being applied for the current generation. */
  RECONCILING: 'Reconciling',
  CACHE_READY: 'CacheReady',
  CACHE_NOT_READY: 'CacheNotReady',
  CACHE_DISABLED: 'CacheDisabled',
} as const;

interface K8sCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** What the operator saw of the children after applying them. */
export interface Observations {
  readonly deployment?: {
    readonly namespace: string;
    readonly name: string;
    readonly generation?: number;
    readonly status?: {
      observedGeneration?: number;
      replicas?: number;
      readyReplicas?: number;
      availableReplicas?: number;
      updatedReplicas?: number;
      conditions?: K8sCondition[];
    };
    readonly desiredReplicas: number;
  };
  readonly cache?: { readonly namespace: string; readonly name: string; readonly replicas: number; readonly readyReplicas: number };
  /** A failure to render, apply or prune, already worded as "failed to <verb> <Kind> <ns>/<name>: <reason>". */
  readonly error?: { readonly reason: typeof Reason.APPLY_FAILED | typeof Reason.INVALID_SPEC; readonly message: string };
  readonly endpoint?: string;
  readonly modelVersion?: string;
}

type Decision = Pick<Condition, 'status' | 'reason' | 'message'>;

export function computeStatus(rec: Recommender, seen: Observations, now: Date): RecommenderStatus {
  const generation = rec.metadata.generation ?? 0;
  const previous = rec.status ?? {};
  const decisions: [string, Decision][] = rec.spec.paused ? pausedDecisions(rec, previous) : activeDecisions(rec, seen);
  const conditions = decisions.map(([type, d]) => withTransitionTime(previous.conditions, { type, ...d, observedGeneration: generation }, now));
  const status: RecommenderStatus = {
    observedGeneration: generation,
    conditions,
    modelVersion: seen.modelVersion ?? previous.modelVersion,
    endpoint: seen.endpoint ?? previous.endpoint,
    replicas: seen.deployment?.status?.replicas ?? previous.replicas ?? 0,
    readyReplicas: seen.deployment?.status?.readyReplicas ?? previous.readyReplicas ?? 0,
  };
  return dropUndefined(status);
}

function pausedDecisions(rec: Recommender, previous: RecommenderStatus): [string, Decision][] {
  const key = `${rec.metadata.namespace}/${rec.metadata.name}`;
  const kept = (previous.conditions ?? []).filter((c) => c.type === ConditionType.AVAILABLE || c.type === ConditionType.DEGRADED || c.type === ConditionType.CACHE_READY);
  return [
    [ConditionType.READY, { status: 'False', reason: Reason.PAUSED, message: `Recommender ${key} is paused (spec.paused: true): the operator reports status but changes nothing` }],
    [ConditionType.PROGRESSING, { status: 'False', reason: Reason.PAUSED, message: 'Paused: no changes are being applied' }],
    ...kept.map((c): [string, Decision] => [c.type, { status: c.status, reason: c.reason, message: c.message }]),
  ];
}

function activeDecisions(rec: Recommender, seen: Observations): [string, Decision][] {
  const available = decideAvailable(seen);
  const progressing = decideProgressing(seen);
  const degraded = decideDegraded(seen);
  const ready = decideReady(available, degraded, progressing);
  const list: [string, Decision][] = [
    [ConditionType.READY, ready],
    [ConditionType.AVAILABLE, available],
    [ConditionType.PROGRESSING, progressing],
    [ConditionType.DEGRADED, degraded],
  ];
  list.push([ConditionType.CACHE_READY, decideCache(rec, seen)]);
  return list;
}

export function decideAvailable(seen: Observations): Decision {
  const d = seen.deployment;
  if (!d) return { status: 'False', reason: Reason.DEPLOYMENT_MISSING, message: seen.error?.message ?? 'The scoring Deployment has not been created yet' };
  const available = d.status?.availableReplicas ?? 0;
  const cond = d.status?.conditions?.find((c) => c.type === 'Available');
  const summary = `Deployment ${d.namespace}/${d.name} has ${available}/${d.desiredReplicas} available replicas`;
  if (cond?.status === 'True' && available > 0) return { status: 'True', reason: Reason.READY, message: summary };
  const why = cond ? `: ${cond.reason ?? 'Unknown'}${cond.message ? ` (${cond.message})` : ''}` : ': the Deployment controller has not reported yet';
  return { status: 'False', reason: Reason.NOT_AVAILABLE, message: summary + why };
}

export function decideProgressing(seen: Observations): Decision {
  if (seen.error) return { status: 'False', reason: seen.error.reason, message: seen.error.message };
  const d = seen.deployment;
  if (!d) return { status: 'True', reason: Reason.RECONCILING, message: 'Creating the scoring Deployment' };
  const cond = d.status?.conditions?.find((c) => c.type === 'Progressing');
  const stale = d.generation !== undefined && (d.status?.observedGeneration ?? 0) < d.generation;
  if (cond?.status === 'False') return { status: 'False', reason: Reason.ROLLOUT_FAILED, message: `Deployment ${d.namespace}/${d.name}: ${cond.reason ?? ''} ${cond.message ?? ''}`.trim() };
  if (!stale && cond?.reason === 'NewReplicaSetAvailable') return { status: 'False', reason: Reason.ROLLOUT_COMPLETE, message: `Deployment ${d.namespace}/${d.name} has finished rolling out` };
  const updated = d.status?.updatedReplicas ?? 0;
  return { status: 'True', reason: Reason.ROLLING_OUT, message: `Deployment ${d.namespace}/${d.name} is rolling out: ${updated}/${d.desiredReplicas} replicas updated${cond?.reason ? ` (${cond.reason})` : ''}` };
}

export function decideDegraded(seen: Observations): Decision {
  if (seen.error) return { status: 'True', reason: seen.error.reason, message: seen.error.message };
  const d = seen.deployment;
  const failure = d?.status?.conditions?.find(
    (c) => (c.type === 'Progressing' && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded') || (c.type === 'ReplicaFailure' && c.status === 'True'),
  );
  if (d && failure) return { status: 'True', reason: Reason.ROLLOUT_FAILED, message: `Deployment ${d.namespace}/${d.name}: ${failure.reason ?? failure.type}${failure.message ? `: ${failure.message}` : ''}` };
  return { status: 'False', reason: Reason.AS_EXPECTED, message: 'All children are applied as declared' };
}

export function decideCache(rec: Recommender, seen: Observations): Decision {
  if (!rec.spec.cache.enabled) return { status: 'False', reason: Reason.CACHE_DISABLED, message: 'spec.cache.enabled is false: the service caches in memory' };
  const c = seen.cache;
  if (!c) return { status: 'False', reason: Reason.CACHE_NOT_READY, message: 'The Redis StatefulSet has not been created yet' };
  const msg = `StatefulSet ${c.namespace}/${c.name} has ${c.readyReplicas}/${c.replicas} ready replicas`;
  return c.readyReplicas >= c.replicas && c.replicas > 0 ? { status: 'True', reason: Reason.CACHE_READY, message: msg } : { status: 'False', reason: Reason.CACHE_NOT_READY, message: `${msg}; the service serves uncached meanwhile` };
}

export function decideReady(available: Decision, degraded: Decision, progressing: Decision): Decision {
  if (degraded.status === 'True') return { status: 'False', reason: degraded.reason, message: degraded.message };
  if (available.status !== 'True') return { status: 'False', reason: available.reason, message: available.message };
  if (progressing.status === 'True') return { status: 'False', reason: progressing.reason, message: progressing.message };
  return { status: 'True', reason: Reason.READY, message: available.message };
}

/** Keeps a condition's lastTransitionTime unless its status flipped (metav1.Condition semantics). */
function withTransitionTime(previous: Condition[] | undefined, next: Omit<Condition, 'lastTransitionTime'>, now: Date): Condition {
  const before = previous?.find((c) => c.type === next.type);
  const lastTransitionTime = before && before.status === next.status ? before.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return { ...next, lastTransitionTime };
}

/** True when two statuses differ in anything a write would change. */
export function statusChanged(before: RecommenderStatus | undefined, after: RecommenderStatus): boolean {
  return JSON.stringify(canonical(before ?? {})) !== JSON.stringify(canonical(after));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, canonical(x)]));
  return v;
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
