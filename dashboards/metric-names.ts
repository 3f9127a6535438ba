/**
 * Where the dashboards' metric names come from: the prom-client registries of the recommender and the operator
 * (the names are read from the registered metric objects, never retyped), and a short list of series that other
 * exporters provide.
 */
import type { Registry } from 'prom-client';

/** The name a metric object is registered under (prom-client's typings omit `name`; its registry has it). */
export function registeredName(registry: Registry, metric: object): string {
  const found = registry.getMetricsAsArray().find((m) => m === metric);
  if (!found) throw new Error('failed to name a metric: it is not registered in the given registry');
  return found.name;
}

/**
 * The series a registry exposes on /metrics, each with the label names it carries (before Prometheus adds the
 * target's): a counter or gauge `x` as `x`; a histogram `x` as `x_bucket` (plus `le`), `x_sum` and `x_count`;
 * a summary `x` as `x` (plus `quantile`), `x_sum` and `x_count`.
 */
export async function exposedSeries(registry: Registry): Promise<Map<string, Set<string>>> {
  const labelNames = new Map(registry.getMetricsAsArray().map((m) => [m.name, (m as unknown as { labelNames?: readonly string[] }).labelNames ?? []]));
  const out = new Map<string, Set<string>>();
  for (const m of await registry.getMetricsAsJSON()) {
    const labels = labelNames.get(m.name) ?? [];
    const type = String(m.type);
    if (type === 'histogram') {
      out.set(`${m.name}_bucket`, new Set([...labels, 'le']));
      for (const s of ['_sum', '_count']) out.set(m.name + s, new Set(labels));
    } else if (type === 'summary') {
      out.set(m.name, new Set([...labels, 'quantile']));
      for (const s of ['_sum', '_count']) out.set(m.name + s, new Set(labels));
    } else out.set(m.name, new Set(labels));
  }
  return out;
}

export interface ExternalSeries {
  /** Who exports it. */
  readonly source: string;
  /** The labels the dashboards may select or group on, besides the scrape target's. */
  readonly labels: readonly string[];
}

/** Series the dashboards read that Tandem does not export. */
export const EXTERNAL_SERIES: Readonly<Record<string, ExternalSeries>> = {
  up: { source: 'Prometheus, per scrape target', labels: [] },
  ALERTS: { source: 'Prometheus, per pending or firing alert (with the rule labels)', labels: ['alertname', 'alertstate', 'severity', 'recommender'] },
  kube_deployment_spec_replicas: { source: 'kube-state-metrics', labels: ['deployment'] },
  kube_deployment_status_replicas_available: { source: 'kube-state-metrics', labels: ['deployment'] },
  kube_horizontalpodautoscaler_status_desired_replicas: { source: 'kube-state-metrics', labels: ['horizontalpodautoscaler'] },
  kube_horizontalpodautoscaler_spec_max_replicas: { source: 'kube-state-metrics', labels: ['horizontalpodautoscaler'] },
  kube_statefulset_status_replicas_ready: { source: 'kube-state-metrics', labels: ['statefulset'] },
  kube_cronjob_status_last_successful_time: { source: 'kube-state-metrics', labels: ['cronjob'] },
};

/** The labels prometheus-operator puts on every series scraped through a ServiceMonitor endpoint. */
export const SERVICE_MONITOR_TARGET_LABELS = ['namespace', 'service', 'pod', 'container', 'endpoint', 'job', 'instance'] as const;
