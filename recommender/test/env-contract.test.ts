/**
 * The environment contract between the render (cdk8s/scoring.ts) and the service (recommender/src/env.ts):
 * every variable the scoring container gets is one the service reads, and every variable the service
 * reads from a pod is rendered.
 */
import { describe, expect, it } from 'vitest';
import { find, recommender } from '../../cdk8s/test/fixtures.js';
import { renderRecommender } from '../../cdk8s/recommender-chart.js';
import { readServiceEnv, SERVICE_ENV } from '../src/env.js';

/** A Recommender with every feature that adds a variable switched on. */
const everything = recommender({
  model: { version: 'v20261125T030000Z' },
  cache: { enabled: true, passwordSecretRef: { name: 'redis-auth' } },
  audit: { enabled: true },
  experiments: { variants: [{ name: 'control', weight: 50 }, { name: 'fresh', weight: 50 }] },
  resources: { limits: { memory: '1Gi' } },
  auth: { apiKeysSecretRef: { name: 'keys' }, hmacKeySecretRef: { name: 'hmac' } },
});

function scoringEnv(): { name: string; value?: string }[] {
  const deployment = find(renderRecommender(everything), 'Deployment', 'storefront');
  const container = (deployment.spec.template.spec.containers as { name: string; env: { name: string; value?: string }[] }[]).find((c) => c.name === 'scoring')!;
  return container.env;
}

describe('the environment contract', () => {
  const rendered = scoringEnv().map((e) => e.name).sort();
  const table = Object.values(SERVICE_ENV);

  it('When a Recommender with every feature on is rendered, Then the service reads each variable of the scoring container', () => {
    const known = new Set(table.map((v) => v.name));
    expect(rendered.filter((n) => !known.has(n))).toEqual([]);
  });

  it('When the service reads a variable in a pod, Then the render sets it', () => {
    const fromPods = table.filter((v) => v.source === 'rendered').map((v) => v.name);
    expect(fromPods.filter((n) => !rendered.includes(n))).toEqual([]);
    expect(table.filter((v) => v.source === 'local').map((v) => v.name).filter((n) => rendered.includes(n))).toEqual([]);
  });

  it('When the rendered values are read, Then every one parses', () => {
    const env = Object.fromEntries(scoringEnv().map((e) => [e.name, e.value]));
    expect(readServiceEnv(env)).toMatchObject({
      port: 8080,
      metricsPort: 9090,
      modelVersion: 'v20261125T030000Z',
      cacheTtlSeconds: 300,
      auditEnabled: true,
      apiKeysFile: '/var/run/secrets/tandem/api-keys',
      hmacKeyFile: '/var/run/secrets/tandem/hmac-key',
      redisPasswordFile: '/var/run/secrets/tandem/redis-password',
    });
    expect(String(readServiceEnv(env).redisUrl)).toBe('redis://storefront-redis:6379');
  });
});

describe('reading the environment', () => {
  it.each([
    [{ PORT: 'eighty' }, "'PORT' (eighty) must be an integer 0–65535"],
    [{ METRICS_PORT: '99999' }, "'METRICS_PORT' (99999)"],
    [{ TANDEM_CACHE_TTL_SECONDS: '0' }, "'TANDEM_CACHE_TTL_SECONDS' (0) must be an integer 1–86400"],
    [{ TANDEM_AUDIT_ENABLED: 'yes' }, "'TANDEM_AUDIT_ENABLED' (yes) must be 'true' or 'false'"],
    [{ REDIS_URL: 'http://cache:6379' }, "'REDIS_URL' must start with redis:// or rediss:// (TLS), not http://"],
    [{ TANDEM_API_KEY: 'short' }, "'TANDEM_API_KEY' must be at least 8 characters"],
    [{ LOG_LEVEL: 'loud' }, "'LOG_LEVEL' (loud) must be one of"],
  ])('When the environment is %j, Then reading it fails fast naming the variable', (env, message) => {
    expect(() => readServiceEnv(env)).toThrow(message);
  });

  it('When a Redis URL carries a password, Then a bad one is refused without quoting it', () => {
    expect(() => readServiceEnv({ REDIS_URL: 'redis://user:hunter2@[bad' })).toThrow(/^(?!.*hunter2)/);
  });

  it('When nothing is set, Then the defaults apply', () => {
    expect(readServiceEnv({})).toMatchObject({ port: 8080, metricsPort: undefined, redisUrl: undefined, logLevel: 'info', variant: 'control', auditEnabled: true, auditRetentionDays: 30, stateDir: undefined });
    expect(readServiceEnv({ PORT: '0', METRICS_PORT: '9090', TANDEM_API_KEY: 'secret-key', TANDEM_MODEL_VERSION: 'latest' })).toMatchObject({ port: 0, metricsPort: 9090, apiKey: 'secret-key', modelVersion: undefined });
  });
});
