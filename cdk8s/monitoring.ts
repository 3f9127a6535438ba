/**
 * Monitoring: a ServiceMonitor for the scoring metrics port, and a PrometheusRule with the alerts built
 * from `spec.slo`. Both are plain ApiObjects of the prometheus-operator CRDs (monitoring.coreos.com/v1),
 * checked by a dry-run against the vendored CRDs on a real API server in the cluster tests.
 *
 * The alert rules are exported as data (`recommenderAlertRules`) so promtool tests and runbooks can be
 * generated from the same source.
 */
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import type { RecommenderSpec } from './api/v1alpha1/recommender.js';
import { Component, LABEL_COMPONENT, LABEL_INSTANCE, METRICS_PATH, METRICS_PORT_NAME, Metrics } from './constants.js';
import { objectLabels, podSelectorLabels, type RecommenderNames } from './names.js';

export const MONITORING_API_VERSION = 'monitoring.coreos.com/v1';
export const RUNBOOK_BASE_URL = 'https://github.com/tandem-dev/tandem/blob/main/docs/runbooks.md';

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

/** Fast-burn windows of the multi-window, multi-burn-rate availability alert (Google SRE workbook). */
export const AVAILABILITY_BURN = { rate: 14.4, long: '1h', short: '5m' } as const;

/** The recommendation API's requests: objectives and autoscaling are about them, not probes and scrapes. */
const API_ROUTES = 'route=~"/v1/.*"';

/**
 * The prometheus-adapter rule (its config format) serving the HPA's pods metric
 * `tandem_http_requests_per_second`: each scoring pod's API request rate over 2 minutes.
 * Shipped as values for the prometheus-community/prometheus-adapter chart (`npm run chart`).
 */
export function prometheusAdapterRule() {
  return {
    seriesQuery: `${Metrics.REQUESTS_TOTAL}{namespace!="",pod!=""}`,
    resources: { overrides: { namespace: { resource: 'namespace' }, pod: { resource: 'pod' } } },
    name: { matches: `^${Metrics.REQUESTS_TOTAL}$`, as: Metrics.REQUESTS_PER_SECOND },
    metricsQuery: `sum(rate(<<.Series>>{<<.LabelMatchers>>,${API_ROUTES}}[2m])) by (<<.GroupBy>>)`,
  };
}

/** The alerts of one Recommender, from its SLO. */
export function recommenderAlertRules(names: RecommenderNames, spec: RecommenderSpec): AlertRule[] {
  const sel = `namespace="${names.namespace}",service="${names.scoring}"`;
  const api = `${sel},${API_ROUTES}`;
  const errorBudget = round(1 - spec.slo.availabilityTarget / 100);
  const threshold = round(AVAILABILITY_BURN.rate * errorBudget);
  const errorRatio = (window: string) =>
    `(sum(rate(${Metrics.REQUESTS_TOTAL}{${api},status=~"5.."}[${window}])) / sum(rate(${Metrics.REQUESTS_TOTAL}{${api}}[${window}])))`;
  const latencySeconds = round(spec.slo.latencyThresholdMs / 1000);
  const who = `Recommender ${names.namespace}/${names.instance}`;
  const common = { namespace: names.namespace, recommender: names.instance };
  return [
    {
      alert: 'TandemRecommenderAvailabilityBurn',
      expr: `${errorRatio(AVAILABILITY_BURN.long)} > ${threshold}\nand\n${errorRatio(AVAILABILITY_BURN.short)} > ${threshold}`,
      for: '2m',
      labels: { ...common, severity: 'critical' },
      annotations: {
        summary: `${who} is burning its error budget ${AVAILABILITY_BURN.rate}x too fast`,
        description: `More than ${round(threshold * 100)}% of requests failed with a 5xx over ${AVAILABILITY_BURN.long} and ${AVAILABILITY_BURN.short}; the availability objective is ${spec.slo.availabilityTarget}%.`,
        runbook_url: `${RUNBOOK_BASE_URL}#tandemrecommenderavailabilityburn`,
      },
    },
    {
      alert: 'TandemRecommenderLatencyHigh',
      expr: `histogram_quantile(0.99, sum by (le) (rate(${Metrics.REQUEST_DURATION_SECONDS}_bucket{${api}}[5m]))) > ${latencySeconds}`,
      for: '10m',
      labels: { ...common, severity: 'warning' },
      annotations: {
        summary: `${who} p99 latency is above ${spec.slo.latencyThresholdMs} ms`,
        description: `The p99 latency of the scoring API has been above the ${spec.slo.latencyThresholdMs} ms objective for 10 minutes.`,
        runbook_url: `${RUNBOOK_BASE_URL}#tandemrecommenderlatencyhigh`,
      },
    },
    {
      alert: 'TandemRecommenderDown',
      expr: `absent(up{${sel}} == 1)`,
      for: '5m',
      labels: { ...common, severity: 'critical' },
      annotations: {
        summary: `${who} has no scoring pod being scraped`,
        description: 'Prometheus has not scraped any healthy scoring pod for 5 minutes.',
        runbook_url: `${RUNBOOK_BASE_URL}#tandemrecommenderdown`,
      },
    },
  ];
}

export interface MonitoringProps {
  readonly names: RecommenderNames;
  readonly spec: RecommenderSpec;
}

export class Monitoring extends Construct {
  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { names, spec } = props;
    const labels = objectLabels(names.instance, Component.MONITORING);

    new ApiObject(this, 'ServiceMonitor', {
      apiVersion: MONITORING_API_VERSION,
      kind: 'ServiceMonitor',
      metadata: { name: names.scoring, namespace: names.namespace, labels },
      spec: {
        selector: { matchLabels: podSelectorLabels(names.instance, Component.SCORING) },
        namespaceSelector: { matchNames: [names.namespace] },
        endpoints: [{ port: METRICS_PORT_NAME, path: METRICS_PATH, interval: '30s', scrapeTimeout: '10s' }],
        // Alerts and dashboards group by these.
        targetLabels: [LABEL_INSTANCE, LABEL_COMPONENT],
      },
    });

    new ApiObject(this, 'PrometheusRule', {
      apiVersion: MONITORING_API_VERSION,
      kind: 'PrometheusRule',
      metadata: { name: names.scoring, namespace: names.namespace, labels },
      spec: {
        groups: [{ name: `tandem.recommender.${names.instance}`, rules: recommenderAlertRules(names, spec) }],
      },
    });
  }
}

/** Rounds away binary floating-point noise (0.1 + 0.2) so the rendered numbers are stable and readable. */
function round(x: number): number {
  return Number(x.toPrecision(10));
}
