/**
 * The Recommender's status, derived from what its children report (as KServe's raw mode does).
 * Pure: observations in, status out. Each condition is decided by a small function returning a
 * reason constant and a message written for the person on call.
 */
import type { Condition, Recommender, RecommenderStatus } from '../cdk8s/api/v1alpha1/recommender.js';
import { Metrics } from '../cdk8s/constants.js';

/** Condition types. */
export const ConditionType = {
  READY: 'Ready',
  AVAILABLE: 'Available',
  PROGRESSING: 'Progressing',
  DEGRADED: 'Degraded',
  CACHE_READY: 'CacheReady',
  /** Whether the HPA can compute a replica count from every metric the spec asks for. */
  AUTOSCALING_READY: 'AutoscalingReady',
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
  /** The HPA computes replicas from all its metrics. */
  AUTOSCALING_ACTIVE: 'AutoscalingActive',
  /** `spec.autoscaling.enabled` is false: `replicas.min` pods run. */
  AUTOSCALING_DISABLED: 'AutoscalingDisabled',
  /** The HPA does not exist yet, or its controller has not reported on it. */
  AUTOSCALING_PENDING: 'AutoscalingPending',
  /**
   * `targetRequestsPerSecondPerPod` is set but the HPA cannot read the pods metric (no prometheus-adapter,
   * or no series): it then never scales down.
   */
  PODS_METRIC_UNAVAILABLE: 'PodsMetricUnavailable',
  /** The HPA reports it cannot scale for another reason (e.g. no metrics-server for CPU). */
  SCALING_INACTIVE: 'ScalingInactive',
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
  readonly autoscaler?: {
    readonly namespace: string;
    readonly name: string;
    readonly status?: { conditions?: K8sCondition[]; currentMetrics?: { type: string; pods?: { metric?: { name?: string } } }[] };
  };
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
  const keptTypes: string[] = [ConditionType.AVAILABLE, ConditionType.DEGRADED, ConditionType.CACHE_READY, ConditionType.AUTOSCALING_READY];
  const kept = (previous.conditions ?? []).filter((c) => keptTypes.includes(c.type));
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
  list.push([ConditionType.AUTOSCALING_READY, decideAutoscaling(rec, seen)]);
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

type Autoscaler = NonNullable<Observations['autoscaler']>;
/** One check of the autoscaling chain: a decision when it applies, undefined to pass to the next. */
type AutoscalingCheck = (rec: Recommender, hpa: Autoscaler | undefined) => Decision | undefined;

const hpaCondition = (hpa: Autoscaler | undefined, type: string) => hpa?.status?.conditions?.find((c) => c.type === type);
const hpaName = (hpa: Autoscaler) => `HorizontalPodAutoscaler ${hpa.namespace}/${hpa.name}`;
const said = (c: K8sCondition) => `${c.reason ?? 'Unknown'}${c.message ? `: ${c.message}` : ''}`;
const PODS_METRIC_HINT =
  `install prometheus-adapter with charts/tandem-operator/files/prometheus-adapter-values.yaml, or unset spec.autoscaling.targetRequestsPerSecondPerPod; until then the HPA scales on CPU but never scales down`;

/** The checks in order; the first that applies decides. */
export const AUTOSCALING_CHECKS: readonly AutoscalingCheck[] = [
  (rec) =>
    rec.spec.autoscaling.enabled ? undefined : { status: 'False', reason: Reason.AUTOSCALING_DISABLED, message: `spec.autoscaling.enabled is false: ${rec.spec.replicas.min} scoring pods run (replicas.min)` },
  (_rec, hpa) => (hpa ? undefined : { status: 'False', reason: Reason.AUTOSCALING_PENDING, message: 'The HorizontalPodAutoscaler has not been created yet' }),
  (rec, hpa) => {
    const active = hpaCondition(hpa, 'ScalingActive');
    if (rec.spec.autoscaling.targetRequestsPerSecondPerPod === undefined || active?.status !== 'False' || active.reason !== 'FailedGetPodsMetric') return undefined;
    return { status: 'False', reason: Reason.PODS_METRIC_UNAVAILABLE, message: `${hpaName(hpa!)} cannot read pods metric ${Metrics.REQUESTS_PER_SECOND} (${said(active)}): ${PODS_METRIC_HINT}` };
  },
  (rec, hpa) => {
    const current = hpa?.status?.currentMetrics;
    if (rec.spec.autoscaling.targetRequestsPerSecondPerPod === undefined || !current || current.length === 0) return undefined;
    if (current.some((m) => m.type === 'Pods' && m.pods?.metric?.name === Metrics.REQUESTS_PER_SECOND)) return undefined;
    return { status: 'False', reason: Reason.PODS_METRIC_UNAVAILABLE, message: `${hpaName(hpa!)} reports no value for pods metric ${Metrics.REQUESTS_PER_SECOND}: ${PODS_METRIC_HINT}` };
  },
  (_rec, hpa) => {
    const active = hpaCondition(hpa, 'ScalingActive');
    return active?.status === 'False' ? { status: 'False', reason: Reason.SCALING_INACTIVE, message: `${hpaName(hpa!)} is not scaling: ${said(active)}` } : undefined;
  },
  (_rec, hpa) => {
    const able = hpaCondition(hpa, 'AbleToScale');
    return able?.status === 'False' ? { status: 'False', reason: Reason.SCALING_INACTIVE, message: `${hpaName(hpa!)} cannot scale: ${said(able)}` } : undefined;
  },
  (_rec, hpa) =>
    hpaCondition(hpa, 'ScalingActive') ? undefined : { status: 'False', reason: Reason.AUTOSCALING_PENDING, message: `${hpaName(hpa!)}: the HPA controller has not reported yet` },
];

export function decideAutoscaling(rec: Recommender, seen: Observations): Decision {
  for (const check of AUTOSCALING_CHECKS) {
    const decision = check(rec, seen.autoscaler);
    if (decision) return decision;
  }
  const hpa = seen.autoscaler!;
  return { status: 'True', reason: Reason.AUTOSCALING_ACTIVE, message: `${hpaName(hpa)} computes replicas from all its metrics (${said(hpaCondition(hpa, 'ScalingActive')!)})` };
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
