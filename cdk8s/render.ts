/**
 * Turning charts into plain objects and YAML, deterministically: a fixed kind order (dependencies first,
 * like `kubectl apply` and Helm want them), then namespace and name; keys as the constructs wrote them.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Chart } from 'cdk8s';
import { stringify } from 'yaml';

/** Apply order: what others refer to comes first. Kinds not listed sort last, by name. */
export const KIND_ORDER = [
  'Namespace',
  'CustomResourceDefinition',
  'ServiceAccount',
  'ClusterRole',
  'ClusterRoleBinding',
  'Role',
  'RoleBinding',
  'ConfigMap',
  'PersistentVolumeClaim',
  'NetworkPolicy',
  'Service',
  'StatefulSet',
  'Deployment',
  'HorizontalPodAutoscaler',
  'PodDisruptionBudget',
  'CronJob',
  'Job',
  'ScheduledSparkApplication',
  'ServiceMonitor',
  'PrometheusRule',
] as const;

function kindRank(kind: string | undefined): number {
  const i = KIND_ORDER.indexOf(kind as (typeof KIND_ORDER)[number]);
  return i === -1 ? KIND_ORDER.length : i;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorts objects in apply order (stable, independent of construct order). */
export function sortObjects<T extends KubernetesObject>(objects: readonly T[]): T[] {
  return [...objects].sort(
    (a, b) =>
      kindRank(a.kind) - kindRank(b.kind) ||
      compare(a.kind ?? '', b.kind ?? '') ||
      compare(a.metadata?.namespace ?? '', b.metadata?.namespace ?? '') ||
      compare(a.metadata?.name ?? '', b.metadata?.name ?? ''),
  );
}

/** The chart's objects as plain JSON (validation errors of the constructs are thrown here). */
export function chartObjects(chart: Chart): KubernetesObject[] {
  return sortObjects(chart.toJson() as KubernetesObject[]);
}

/**
 * A multi-document YAML stream: `---` between documents, a trailing newline, no timestamps. Written
 * with YAML 1.1 quoting, because kubectl, Argo CD and Flux read YAML 1.1: an unquoted `y`, `on` or
 * `no` there is a boolean, and `12:30` a number.
 */
export function toYaml(objects: readonly KubernetesObject[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0, version: '1.1' })).join('---\n');
}
