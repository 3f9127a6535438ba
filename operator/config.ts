/**
 * Operator configuration from flags, then environment, then defaults. Validated at startup so a bad
 * value fails fast with a message naming the flag.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { OPERATOR_HEALTH_PORT, OPERATOR_METRICS_PORT, OPERATOR_NAME, OPERATOR_NAMESPACE } from '../cdk8s/constants.js';

export interface OperatorConfig {
  /** Namespaces to watch; empty means the whole cluster. */
  readonly namespaces: string[];
  readonly workers: number;
  readonly resyncSeconds: number;
  readonly leaderElect: boolean;
  readonly leaseNamespace: string;
  readonly leaseName: string;
  readonly identity: string;
  readonly metricsPort: number;
  readonly healthPort: number;
  /** How often the served model version of a Recommender with ready pods is read again; 0: never read. */
  readonly modelProbeSeconds: number;
}

export const USAGE = `Usage: npm run operator -- [flags]
  --namespaces a,b        namespaces to watch (env TANDEM_NAMESPACES); default: the whole cluster
  --workers N             concurrent reconciles, never two on one Recommender (env TANDEM_WORKERS); default 4
  --resync-seconds N      periodic full resync (env TANDEM_RESYNC_SECONDS); default 600
  --leader-elect=false    disable Lease-based leader election (env TANDEM_LEADER_ELECT); default true
  --lease-namespace NS    (env POD_NAMESPACE); default ${OPERATOR_NAMESPACE}
  --lease-name NAME       default ${OPERATOR_NAME}
  --metrics-port N        /metrics (env TANDEM_METRICS_PORT); default ${OPERATOR_METRICS_PORT}; 0 picks a free port
  --health-port N         /healthz and /readyz (env TANDEM_HEALTH_PORT); default ${OPERATOR_HEALTH_PORT}
  --model-probe-seconds N read the model version the scoring pods serve this often (env TANDEM_MODEL_PROBE_SECONDS);
                          default 30; 0 never reads it (status.modelVersion then stays unset)
The cluster comes from KUBECONFIG, ~/.kube/config or the in-cluster service account.`;

export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      namespaces: { type: 'string' },
      workers: { type: 'string' },
      'resync-seconds': { type: 'string' },
      'leader-elect': { type: 'string' },
      'lease-namespace': { type: 'string' },
      'lease-name': { type: 'string' },
      'metrics-port': { type: 'string' },
      'health-port': { type: 'string' },
      'model-probe-seconds': { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) throw new ConfigError(USAGE);
  const int = (flag: string, raw: string | undefined, fallback: number, min: number, max: number) => {
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`--${flag} must be an integer from ${min} to ${max}, got "${raw}"`);
    return n;
  };
  const bool = (flag: string, raw: string | undefined, fallback: boolean) => {
    if (raw === undefined || raw === '') return fallback;
    if (raw === 'true' || raw === 'false') return raw === 'true';
    throw new ConfigError(`--${flag} must be true or false, got "${raw}"`);
  };
  const namespaces = (values.namespaces ?? env.TANDEM_NAMESPACES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const ns of namespaces) if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns)) throw new ConfigError(`--namespaces: "${ns}" is not a namespace name`);
  return {
    namespaces,
    workers: int('workers', values.workers ?? env.TANDEM_WORKERS, 4, 1, 64),
    resyncSeconds: int('resync-seconds', values['resync-seconds'] ?? env.TANDEM_RESYNC_SECONDS, 600, 10, 86400),
    leaderElect: bool('leader-elect', values['leader-elect'] ?? env.TANDEM_LEADER_ELECT, true),
    leaseNamespace: values['lease-namespace'] ?? env.POD_NAMESPACE ?? OPERATOR_NAMESPACE,
    leaseName: values['lease-name'] ?? OPERATOR_NAME,
    identity: `${env.POD_NAME ?? hostname()}_${randomBytes(4).toString('hex')}`,
    metricsPort: int('metrics-port', values['metrics-port'] ?? env.TANDEM_METRICS_PORT, OPERATOR_METRICS_PORT, 0, 65535),
    healthPort: int('health-port', values['health-port'] ?? env.TANDEM_HEALTH_PORT, OPERATOR_HEALTH_PORT, 0, 65535),
    modelProbeSeconds: int('model-probe-seconds', values['model-probe-seconds'] ?? env.TANDEM_MODEL_PROBE_SECONDS, 30, 0, 3600),
  };
}

export class ConfigError extends Error {}
