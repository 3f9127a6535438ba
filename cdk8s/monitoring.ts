/**
 * Monitoring: a ServiceMonitor for the scoring metrics port, and a PrometheusRule with the rules built from the spec
 * (`cdk8s/alerts/`: SLO burn rates from `spec.slo`, symptoms of the parts the spec has). Both are plain ApiObjects of
 * the prometheus-operator CRDs (monitoring.coreos.com/v1), checked by a dry-run against the vendored CRDs on a real
 * API server in the cluster tests, and both carry `spec.monitoring.labels` for a Prometheus that selects on labels.
 */
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import type { RecommenderSpec } from './api/v1alpha1/recommender.js';
import { recommenderRuleGroups } from './alerts/render.js';
import { API_ROUTES } from './alerts/series.js';
import { Component, LABEL_COMPONENT, LABEL_INSTANCE, METRICS_PATH, METRICS_PORT_NAME, Metrics } from './constants.js';
import { objectLabels, podSelectorLabels, type RecommenderNames } from './names.js';

export const MONITORING_API_VERSION = 'monitoring.coreos.com/v1';

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

export interface MonitoringProps {
  readonly names: RecommenderNames;
  readonly spec: RecommenderSpec;
}

export class Monitoring extends Construct {
  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { names, spec } = props;
    // The standard labels win: the operator finds and prunes its children by them.
    const labels = { ...spec.monitoring.labels, ...objectLabels(names.instance, Component.MONITORING) };

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
      spec: { groups: recommenderRuleGroups(names, spec) },
    });
  }
}
