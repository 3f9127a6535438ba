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
 * The series names a registry exposes on /metrics: a counter or gauge `x` as `x`; a histogram `x` as
 * `x_bucket`, `x_sum` and `x_count`; a summary `x` as `x`, `x_sum` and `x_count`.
 */
export async function exposedSeries(registry: Registry): Promise<Set<string>> {
  const out = new Set<string>();
  for (const m of await registry.getMetricsAsJSON()) {
    const type = String(m.type);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) out.add(m.name + s);
    else if (type === 'summary') for (const s of ['', '_sum', '_count']) out.add(m.name + s);
    else out.add(m.name);
  }
  return out;
}

/** Series the dashboards read that Tandem does not export, with who does. */
export const EXTERNAL_SERIES: Readonly<Record<string, string>> = {
  up: 'Prometheus, per scrape target',
  ALERTS: 'Prometheus, per pending or firing alert',
  kube_deployment_spec_replicas: 'kube-state-metrics',
  kube_deployment_status_replicas_available: 'kube-state-metrics',
  kube_horizontalpodautoscaler_status_desired_replicas: 'kube-state-metrics',
  kube_horizontalpodautoscaler_spec_max_replicas: 'kube-state-metrics',
  kube_statefulset_status_replicas_ready: 'kube-state-metrics',
  kube_cronjob_status_last_successful_time: 'kube-state-metrics',
};
