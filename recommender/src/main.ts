/**
 * The recommender's one entry point, with two commands:
 *   serve  [--catalog F --events F] [--model-dir DIR] [--watch-seconds N] [--config F]
 *   train  --catalog F --events F --out DIR [--engine embedded|spark|memory] [--config F] [--skip-metrics] [--keep N] …
 * the two ends of a training run on Spark, `prepare` and `pack` (cli/train.ts), and a helper,
 * `demo-data --out DIR [--shop demo|noisy] [--seed N] [--parquet]`, that writes a generated shop with its
 * ground truth beside it. F is JSON Lines or Parquet (a file, a directory, an `s3://` URL).
 * `serve` with no inputs generates the demo shop, trains on it and serves it from memory.
 */
import { parseArgs } from 'node:util';
import { pino, type Logger } from 'pino';
import { createApp, createMetricsApp } from './api/app.js';
import { createMetrics } from './api/metrics.js';
import { TrainingDataError } from './cli/input-check.js';
import { packCommand, prepareCommand, trainCommand, trainFiles } from './cli/train.js';
import { ConfigError, loadConfigFile, type TandemConfig } from './config.js';
import { readServiceEnv, type ServiceEnv } from './env.js';
import { Authenticator } from './auth/authenticator.js';
import { parseKeysFile, plainKey, type ApiKey } from './auth/keys.js';
import { SecretFile } from './auth/secret-file.js';
import { RedisTier } from './cache/redis.js';
import { Env } from '../../cdk8s/constants.js';
import { shopSpec, writeShopFiles } from './data/demo-files.js';
import { Catalog } from './engine/catalog.js';
import { S3ModelSource, openBucket, s3LocationFromEnv } from './model/s3-source.js';
import { inputFormat } from './sql/ingest.js';
import { ModelStore } from './model/store.js';
import { startServer } from './server.js';
import { RecommenderService } from './service.js';
import { openServeTrust } from './trust.js';

export const DEMO_API_KEY = 'tandem-demo-key';

function out(line = ''): void {
  process.stdout.write(line + '\n');
}

async function demoDataCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { out: { type: 'string' }, shop: { type: 'string', default: 'demo' }, seed: { type: 'string' }, parquet: { type: 'boolean' } } });
  if (!values.out) throw new ConfigError('usage: main.ts demo-data --out DIR [--shop demo|noisy] [--seed N] [--parquet]');
  const w = await writeShopFiles(values.out, shopSpec(values.shop, values.seed === undefined ? undefined : Number(values.seed)), { parquet: values.parquet ?? false });
  out(`wrote ${w.items} items and ${w.events} events to ${w.files.join(', ')}`);
}

async function banner(port: number, demoKey: string | undefined, service: RecommenderService, logger: Logger): Promise<void> {
  const base = `http://localhost:${port}`;
  // A configured key never goes to stdout (in a pod, that is the cluster's log pipeline): only the demo's.
  const auth = `-H 'Authorization: Bearer ${demoKey ?? '<your API key>'}'`;
  // Pick examples that return something: a popular item with complements, one with alternatives, a known shopper.
  let crossItem = '';
  let upItem = '';
  for (const id of service.catalog.ids.slice(0, 500)) {
    try {
      // Not shown to anyone: no decision record, no experiment impression.
      const unshown = { record: false };
      if (!crossItem && (await service.recommend({ intent: 'cross-sell', items: [id], limit: 5 }, unshown)).items.length >= 3) crossItem = id;
      if (!upItem && (await service.recommend({ intent: 'up-sell', items: [id], limit: 5 }, unshown)).items.length >= 3) upItem = id;
    } catch (err) {
      logger.warn({ err }, 'failed to pick example items');
    }
    if (crossItem && upItem) break;
  }
  const user = 'u-1';
  out('');
  out(`Tandem recommender listening on ${base}${demoKey ? ` — demo API key: ${demoKey}` : ''}`);
  out('');
  out(`curl -s ${auth} '${base}/v1/recommendations/cross-sell?items=${crossItem || 'sku-0001'}&limit=5'`);
  out(`curl -s ${auth} '${base}/v1/recommendations/up-sell?item=${upItem || 'sku-0001'}&limit=5'`);
  out(`curl -s ${auth} '${base}/v1/recommendations/personal?user=${user}&limit=5'`);
  out(`curl -s ${auth} '${base}/v1/models'`);
  out(`curl -s ${base}/openapi.json   # also /healthz /readyz /metrics (no key)`);
  out('');
}

/**
 * The API keys: the keys file (`TANDEM_API_KEYS_FILE`, re-read when it changes) and `TANDEM_API_KEY`;
 * the demo key only when neither is set and the demo shop is served.
 */
async function loadApiKeys(env: ServiceEnv, demo: boolean, logger: Logger): Promise<{ keys: () => readonly ApiKey[]; demoKey?: string; close: () => void }> {
  const fixed = env.apiKey ? [plainKey(env.apiKey)] : [];
  if (!env.apiKeysFile) {
    if (fixed.length > 0) return { keys: () => fixed, close: () => undefined };
    if (!demo) throw new ConfigError(`'${Env.API_KEYS_FILE}' or '${Env.API_KEY}' must be set (only the demo shop has a default key)`);
    const demoKeys = [plainKey(DEMO_API_KEY)];
    return { keys: () => demoKeys, demoKey: DEMO_API_KEY, close: () => undefined };
  }
  let all: readonly ApiKey[] = [];
  const file = await SecretFile.open({ path: env.apiKeysFile, what: 'API keys', parse: parseKeysFile, logger, onChange: (keys) => (all = [...fixed, ...keys]) });
  all = [...fixed, ...file.value];
  return { keys: () => all, close: () => file.close() };
}

/** The Redis tier when `REDIS_URL` is set (and the cache is on); the password from `REDIS_PASSWORD` or its file. */
async function redisTier(env: ServiceEnv, cfg: TandemConfig, logger: Logger): Promise<RedisTier | undefined> {
  if (!env.redisUrl || !cfg.cache.enabled) {
    logger.info({ redis: false }, env.redisUrl ? 'candidate cache off (cache.enabled: false)' : 'candidate cache in memory only (no REDIS_URL)');
    return undefined;
  }
  let password: (() => string | undefined) | undefined;
  if (env.redisPasswordFile) {
    const file = await SecretFile.open({ path: env.redisPasswordFile, what: 'Redis password', parse: (text) => text.trim(), logger });
    password = () => file.value;
  } else if (env.redisPassword) {
    const value = env.redisPassword;
    password = () => value;
  }
  const { timeoutMs, backoffMs } = cfg.cache.redis;
  const tier = new RedisTier({ url: env.redisUrl, timeoutMs, backoffMs, logger, ...(password ? { password } : {}) });
  logger.info({ redis: `${env.redisUrl.protocol}//${env.redisUrl.host}`, timeoutMs, ttlSeconds: cfg.cache.ttlSeconds }, 'candidate cache in memory, shared through Redis');
  return tier;
}

async function serveCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      catalog: { type: 'string' },
      events: { type: 'string' },
      'model-dir': { type: 'string' },
      'watch-seconds': { type: 'string' },
      config: { type: 'string' },
      'skip-metrics': { type: 'boolean' },
    },
  });
  const env = readServiceEnv(process.env);
  const cfg = loadConfigFile(values.config);
  if (env.cacheTtlSeconds !== undefined) cfg.cache.ttlSeconds = env.cacheTtlSeconds;
  const modelDir = values['model-dir'] ?? env.modelDir;
  const demo = !values.catalog && !values.events && !modelDir;
  const watchSeconds = values['watch-seconds'] === undefined ? 30 : Number(values['watch-seconds']);
  if (!Number.isFinite(watchSeconds) || watchSeconds < 0) throw new ConfigError(`'--watch-seconds' (${values['watch-seconds']}) must be a number ≥ 0`);

  const logger = pino({ level: env.logLevel, base: { service: 'tandem-recommender' } }, pino.destination(2));
  const apiKeys = await loadApiKeys(env, demo, logger);
  const auth = new Authenticator(apiKeys.keys, cfg.auth);
  const metrics = createMetrics();
  const catalog = new Catalog();
  const location = s3LocationFromEnv(process.env);
  const source =
    location && modelDir
      ? new S3ModelSource({ bucket: openBucket(location), dir: modelDir, pinned: env.modelVersion, logger, onRefused: (version, reason) => store.refused.set(version, reason) })
      : undefined;
  const store = new ModelStore({
    dir: modelDir,
    catalog,
    engine: cfg.engine,
    logger,
    pinned: env.modelVersion,
    source,
    gate: cfg.gate,
  });
  const trust = await openServeTrust({ env, logger, registry: metrics.registry, ingested: metrics.ingested, store, catalog, historySize: cfg.engine.historySize, modelDir });
  const sharedCache = await redisTier(env, cfg, logger);
  const service = new RecommenderService({ catalog, store, config: cfg, variant: env.variant, ...(sharedCache ? { sharedCache } : {}), ...trust.deps });
  trust.start(service);
  const { app } = createApp({ service, store, auth, logger, metrics });
  const running = await startServer(app, env.port);
  logger.info({ port: running.port }, 'listening; not ready until a model is loaded');
  const metricsServer = env.metricsPort === undefined ? undefined : await startServer(createMetricsApp(metrics), env.metricsPort);
  if (metricsServer) logger.info({ port: metricsServer.port }, 'serving /metrics alone');

  if (values.catalog || values.events || demo) {
    // JSON Lines train in memory as they always have; Parquet on the embedded engine.
    const parquet = (await Promise.all([values.catalog, values.events].map((f) => (f ? inputFormat(f) : 'jsonl')))).includes('parquet');
    const { data, metrics: offline } = await trainFiles({
      ...(values.catalog ? { catalog: values.catalog } : {}),
      ...(values.events ? { events: values.events } : {}),
      engine: parquet ? 'embedded' : 'memory',
      cfg,
      privacy: service.privacy,
      skipMetrics: values['skip-metrics'] ?? false,
      say: () => undefined,
    });
    const manifest = store.addInMemory(data, { metrics: offline, config: cfg });
    await store.activate(manifest.version);
  }
  if (modelDir) {
    await store.follow();
    if (!store.active) logger.warn({ dir: modelDir, version: env.modelVersion ?? 'latest' }, 'no valid model in the model directory yet; not ready');
    if (watchSeconds > 0) store.watch(watchSeconds * 1000);
  }
  sharedCache?.connect(); // after the model is loaded: loading blocks the event loop, and a connect would time out
  if (store.active) await banner(running.port, apiKeys.demoKey, service, logger);

  const stop = (signal: string): void => {
    logger.info({ signal }, 'shutting down');
    apiKeys.close();
    Promise.all([running.close(), metricsServer?.close(), service.close(), trust.close()]).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

async function main(): Promise<void> {
  const [command = 'serve', ...rest] = process.argv.slice(2);
  const args = command.startsWith('--') ? [command, ...rest] : rest;
  const cmd = command.startsWith('--') ? 'serve' : command;
  if (cmd === 'serve') await serveCommand(args);
  else if (cmd === 'train') await trainCommand(args);
  else if (cmd === 'prepare') await prepareCommand(args);
  else if (cmd === 'pack') await packCommand(args);
  else if (cmd === 'demo-data') await demoDataCommand(args);
  else throw new ConfigError(`unknown command '${cmd}' (serve | train | prepare | pack | demo-data)`);
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError || err instanceof TrainingDataError ? err.message : err);
  process.exit(1);
});
