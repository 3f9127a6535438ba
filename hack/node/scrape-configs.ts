/**
 * Prometheus scrape configurations for the test node, as a real cluster's Prometheus has them: a ServiceMonitor
 * translated the way prometheus-operator does (EndpointSlice discovery through the API server, the same target
 * labels), kube-state-metrics and the kubelet's cAdvisor endpoint as kube-prometheus scrapes them. Pure; the
 * Prometheus process runs on the node's host, which reaches pod and node addresses directly.
 */

/** The fields of a ServiceMonitor (monitoring.coreos.com/v1) that Tandem's ServiceMonitors use. */
export interface ServiceMonitor {
  readonly metadata: { readonly name: string; readonly namespace: string };
  readonly spec: {
    readonly selector: { readonly matchLabels: Readonly<Record<string, string>> };
    readonly namespaceSelector?: { readonly matchNames?: readonly string[] };
    readonly endpoints: readonly { readonly port: string; readonly path?: string }[];
    readonly targetLabels?: readonly string[];
  };
}

/** Discovery through the API server, with the credentials of a kubeconfig file. */
export interface Discovery {
  readonly kubeconfigFile: string;
}

type ScrapeConfig = Record<string, unknown>;

/** `app.kubernetes.io/instance` → `app_kubernetes_io_instance`, as Prometheus names label meta labels. */
const sanitize = (label: string) => label.replace(/[^a-zA-Z0-9_]/g, '_');

/**
 * One scrape config per endpoint of `sm`, with the relabelling prometheus-operator generates: keep the Services whose
 * labels match and the named port; label every series with namespace, service, pod, container, endpoint and job (the
 * Service name), plus the Service labels listed in targetLabels. The ServiceMonitor's interval is not taken: the test's
 * global one is.
 */
export function serviceMonitorScrapeConfigs(sm: ServiceMonitor, d: Discovery): ScrapeConfig[] {
  const namespaces = sm.spec.namespaceSelector?.matchNames ?? [sm.metadata.namespace];
  return sm.spec.endpoints.map((ep, i) => ({
    job_name: `serviceMonitor/${sm.metadata.namespace}/${sm.metadata.name}/${i}`,
    metrics_path: ep.path ?? '/metrics',
    kubernetes_sd_configs: [{ role: 'endpointslice', kubeconfig_file: d.kubeconfigFile, namespaces: { names: namespaces } }],
    relabel_configs: [
      ...Object.entries(sm.spec.selector.matchLabels).map(([k, v]) => ({
        action: 'keep',
        source_labels: [`__meta_kubernetes_service_label_${sanitize(k)}`, `__meta_kubernetes_service_labelpresent_${sanitize(k)}`],
        regex: `(${v});true`,
      })),
      { action: 'keep', source_labels: ['__meta_kubernetes_endpointslice_port_name'], regex: ep.port },
      // Pods that have finished are not scraped.
      { action: 'drop', source_labels: ['__meta_kubernetes_pod_phase'], regex: '(Failed|Succeeded)' },
      { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
      { source_labels: ['__meta_kubernetes_service_name'], target_label: 'service' },
      { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
      { source_labels: ['__meta_kubernetes_pod_container_name'], target_label: 'container' },
      ...(sm.spec.targetLabels ?? []).map((l) => ({ source_labels: [`__meta_kubernetes_service_label_${sanitize(l)}`], target_label: sanitize(l) })),
      { source_labels: ['__meta_kubernetes_service_name'], target_label: 'job' },
      { target_label: 'endpoint', replacement: ep.port },
    ],
  }));
}

/**
 * kube-state-metrics behind its Service (hack/node/addons.ts): `honor_labels`, so `namespace`, `pod` and the others are
 * the objects' labels, not the exporter pod's.
 */
export function kubeStateMetricsScrapeConfig(d: Discovery, where: { namespace: string; service: string; port: string }): ScrapeConfig {
  return {
    job_name: 'kube-state-metrics',
    honor_labels: true,
    kubernetes_sd_configs: [{ role: 'endpointslice', kubeconfig_file: d.kubeconfigFile, namespaces: { names: [where.namespace] } }],
    relabel_configs: [
      { action: 'keep', source_labels: ['__meta_kubernetes_service_name', '__meta_kubernetes_endpointslice_port_name'], regex: `${where.service};${where.port}` },
    ],
  };
}

/**
 * The kubelet's cAdvisor endpoint over HTTPS with a bearer token (authenticated and authorised by the API server, as
 * the kubelet's webhook modes do), `honor_labels` for the containers' namespace and pod. The kubelet serves a
 * self-signed certificate (no serving certificate is issued to it), so it is not verified, as kube-prometheus does.
 */
export function cadvisorScrapeConfig(nodeAddress: string, token: string): ScrapeConfig {
  return {
    job_name: 'kubelet-cadvisor',
    scheme: 'https',
    metrics_path: '/metrics/cadvisor',
    honor_labels: true,
    authorization: { credentials: token },
    tls_config: { insecure_skip_verify: true },
    static_configs: [{ targets: [`${nodeAddress}:10250`], labels: { job: 'kubelet', metrics_path: '/metrics/cadvisor' } }],
  };
}
