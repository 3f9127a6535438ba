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
  /** One line for the docs table (docs/recommender.md is generated from this). */
  readonly doc: string;
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

function v<T>(name: string, source: EnvVar<T>['source'], doc: string, parse: (raw: Raw) => T): EnvVar<T> {
  return { name, source, doc, parse };
}

export const SERVICE_ENV = {
  port: v(Env.PORT, 'rendered', 'API port. Default 8080.', (raw) => integer(Env.PORT, 0, 65535)(raw) ?? 8080),
  metricsPort: v(Env.METRICS_PORT, 'rendered', '`/metrics` also served alone on this port (for Prometheus).', integer(Env.METRICS_PORT, 0, 65535)),
  modelDir: v(Env.MODEL_DIR, 'rendered', 'The model directory to follow (`serve --model-dir` wins).', text),
  modelVersion: v(Env.MODEL_VERSION, 'rendered', 'Serve this version of the model directory, waiting for it to be written; `latest` or unset follows the newest.', (raw) =>
    unset(raw) || raw === 'latest' ? undefined : raw,
  ),
  cacheTtlSeconds: v(Env.CACHE_TTL_SECONDS, 'rendered', 'How long a candidate list lives in either cache tier (overrides `cache.ttlSeconds`, 300).', integer(Env.CACHE_TTL_SECONDS, 1, 86_400)),
  redisUrl: v(Env.REDIS_URL, 'rendered', 'The Redis tier: `redis://[user@]host:port[/db]`, `rediss://` for TLS; memory only when unset.', redisUrl),
  redisPassword: v(Env.REDIS_PASSWORD, 'local', 'The Redis password, when not in the URL.', text),
  redisPasswordFile: v(Env.REDIS_PASSWORD_FILE, 'rendered', 'The Redis password as a file (`spec.cache.passwordSecretRef`), read on every (re)connect.', text),
  apiKey: v(Env.API_KEY, 'local', 'One API key with every scope (≥ 8 characters); the demo key when nothing is set.', apiKey),
  apiKeysFile: v(Env.API_KEYS_FILE, 'rendered', 'The API keys file (`spec.auth.apiKeysSecretRef`), re-read when it changes.', text),
  hmacKey: v(Env.HMAC_KEY, 'local', 'The key that pseudonymises user ids.', text),
  hmacKeyFile: v(Env.HMAC_KEY_FILE, 'rendered', 'The pseudonymisation key as a file (`spec.auth.hmacKeySecretRef`), re-read when it changes.', text),
  experimentsFile: v(Env.EXPERIMENTS, 'rendered', 'The A/B experiments (from the ConfigMap).', text),
  auditEnabled: v(Env.AUDIT_ENABLED, 'rendered', 'Keep a decision record per answer (`true`/`false`). Default true.', (raw) => boolean(Env.AUDIT_ENABLED)(raw) ?? true),
  auditRetentionDays: v(Env.AUDIT_RETENTION_DAYS, 'rendered', 'Days audit files are kept (every pod\'s). Default 30.', (raw) => integer(Env.AUDIT_RETENTION_DAYS, 1, 36_500)(raw) ?? 30),
  auditDir: v(Env.AUDIT_DIR, 'rendered', 'Audit files go to `<dir>/<pod name>/`; without it the last records are kept in memory (the demo).', text),
  auditStdout: v(Env.AUDIT_STDOUT, 'rendered', 'Also write every audit record to stdout, for a SIEM (`true`/`false`). Default false.', (raw) => boolean(Env.AUDIT_STDOUT)(raw) ?? false),
  auditMaxFileBytes: v(Env.AUDIT_MAX_FILE_BYTES, 'rendered', 'An audit file is rotated at this size. Default 64 MiB.', (raw) => integer(Env.AUDIT_MAX_FILE_BYTES, 4096, 2 ** 40)(raw) ?? 64 * 2 ** 20),
  auditRotateSeconds: v(Env.AUDIT_ROTATE_SECONDS, 'rendered', 'And at this age. Default 3600.', (raw) => integer(Env.AUDIT_ROTATE_SECONDS, 1, 86_400)(raw) ?? 3600),
  stateDir: v(Env.STATE_DIR, 'rendered', 'The state volume shared by every pod and the trainer (erasures, opt-outs, experiment counts); in memory when unset.', text),
  eventRetentionDays: v(Env.EVENT_RETENTION_DAYS, 'rendered', 'Events older than this are dropped at ingestion and training; none when unset.', integer(Env.EVENT_RETENTION_DAYS, 1, 36_500)),
  nodeOptions: v(Env.NODE_OPTIONS, 'rendered', 'Read by node itself: the heap cap, half the memory limit.', text),
  logLevel: v(Env.LOG_LEVEL, 'local', 'pino level of the JSON logs on stderr. Default `info`.', logLevel),
  variant: v(Env.VARIANT, 'local', 'The variant answers name when no experiment assigns one. Default `control`.', (raw) => (unset(raw) ? 'control' : raw)),
} as const satisfies Record<string, EnvVar<unknown>>;

/** The docs table of SERVICE_ENV (docs/recommender.md; checked by env-contract.test.ts). */
export function envTable(): string {
  const rows = Object.values(SERVICE_ENV).map((e) => `| \`${e.name}\` | ${e.source === 'rendered' ? 'rendered' : 'local runs'} | ${e.doc} |`);
  return ['| variable | set by | meaning |', '|---|---|---|', ...rows].join('\n');
}

export type ServiceEnv = { -readonly [K in keyof typeof SERVICE_ENV]: ReturnType<(typeof SERVICE_ENV)[K]['parse']> };

/** Reads and checks every variable of SERVICE_ENV; throws ConfigError naming the first bad one. */
export function readServiceEnv(env: NodeJS.ProcessEnv): ServiceEnv {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(SERVICE_ENV)) out[key] = spec.parse(env[spec.name]);
  return out as ServiceEnv;
}
