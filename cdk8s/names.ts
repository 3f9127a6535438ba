/**
 * The names and labels of one Recommender's children, derived from its name only, so the operator, the
 * GitOps output and the tests agree on them, and selectors never change after creation.
 */
import { createHash } from 'node:crypto';
import {
  APP_NAME,
  LABEL_COMPONENT,
  LABEL_INSTANCE,
  LABEL_MANAGED_BY,
  LABEL_NAME,
  LABEL_PART_OF,
  MANAGED_BY,
  type Component,
} from './constants.js';

/**
 * The longest Recommender name whose children are all valid (enforced by the CRD too): StatefulSet
 * pods carry a `controller-revision-hash` label of `<statefulset>-<10-char hash>` (≤ 63) and CronJob
 * Jobs are named `<cronjob>-<11 digits>` (≤ 63), so `<name>-retrain` and `<name>-redis` must stay ≤ 52.
 */
export { MAX_NAME_LENGTH } from './api/v1alpha1/recommender.js';
import { MAX_NAME_LENGTH } from './api/v1alpha1/recommender.js';

export interface RecommenderNames {
  readonly instance: string;
  readonly namespace: string;
  /** Deployment, Service, HPA, PDB, PrometheusRule and ServiceMonitor of the scoring tier. */
  readonly scoring: string;
  readonly config: string;
  readonly models: string;
  readonly state: string;
  readonly redis: string;
  readonly retrain: string;
  /** The ScheduledSparkApplication (`training.engine: spark`), short enough for its runs' pod labels. */
  readonly spark: string;
  /** The ConfigMap holding the Spark driver program. */
  readonly sparkDriver: string;
  readonly scoringServiceAccount: string;
  readonly redisServiceAccount: string;
  readonly trainerServiceAccount: string;
  readonly defaultAuthSecret: string;
  readonly policies: {
    readonly defaultDeny: string;
    readonly scoringIngress: string;
    readonly scoringEgress: string;
    readonly cacheIngress: string;
    readonly trainerEgress: string;
    readonly sparkDriver: string;
    readonly sparkExecutor: string;
  };
}

export function recommenderNames(name: string, namespace: string): RecommenderNames {
  if (name.length > MAX_NAME_LENGTH) {
    throw new Error(
      `metadata.name: Invalid value: "${name}": must be at most ${MAX_NAME_LENGTH} characters (it is ${name.length}), so that "${name}-retrain" Jobs and "${name}-redis" pods get valid names`,
    );
  }
  return {
    instance: name,
    namespace,
    scoring: name,
    config: `${name}-config`,
    models: `${name}-models`,
    state: `${name}-state`,
    redis: `${name}-redis`,
    retrain: `${name}-retrain`,
    spark: sparkAppName(name),
    sparkDriver: `${name}-spark-driver`,
    scoringServiceAccount: `${name}-scoring`,
    redisServiceAccount: `${name}-redis`,
    trainerServiceAccount: `${name}-trainer`,
    defaultAuthSecret: `${name}-auth`,
    policies: {
      defaultDeny: `${name}-default-deny`,
      scoringIngress: `${name}-scoring-ingress`,
      scoringEgress: `${name}-scoring-egress`,
      cacheIngress: `${name}-cache-ingress`,
      trainerEgress: `${name}-trainer-egress`,
      sparkDriver: `${name}-spark-driver`,
      sparkExecutor: `${name}-spark-executor`,
    },
  };
}

/**
 * The ScheduledSparkApplication's name: its runs are `<name>-<19-digit time>` and label their pods with it,
 * so it must stay ≤ 43 characters (a label value is ≤ 63). Long Recommender names are cut and hashed.
 */
export function sparkAppName(instance: string): string {
  const hash = createHash('sha256').update(instance).digest('hex').slice(0, 5);
  return instance.length <= 36 ? `${instance}-spark` : `${instance.slice(0, 31)}-${hash}-spark`;
}

/** The labels every child carries (ARCHITECTURE.md). */
export function objectLabels(instance: string, component: Component): Record<string, string> {
  return sorted({
    [LABEL_NAME]: APP_NAME,
    [LABEL_INSTANCE]: instance,
    [LABEL_COMPONENT]: component,
    [LABEL_MANAGED_BY]: MANAGED_BY,
    [LABEL_PART_OF]: APP_NAME,
  });
}

/** The immutable pod selector of one component: name, instance and component. */
export function podSelectorLabels(instance: string, component: Component): Record<string, string> {
  return sorted({ [LABEL_NAME]: APP_NAME, [LABEL_INSTANCE]: instance, [LABEL_COMPONENT]: component });
}

/** Selects every pod of the Recommender, whatever its component. */
export function instanceSelectorLabels(instance: string): Record<string, string> {
  return sorted({ [LABEL_NAME]: APP_NAME, [LABEL_INSTANCE]: instance });
}

/** The same map with its keys in code-point order, as cdk8s writes maps (JSON patches are not re-sorted). */
function sorted(map: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
