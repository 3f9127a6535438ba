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
}

const kind = (group: string, version: string, kindName: string, plural: string): ChildKind => ({
  group,
  version,
  apiVersion: group === '' ? version : `${group}/${version}`,
  kind: kindName,
  plural,
  namespaced: true,
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
  kind('networking.k8s.io', 'v1', 'NetworkPolicy', 'networkpolicies'),
  kind('monitoring.coreos.com', 'v1', 'ServiceMonitor', 'servicemonitors'),
  kind('monitoring.coreos.com', 'v1', 'PrometheusRule', 'prometheusrules'),
];
