/**
 * Which series the dashboards and alert rules may read: what the recommender's and the operator's prom-client
 * registries expose, what the Recommender's PrometheusRule records, a short list of series that other exporters
 * provide, and (for now) the contract metrics the service does not export yet.
 */
import type { Registry } from 'prom-client';
import { SLO_PERIOD, SLO_WINDOWS, SloSeries } from '../cdk8s/alerts/slo.js';

/**
 * The series names in a /metrics answer (Prometheus text format), from its `# TYPE` lines: a counter or gauge `x`
 * as `x`, a histogram as `x_bucket`, `x_sum` and `x_count`, a summary as `x`, `x_sum` and `x_count`. A metric with
 * labels but no sample yet is listed too.
 */
export function seriesNames(exposition: string): Set<string> {
  const out = new Set<string>();
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m as unknown as [string, string, string];
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) out.add(name + s);
    else if (type === 'summary') for (const s of ['', '_sum', '_count']) out.add(name + s);
    else out.add(name);
  }
  return out;
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

/** Series the dashboards and alert rules read that Tandem does not export (kube-state-metrics and cAdvisor: proven in test/e2e/monitoring.node.test.ts). */
export const EXTERNAL_SERIES: Readonly<Record<string, ExternalSeries>> = {
  up: { source: 'Prometheus, per scrape target', labels: [] },
  ALERTS: { source: 'Prometheus, per pending or firing alert (with the rule labels)', labels: ['alertname', 'alertstate', 'severity', 'recommender'] },
  kube_deployment_spec_replicas: { source: 'kube-state-metrics', labels: ['deployment'] },
  kube_deployment_status_replicas_available: { source: 'kube-state-metrics', labels: ['deployment'] },
  kube_horizontalpodautoscaler_status_current_replicas: { source: 'kube-state-metrics', labels: ['horizontalpodautoscaler'] },
  kube_horizontalpodautoscaler_spec_max_replicas: { source: 'kube-state-metrics', labels: ['horizontalpodautoscaler'] },
  kube_statefulset_status_replicas_ready: { source: 'kube-state-metrics', labels: ['statefulset'] },
  kube_cronjob_status_last_successful_time: { source: 'kube-state-metrics', labels: ['cronjob'] },
  kube_job_failed: { source: 'kube-state-metrics', labels: ['job_name', 'condition'] },
  kube_job_owner: { source: 'kube-state-metrics', labels: ['job_name', 'owner_kind', 'owner_name', 'owner_is_controller'] },
  kube_job_status_start_time: { source: 'kube-state-metrics', labels: ['job_name'] },
  kube_pod_container_resource_limits: { source: 'kube-state-metrics', labels: ['pod', 'container', 'resource', 'unit'] },
  container_memory_working_set_bytes: { source: "the kubelet's cAdvisor endpoint", labels: ['pod', 'container'] },
};

/**
 * PENDING: contract metrics (cdk8s/constants.ts `Metrics`) that alerts and dashboards may read before the service's
 * registry exports them (name → labels), tested meanwhile with promtool series. Empty: every contract metric is
 * exported. The metric-contract test fails once a listed one is exported, so the list never outlives its reason.
 */
export const PENDING_SERVICE_METRICS: Readonly<Record<string, readonly string[]>> = {};

/** Series a Recommender's PrometheusRule records (cdk8s/alerts/slo.ts), with their labels. */
export const RECORDED_SERIES: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  [...SLO_WINDOWS, SLO_PERIOD].map(SloSeries.errorRatio).concat([SloSeries.OBJECTIVE, SloSeries.ERROR_BUDGET, SloSeries.LATENCY_THRESHOLD]).map((name) => [name, ['namespace', 'service', 'recommender', 'slo']]),
);

/** The labels prometheus-operator puts on every series scraped through a ServiceMonitor endpoint. */
export const SERVICE_MONITOR_TARGET_LABELS = ['namespace', 'service', 'pod', 'container', 'endpoint', 'job', 'instance'] as const;
