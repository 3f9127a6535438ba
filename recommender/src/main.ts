/**
 * The recommender's one entry point, with two commands:
 *   serve  [--catalog F --events F] [--model-dir DIR] [--watch-seconds N] [--config F]
 *   train  --catalog F --events F --out DIR [--config F] [--skip-metrics] [--keep N] [--history-days N]
 * and a helper, `demo-data --out DIR [--shop demo|noisy] [--seed N]`, that writes a generated shop as JSON Lines
 * with its ground truth beside it.
 * `serve` with no inputs generates the demo shop, trains on it and serves it from memory.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino, type Logger } from 'pino';
import { createApp, createMetricsApp } from './api/app.js';
import { createMetrics } from './api/metrics.js';
import { loadInputs, type Inputs } from './cli/inputs.js';
import { fmtMs, progressPrinter } from './cli/progress.js';
import { ConfigError, loadConfigFile, readServiceEnv, type TandemConfig } from './config.js';
import { shopSpec, writeShopFiles } from './data/demo-files.js';
import { Catalog } from './engine/catalog.js';
import type { ModelData } from './engine/model.js';
import { lastDays } from './engine/events.js';
import { train } from './engine/train.js';
import { evaluateSplit, offlineMetrics, temporalSplit } from './evaluate-core.js';
import { pruneVersions, writeArtifact } from './model/artifact.js';
import { ModelStore } from './model/store.js';
import { startServer } from './server.js';
import { RecommenderService } from './service.js';

export const DEMO_API_KEY = 'tandem-demo-key';

function out(line = ''): void {
  process.stdout.write(line + '\n');
}

/** Trains the full model, and (unless skipped) offline metrics on a temporal split. */
function trainWithMetrics(inputs: Inputs, cfg: TandemConfig, skipMetrics: boolean): { data: ModelData; metrics: Record<string, number> } {
  let metrics: Record<string, number> = {};
  if (!skipMetrics) {
    const t0 = performance.now();
    const split = temporalSplit(inputs.events, cfg.engine.sessionGapMinutes);
    metrics = offlineMetrics(evaluateSplit(inputs.catalog, split, cfg.engine, progressPrinter('evaluating')));
    process.stderr.write(`offline metrics in ${fmtMs(performance.now() - t0)}: ${JSON.stringify(metrics)}\n`);
  }
  const t0 = performance.now();
  const data = train(Catalog.from(inputs.catalog.items), inputs.events, cfg.engine, progressPrinter('training'));
  process.stderr.write(`trained on ${inputs.events.length} events, ${inputs.catalog.size} items in ${fmtMs(performance.now() - t0)}\n`);
  return { data, metrics };
}

/** An integer ≥ 1 from a flag, or else from an environment variable; undefined when neither is set. */
function positiveInteger(flag: string | undefined, name: string, envName: string): number | undefined {
  const raw = flag ?? process.env[envName];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`invalid config: '--${name}' / '${envName}' (${raw}) must be an integer ≥ 1`);
  return n;
}

async function trainCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      catalog: { type: 'string' },
      events: { type: 'string' },
      out: { type: 'string' },
      config: { type: 'string' },
      'skip-metrics': { type: 'boolean' },
      keep: { type: 'string' },
      'history-days': { type: 'string' },
    },
  });
  if (!values.catalog || !values.events || !values.out) {
    throw new ConfigError(
      'usage: npm run train -- --catalog catalog.jsonl --events events.jsonl --out models/ [--config F] [--skip-metrics] [--keep N] [--history-days N]',
    );
  }
  const keep = positiveInteger(values.keep, 'keep', 'TANDEM_KEEP_VERSIONS');
  const historyDays = positiveInteger(values['history-days'], 'history-days', 'TANDEM_HISTORY_WINDOW_DAYS');
  const cfg = loadConfigFile(values.config);
  const inputs = await loadInputs(values);
  if (historyDays !== undefined) {
    const all = inputs.events.length;
    inputs.events = lastDays(inputs.events, historyDays);
    process.stderr.write(`history window: the last ${historyDays} days, ${inputs.events.length} of ${all} events\n`);
  }
  const { data, metrics } = trainWithMetrics(inputs, cfg, values['skip-metrics'] ?? false);
  const manifest = await writeArtifact(values.out, data, { metrics, config: cfg });
  out(`model ${manifest.version} written to ${join(values.out, manifest.version)}`);
  out(`sha256 ${manifest.sha256}`);
  out(`window ${manifest.window.from} → ${manifest.window.to}`);
  out(`counts ${JSON.stringify(manifest.counts)}`);
  out(`metrics ${JSON.stringify(manifest.metrics)}`);
  if (keep !== undefined) {
    // A pinned version (TANDEM_MODEL_VERSION) stays whatever its age: scoring pods load it on restart.
    const pinned = process.env.TANDEM_MODEL_VERSION;
    const pruned = await pruneVersions(values.out, keep, pinned ? [pinned] : []);
    if (pruned.length > 0) out(`pruned ${pruned.length} old version(s), keeping the newest ${keep}: ${pruned.join(', ')}`);
  }
}

async function demoDataCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { out: { type: 'string' }, shop: { type: 'string', default: 'demo' }, seed: { type: 'string' } } });
  if (!values.out) throw new ConfigError('usage: main.ts demo-data --out DIR [--shop demo|noisy] [--seed N]');
  const w = await writeShopFiles(values.out, shopSpec(values.shop, values.seed === undefined ? undefined : Number(values.seed)));
  out(`wrote ${w.items} items and ${w.events} events to ${w.files.join(', ')}`);
}

function banner(port: number, apiKey: string, service: RecommenderService, demoKey: boolean, logger: Logger): void {
  const base = `http://localhost:${port}`;
  const auth = `-H 'Authorization: Bearer ${apiKey}'`;
  // Pick examples that return something: a popular item with complements, one with alternatives, a known shopper.
  let crossItem = '';
  let upItem = '';
  for (const id of service.catalog.ids.slice(0, 500)) {
    try {
      if (!crossItem && service.recommend({ intent: 'cross-sell', items: [id], limit: 5 }).items.length >= 3) crossItem = id;
      if (!upItem && service.recommend({ intent: 'up-sell', items: [id], limit: 5 }).items.length >= 3) upItem = id;
    } catch (err) {
      logger.warn({ err }, 'failed to pick example items');
    }
    if (crossItem && upItem) break;
  }
  const user = 'u-1';
  out('');
  out(`Tandem recommender listening on ${base}${demoKey ? ` — demo API key: ${apiKey}` : ''}`);
  out('');
  out(`curl -s ${auth} '${base}/v1/recommendations/cross-sell?items=${crossItem || 'sku-0001'}&limit=5'`);
  out(`curl -s ${auth} '${base}/v1/recommendations/up-sell?item=${upItem || 'sku-0001'}&limit=5'`);
  out(`curl -s ${auth} '${base}/v1/recommendations/personal?user=${user}&limit=5'`);
  out(`curl -s ${auth} '${base}/v1/models'`);
  out(`curl -s ${base}/openapi.json   # also /healthz /readyz /metrics (no key)`);
  out('');
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
  const demo = !values.catalog && !values.events && !values['model-dir'];
  const apiKey = env.apiKey ?? (demo ? DEMO_API_KEY : undefined);
  if (!apiKey) throw new ConfigError(`'TANDEM_API_KEY' must be set (only the demo shop has a default key)`);
  const watchSeconds = values['watch-seconds'] === undefined ? 30 : Number(values['watch-seconds']);
  if (!Number.isFinite(watchSeconds) || watchSeconds < 0) throw new ConfigError(`'--watch-seconds' (${values['watch-seconds']}) must be a number ≥ 0`);

  const logger = pino({ level: env.logLevel, base: { service: 'tandem-recommender' } }, pino.destination(2));
  const metrics = createMetrics();
  const catalog = new Catalog();
  const store = new ModelStore({
    dir: values['model-dir'],
    catalog,
    engine: cfg.engine,
    logger,
    pinned: env.modelVersion,
  });
  const service = new RecommenderService({ catalog, store, config: cfg, variant: env.variant });
  const { app } = createApp({ service, store, apiKey, logger, metrics });
  const running = await startServer(app, env.port);
  logger.info({ port: running.port }, 'listening; not ready until a model is loaded');
  const metricsServer = env.metricsPort === undefined ? undefined : await startServer(createMetricsApp(metrics), env.metricsPort);
  if (metricsServer) logger.info({ port: metricsServer.port }, 'serving /metrics alone');

  if (values.catalog || values.events || demo) {
    const inputs = await loadInputs(values);
    const { data, metrics: offline } = trainWithMetrics(inputs, cfg, values['skip-metrics'] ?? false);
    const manifest = store.addInMemory(data, { metrics: offline, config: cfg });
    await store.activate(manifest.version);
  }
  if (values['model-dir']) {
    await store.follow();
    if (!store.active) logger.warn({ dir: values['model-dir'], version: env.modelVersion ?? 'latest' }, 'no valid model in the model directory yet; not ready');
    if (watchSeconds > 0) store.watch(watchSeconds * 1000);
  }
  if (store.active) banner(running.port, apiKey, service, demo && !env.apiKey, logger);

  const stop = (signal: string): void => {
    logger.info({ signal }, 'shutting down');
    Promise.all([running.close(), metricsServer?.close()]).then(
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
  else if (cmd === 'demo-data') await demoDataCommand(args);
  else throw new ConfigError(`unknown command '${cmd}' (serve | train | demo-data)`);
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
