/**
 * The service's environment variables, declared once: each entry names its variable (from cdk8s
 * `Env`), says whether the scoring Deployment renders it or it is for local runs only, and parses it.
 * `readServiceEnv` reads them all at startup, so a bad value fails fast naming the variable;
 * `env-contract.test.ts` checks the table against the rendered container in both directions.
 */
import { Env } from '../../cdk8s/constants.js';
import { ConfigError } from './config.js';

type Raw = string | undefined;

export interface EnvVar<T> {
  readonly name: string;
  /** `rendered`: the scoring Deployment sets it (when its feature is on); `local`: local runs only. */
  readonly source: 'rendered' | 'local';
  readonly parse: (raw: Raw) => T;
}

const invalid = (name: string, raw: string, want: string): ConfigError => new ConfigError(`invalid config: '${name}' (${raw}) must be ${want}`);
const unset = (raw: Raw): raw is undefined => raw === undefined || raw === '';

function integer(name: string, min: number, max: number): (raw: Raw) => number | undefined {
  return (raw) => {
    if (unset(raw)) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw invalid(name, raw, `an integer ${min}–${max}`);
    return n;
  };
}

const text = (raw: Raw): string | undefined => (unset(raw) ? undefined : raw);

function boolean(name: string): (raw: Raw) => boolean | undefined {
  return (raw) => {
    if (unset(raw)) return undefined;
    if (raw !== 'true' && raw !== 'false') throw invalid(name, raw, "'true' or 'false'");
    return raw === 'true';
  };
}

function redisUrl(raw: Raw): URL | undefined {
  if (unset(raw)) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`invalid config: '${Env.REDIS_URL}' is not a URL (want redis://[user@]host:port or rediss://…)`);
  }
  // The URL may hold a password: never quote it back.
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new ConfigError(`invalid config: '${Env.REDIS_URL}' must start with redis:// or rediss:// (TLS), not ${url.protocol}//`);
  return url;
}

function apiKey(raw: Raw): string | undefined {
  if (unset(raw)) return undefined;
  if (raw.length < 8) throw new ConfigError(`invalid config: '${Env.API_KEY}' must be at least 8 characters`);
  return raw;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
function logLevel(raw: Raw): string {
  if (unset(raw)) return 'info';
  if (!LOG_LEVELS.includes(raw)) throw invalid(Env.LOG_LEVEL, raw, `one of ${LOG_LEVELS.join(', ')}`);
  return raw;
}

function v<T>(name: string, source: EnvVar<T>['source'], parse: (raw: Raw) => T): EnvVar<T> {
  return { name, source, parse };
}

export const SERVICE_ENV = {
  /** API port. Default 8080. */
  port: v(Env.PORT, 'rendered', (raw) => integer(Env.PORT, 0, 65535)(raw) ?? 8080),
  /** When set, /metrics is also served alone on this port (for Prometheus). */
  metricsPort: v(Env.METRICS_PORT, 'rendered', integer(Env.METRICS_PORT, 0, 65535)),
  /** The model directory to follow (`serve --model-dir` wins). */
  modelDir: v(Env.MODEL_DIR, 'rendered', text),
  /** Serve this version of the model directory; `latest` (or unset) follows the newest. */
  modelVersion: v(Env.MODEL_VERSION, 'rendered', (raw) => (unset(raw) || raw === 'latest' ? undefined : raw)),
  /** Overrides `cache.ttlSeconds` of the config file. */
  cacheTtlSeconds: v(Env.CACHE_TTL_SECONDS, 'rendered', integer(Env.CACHE_TTL_SECONDS, 1, 86_400)),
  /** The Redis tier (`redis://[user@]host:port[/db]`, `rediss://` for TLS); memory only when unset. */
  redisUrl: v(Env.REDIS_URL, 'rendered', redisUrl),
  redisPassword: v(Env.REDIS_PASSWORD, 'local', text),
  redisPasswordFile: v(Env.REDIS_PASSWORD_FILE, 'rendered', text),
  apiKey: v(Env.API_KEY, 'local', apiKey),
  apiKeysFile: v(Env.API_KEYS_FILE, 'rendered', text),
  hmacKey: v(Env.HMAC_KEY, 'local', text),
  hmacKeyFile: v(Env.HMAC_KEY_FILE, 'rendered', text),
  experimentsFile: v(Env.EXPERIMENTS, 'rendered', text),
  auditEnabled: v(Env.AUDIT_ENABLED, 'rendered', (raw) => boolean(Env.AUDIT_ENABLED)(raw) ?? true),
  auditRetentionDays: v(Env.AUDIT_RETENTION_DAYS, 'rendered', (raw) => integer(Env.AUDIT_RETENTION_DAYS, 1, 36_500)(raw) ?? 30),
  /** Audit files go to `<dir>/<hostname>/`; without it the demo keeps the recent records in memory. */
  auditDir: v(Env.AUDIT_DIR, 'rendered', text),
  auditStdout: v(Env.AUDIT_STDOUT, 'rendered', (raw) => boolean(Env.AUDIT_STDOUT)(raw) ?? false),
  auditMaxFileBytes: v(Env.AUDIT_MAX_FILE_BYTES, 'rendered', (raw) => integer(Env.AUDIT_MAX_FILE_BYTES, 4096, 2 ** 40)(raw) ?? 64 * 2 ** 20),
  auditRotateSeconds: v(Env.AUDIT_ROTATE_SECONDS, 'rendered', (raw) => integer(Env.AUDIT_ROTATE_SECONDS, 1, 86_400)(raw) ?? 3600),
  /** The state volume (erasures, opt-outs, experiment counts); in memory without it. */
  stateDir: v(Env.STATE_DIR, 'rendered', text),
  eventRetentionDays: v(Env.EVENT_RETENTION_DAYS, 'rendered', integer(Env.EVENT_RETENTION_DAYS, 1, 36_500)),
  /** Read by node itself (the heap cap); listed so the contract is complete. */
  nodeOptions: v(Env.NODE_OPTIONS, 'rendered', text),
  logLevel: v(Env.LOG_LEVEL, 'local', logLevel),
  variant: v(Env.VARIANT, 'local', (raw) => (unset(raw) ? 'control' : raw)),
} as const satisfies Record<string, EnvVar<unknown>>;

export type ServiceEnv = { -readonly [K in keyof typeof SERVICE_ENV]: ReturnType<(typeof SERVICE_ENV)[K]['parse']> };

/** Reads and checks every variable of SERVICE_ENV; throws ConfigError naming the first bad one. */
export function readServiceEnv(env: NodeJS.ProcessEnv): ServiceEnv {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(SERVICE_ENV)) out[key] = spec.parse(env[spec.name]);
  return out as ServiceEnv;
}
