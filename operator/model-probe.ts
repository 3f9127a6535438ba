/**
 * Which model version a Recommender's scoring pods really serve: the ready addresses of its Service's
 * EndpointSlices, then each pod's `tandem_model_info` gauge on the metrics port (the NetworkPolicy lets
 * the operator's pods reach that port only). The status reports what the pods answer, not what the spec
 * asked for: a pinned version that was never trained, or a refused artifact, shows.
 */
import { DiscoveryV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { METRICS_PATH, METRICS_PORT_NAME, Metrics } from '../cdk8s/constants.js';

export interface ModelProbe {
  /** The versions served by the ready pods behind `service`, sorted and comma-joined; undefined when none answered. */
  served(namespace: string, service: string): Promise<string | undefined>;
}

const INFO_LINE = new RegExp(`^${Metrics.MODEL_INFO}\\{([^}]*)\\}\\s+1(\\.0+)?\\s*$`, 'm');

/** The `version` label of the active model in a Prometheus text exposition, or undefined. */
export function modelVersionOf(exposition: string): string | undefined {
  const labels = INFO_LINE.exec(exposition)?.[1];
  return labels ? /(?:^|,)version="((?:[^"\\]|\\.)*)"/.exec(labels)?.[1] : undefined;
}

/** Versions seen on the pods, as the status shows them: one version, or several during a rollout. */
export function summariseVersions(versions: readonly (string | undefined)[]): string | undefined {
  const seen = [...new Set(versions.filter((v): v is string => v !== undefined))].sort();
  return seen.length > 0 ? seen.join(',') : undefined;
}

export class EndpointModelProbe implements ModelProbe {
  private readonly discovery: DiscoveryV1Api;

  constructor(
    kc: KubeConfig,
    private readonly log: Logger,
    private readonly timeoutMs = 2000,
  ) {
    this.discovery = kc.makeApiClient(DiscoveryV1Api);
  }

  async served(namespace: string, service: string): Promise<string | undefined> {
    const slices = await this.discovery.listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${service}` });
    const targets: string[] = [];
    for (const slice of slices.items) {
      const port = slice.ports?.find((p) => p.name === METRICS_PORT_NAME)?.port;
      if (!port) continue;
      for (const ep of slice.endpoints ?? []) {
        if (ep.conditions?.ready === false) continue;
        for (const address of ep.addresses.slice(0, 1)) targets.push(`http://${address}:${port}${METRICS_PATH}`);
      }
    }
    const versions = await Promise.all(targets.map((url) => this.fetchVersion(url)));
    return summariseVersions(versions);
  }

  private async fetchVersion(url: string): Promise<string | undefined> {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
      return res.ok ? modelVersionOf(await res.text()) : undefined;
    } catch (err) {
      // Unreachable (the operator runs outside the cluster, or a pod is going away): the status keeps what it knew.
      this.log.debug({ url, err: err instanceof Error ? err.message : String(err) }, 'failed to read the served model version');
      return undefined;
    }
  }
}
