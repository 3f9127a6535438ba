/**
 * The install bundle's opt-in monitoring objects: a ServiceMonitor for the operator's metrics Service, a
 * PrometheusRule with the operator's alerts (`cdk8s/alerts/operator.ts`), and the Grafana dashboards as ConfigMaps
 * labelled for the Grafana sidecar (`grafana_dashboard: "1"`). They need prometheus-operator's CRDs or a Grafana
 * sidecar, so none is rendered unless asked for; the chart renders the same objects from its values.
 */
import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { operatorRuleGroups } from './alerts/operator.js';
import { METRICS_PATH, METRICS_PORT_NAME, OPERATOR_NAME } from './constants.js';
import { MONITORING_API_VERSION } from './monitoring.js';

/** The label the Grafana sidecar (kube-prometheus-stack, the Grafana chart) loads dashboards by. */
export const GRAFANA_DASHBOARD_LABELS: Readonly<Record<string, string>> = { grafana_dashboard: '1' };

export interface OperatorMonitoringOptions {
  /** Render a ServiceMonitor for the operator's metrics Service. */
  readonly serviceMonitor?: {
    /** Extra labels, e.g. `release: kube-prometheus-stack` for a Prometheus that selects on it. */
    readonly labels?: Readonly<Record<string, string>>;
    /** @default 30s */
    readonly interval?: string;
  };
  /** Render a PrometheusRule with the operator's alerts. */
  readonly prometheusRule?: { readonly labels?: Readonly<Record<string, string>> };
  /** Render one ConfigMap per dashboard, for the Grafana sidecar. */
  readonly dashboards?: {
    /** The dashboards: file name (`tandem-recommender.json`) → JSON text, as `renderDashboards()` returns them. */
    readonly files: ReadonlyMap<string, string>;
    /** Where the sidecar looks. @default the operator's namespace */
    readonly namespace?: string;
    /** @default `grafana_dashboard: "1"` */
    readonly labels?: Readonly<Record<string, string>>;
  };
}

/** `tandem-recommender.json` → `tandem-operator-dashboard-recommender`. */
export function dashboardConfigMapName(file: string, prefix = OPERATOR_NAME): string {
  return `${prefix}-dashboard-${file.replace(/\.json$/, '').replace(/^tandem-/, '')}`;
}

export interface OperatorMonitoringProps {
  readonly namespace: string;
  /** The bundle's object labels. */
  readonly labels: Readonly<Record<string, string>>;
  /** The labels of the operator's metrics Service, which the ServiceMonitor selects. */
  readonly serviceLabels: Readonly<Record<string, string>>;
  readonly options: OperatorMonitoringOptions;
}

export class OperatorMonitoring extends Construct {
  constructor(scope: Construct, id: string, props: OperatorMonitoringProps) {
    super(scope, id);
    const { namespace, labels, options } = props;
    if (options.serviceMonitor) {
      new ApiObject(this, 'ServiceMonitor', {
        apiVersion: MONITORING_API_VERSION,
        kind: 'ServiceMonitor',
        metadata: { name: OPERATOR_NAME, namespace, labels: { ...options.serviceMonitor.labels, ...labels } },
        spec: {
          selector: { matchLabels: { ...props.serviceLabels } },
          namespaceSelector: { matchNames: [namespace] },
          endpoints: [{ port: METRICS_PORT_NAME, path: METRICS_PATH, interval: options.serviceMonitor.interval ?? '30s' }],
        },
      });
    }
    if (options.prometheusRule) {
      new ApiObject(this, 'PrometheusRule', {
        apiVersion: MONITORING_API_VERSION,
        kind: 'PrometheusRule',
        metadata: { name: OPERATOR_NAME, namespace, labels: { ...options.prometheusRule.labels, ...labels } },
        spec: { groups: operatorRuleGroups(namespace) },
      });
    }
    if (options.dashboards) {
      const { files, labels: sidecar = GRAFANA_DASHBOARD_LABELS } = options.dashboards;
      for (const [file, json] of files) {
        new kplus.k8s.KubeConfigMap(this, `Dashboard-${file}`, {
          metadata: { name: dashboardConfigMapName(file), namespace: options.dashboards.namespace ?? namespace, labels: { ...sidecar, ...labels } },
          data: { [file]: json },
        });
      }
    }
  }
}
