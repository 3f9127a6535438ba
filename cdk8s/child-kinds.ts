/**
 * Every kind `RecommenderChart` can produce. The operator watches these (by the instance label) and
 * prunes what a render no longer contains; the install bundle's ClusterRole grants exactly these.
 */
export interface ChildKind {
  /** `''` for the core group. */
  readonly group: string;
  readonly version: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: true;
  /**
   * Served only where a third-party operator is installed (the Kubeflow Spark operator): the operator
   * watches the kind when the API server serves it, and a Recommender that needs it without fails to apply.
   */
  readonly optional?: true;
}

const kind = (group: string, version: string, kindName: string, plural: string, optional = false): ChildKind => ({
  group,
  version,
  apiVersion: group === '' ? version : `${group}/${version}`,
  kind: kindName,
  plural,
  namespaced: true,
  ...(optional ? { optional: true as const } : {}),
});

export const CHILD_KINDS: readonly ChildKind[] = [
  kind('', 'v1', 'ServiceAccount', 'serviceaccounts'),
  kind('', 'v1', 'ConfigMap', 'configmaps'),
  kind('', 'v1', 'PersistentVolumeClaim', 'persistentvolumeclaims'),
  kind('', 'v1', 'Service', 'services'),
  kind('apps', 'v1', 'Deployment', 'deployments'),
  kind('apps', 'v1', 'StatefulSet', 'statefulsets'),
  kind('autoscaling', 'v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers'),
  kind('policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets'),
  kind('batch', 'v1', 'CronJob', 'cronjobs'),
  // The packing Job of each Spark run, and the ScheduledSparkApplication (`training.engine: spark`).
  kind('batch', 'v1', 'Job', 'jobs'),
  kind('sparkoperator.k8s.io', 'v1beta2', 'ScheduledSparkApplication', 'scheduledsparkapplications', true),
  kind('networking.k8s.io', 'v1', 'NetworkPolicy', 'networkpolicies'),
  kind('monitoring.coreos.com', 'v1', 'ServiceMonitor', 'servicemonitors'),
  kind('monitoring.coreos.com', 'v1', 'PrometheusRule', 'prometheusrules'),
];
