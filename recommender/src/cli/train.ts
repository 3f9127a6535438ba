/**
 * The trainer's commands (main.ts dispatches to them):
 *   train   --catalog F --events F --out DIR [--engine embedded|spark|memory] [--config F] [--skip-metrics]
 *           [--keep N] [--history-days N] [--max-rejected-share X] [--prune-events] [--spark-master M]
 *   prepare --catalog F --events F --job-dir DIR [--config F] [--history-days N] [--max-rejected-share X]
 *   pack    --job-dir DIR --out DIR [--config F] [--keep N]
 * F is JSON Lines or Parquet (a file, a directory, an `s3://` URL). `train` runs one of three engines on
 * the same maths: `embedded` (DuckDB, out of core; the default), `spark` (spark-submit, local mode) and
 * `memory` (the TypeScript trainer, engine/train.ts). `prepare` and `pack` are the two ends of a Spark run
 * on a cluster (docs/training.md): the driver's init container and the follow-up Job.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { Env } from '../../../cdk8s/constants.js';
import { ConfigError, loadConfigFile, type TandemConfig } from '../config.js';
import { Catalog } from '../engine/catalog.js';
import { lastDays, type EventColumns } from '../engine/events.js';
import type { ModelData } from '../engine/model.js';
import { train } from '../engine/train.js';
import { evaluateSplit, offlineMetrics, temporalSplit } from '../evaluate-core.js';
import { pruneVersions, writeArtifact } from '../model/artifact.js';
import { downloadInputs, pruneRemoteVersions, uploadVersion } from '../model/s3-publish.js';
import { openBucket, s3LocationFromEnv, type Bucket } from '../model/s3-source.js';
import type { Privacy } from '../privacy/privacy.js';
import { prepareSparkJob, packSparkJob, trainEmbedded, trainSparkLocal, type SqlTrainOptions } from '../sql/engines.js';
import type { SparkLocalOptions } from '../sql/spark-local.js';
import { inputFormat, type Staged } from '../sql/ingest.js';
import { privatiseInputs, trainerPrivacy } from '../trust.js';
import { inputProblem, TrainingDataError } from './input-check.js';
import { loadInputs, type Inputs } from './inputs.js';
import { fmtMs, progressPrinter } from './progress.js';

export const ENGINES = ['embedded', 'spark', 'memory'] as const;
export type EngineName = (typeof ENGINES)[number];

/** Offline metrics need the events in memory: above this many, the SQL engines skip them (the gate then checks counts only). */
export const METRICS_MAX_EVENTS = 5_000_000;

const out = (line = ''): void => void process.stdout.write(line + '\n');
const err = (line: string): void => void process.stderr.write(line + '\n');

/** An integer ≥ 1 from a flag, or else from an environment variable; undefined when neither is set. */
function positiveInteger(flag: string | undefined, name: string, envName: string): number | undefined {
  const raw = flag ?? process.env[envName];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`invalid config: '--${name}' / '${envName}' (${raw}) must be an integer ≥ 1`);
  return n;
}

function engineOf(flag: string | undefined): EngineName {
  const raw = flag ?? (process.env[Env.TRAINING_ENGINE] || 'embedded');
  if (!(ENGINES as readonly string[]).includes(raw)) throw new ConfigError(`invalid config: '--engine' / '${Env.TRAINING_ENGINE}' (${raw}) must be one of ${ENGINES.join(', ')}`);
  return raw as EngineName;
}

/** Offline metrics on a temporal split of the events, in memory. */
function metricsOf(catalog: Catalog, events: EventColumns, cfg: TandemConfig): Record<string, number> {
  const t0 = performance.now();
  const metrics = offlineMetrics(evaluateSplit(catalog, temporalSplit(events, cfg.engine.sessionGapMinutes), cfg.engine, progressPrinter('evaluating')));
  err(`offline metrics in ${fmtMs(performance.now() - t0)}: ${JSON.stringify(metrics)}`);
  return metrics;
}

/**
 * Trains the full model in memory (engine/train.ts), and (unless skipped) offline metrics on a temporal split.
 * Refuses (TrainingDataError) inputs with no usable events or with more rejected records than
 * `training.maxRejectedShare`.
 */
export function trainWithMetrics(inputs: Inputs, cfg: TandemConfig, skipMetrics: boolean): { data: ModelData; metrics: Record<string, number> } {
  const problem = inputProblem(inputs.files, inputs.events.length, cfg.training.maxRejectedShare);
  if (problem) throw new TrainingDataError(`refusing to train, no model version written: ${problem}`);
  const metrics = skipMetrics ? {} : metricsOf(inputs.catalog, inputs.events, cfg);
  const t0 = performance.now();
  const data = train(Catalog.from(inputs.catalog.items), inputs.events, cfg.engine, progressPrinter('training'));
  err(`trained on ${inputs.events.length} events, ${inputs.catalog.size} items in ${fmtMs(performance.now() - t0)}`);
  return { data, metrics };
}

export interface TrainFilesOptions {
  readonly catalog?: string;
  readonly events?: string;
  readonly engine: EngineName;
  readonly cfg: TandemConfig;
  readonly privacy: Privacy;
  readonly skipMetrics: boolean;
  readonly historyDays?: number;
  /** Results for a person (privacy drops, the history window): stdout for `train`. */
  readonly say: (line: string) => void;
  readonly sparkMaster?: string;
}

/** What ingestion found, said as the in-memory trainer says it; refuses unfit inputs before any training. */
function acceptStaged(cfg: TandemConfig, privacy: Privacy, historyDays: number | undefined, say: (line: string) => void) {
  return (staged: Staged): void => {
    const { erased, expired } = staged.dropped;
    if (erased + expired > 0) say(`privacy: dropped ${erased} events of erased shoppers and ${expired} older than ${privacy.retentionDays} days`);
    if (historyDays !== undefined && staged.beforeWindow !== undefined) err(`history window: the last ${historyDays} days, ${staged.events} of ${staged.beforeWindow} events`);
    const problem = inputProblem(staged.files, staged.events, cfg.training.maxRejectedShare);
    if (problem) throw new TrainingDataError(`refusing to train, no model version written: ${problem}`);
  };
}

function sqlOptions(o: TrainFilesOptions, scratch: string): SqlTrainOptions {
  const location = s3LocationFromEnv(process.env);
  return {
    catalog: o.catalog!,
    events: o.events!,
    engine: o.cfg.engine,
    privacy: o.privacy,
    ...(o.historyDays !== undefined ? { historyDays: o.historyDays } : {}),
    ...(location ? { s3: location } : {}),
    say: err,
    scratch,
    progress: progressPrinter('training'),
    accept: acceptStaged(o.cfg, o.privacy, o.historyDays, o.say),
    ...(o.skipMetrics ? {} : { columnsUpTo: METRICS_MAX_EVENTS }),
  };
}

/** spark-submit's settings for a local run: the master, and TANDEM_SPARK_DRIVER_MEMORY / TANDEM_SPARK_SHUFFLE_PARTITIONS. */
function sparkLocalOptions(master: string | undefined): SparkLocalOptions {
  const partitions = process.env.TANDEM_SPARK_SHUFFLE_PARTITIONS;
  return {
    master: master ?? 'local[2]',
    ...(process.env.TANDEM_SPARK_DRIVER_MEMORY ? { driverMemory: process.env.TANDEM_SPARK_DRIVER_MEMORY } : {}),
    ...(partitions ? { shufflePartitions: Number(partitions) } : {}),
    onStep: (s) => err(`spark: ${s.step}${s.seconds !== undefined ? ` ${s.seconds} s` : ''}`),
  };
}

/** The model (and its offline metrics) from input files, or the demo shop without them, on the chosen engine. */
export async function trainFiles(o: TrainFilesOptions): Promise<{ data: ModelData; metrics: Record<string, number> }> {
  if (o.engine === 'memory') {
    for (const f of [o.catalog, o.events]) {
      if (f && (await inputFormat(f)) === 'parquet') throw new ConfigError(`'${f}' is Parquet: the memory engine reads JSON Lines only (use --engine embedded)`);
    }
    const inputs = await loadInputs(o);
    privatiseInputs(inputs, o.privacy, o.say);
    if (o.historyDays !== undefined) {
      const all = inputs.events.length;
      inputs.events = lastDays(inputs.events, o.historyDays);
      err(`history window: the last ${o.historyDays} days, ${inputs.events.length} of ${all} events`);
    }
    return trainWithMetrics(inputs, o.cfg, o.skipMetrics);
  }
  if (!o.catalog || !o.events) throw new ConfigError('--catalog and --events go together');
  const scratch = await mkdtemp(join(process.env.TANDEM_SCRATCH_DIR || tmpdir(), 'tandem-train-'));
  try {
    const t0 = performance.now();
    const base = sqlOptions(o, join(scratch, 'duckdb'));
    const r =
      o.engine === 'embedded'
        ? await trainEmbedded(base)
        : await trainSparkLocal({ ...base, jobDir: join(scratch, 'job'), spark: sparkLocalOptions(o.sparkMaster) });
    err(`trained on ${r.staged.events} events, ${r.staged.catalog.size} items with the ${o.engine} engine in ${fmtMs(performance.now() - t0)}`);
    let metrics: Record<string, number> = {};
    if (r.columns) metrics = metricsOf(r.staged.catalog, r.columns, o.cfg);
    else if (!o.skipMetrics) err(`offline metrics skipped: ${r.staged.events} events are more than the ${METRICS_MAX_EVENTS} evaluated in memory (the model gate checks the counts)`);
    return { data: r.data, metrics };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Writes a new version (uploads it in s3 mode) and prunes old ones beyond `keep`; prints what it did. */
async function publish(data: ModelData, metrics: Record<string, number>, cfg: TandemConfig, outDir: string, keep: number | undefined, bucket: Bucket | undefined): Promise<void> {
  const manifest = await writeArtifact(outDir, data, { metrics, config: cfg });
  out(`model ${manifest.version} written to ${join(outDir, manifest.version)}`);
  out(`sha256 ${manifest.sha256}`);
  out(`window ${manifest.window.from} → ${manifest.window.to}`);
  out(`counts ${JSON.stringify(manifest.counts)}`);
  out(`metrics ${JSON.stringify(manifest.metrics)}`);
  if (bucket) out(`uploaded to ${await uploadVersion(bucket, outDir, manifest.version)}`);
  if (keep !== undefined) {
    // A pinned version (TANDEM_MODEL_VERSION) stays whatever its age: scoring pods load it on restart.
    const pinned = process.env[Env.MODEL_VERSION];
    const protect = pinned ? [pinned] : [];
    const pruned = bucket ? await pruneRemoteVersions(bucket, keep, protect) : await pruneVersions(outDir, keep, protect);
    if (pruned.length > 0) out(`pruned ${pruned.length} old version(s), keeping the newest ${keep}: ${pruned.join(', ')}`);
  }
}

const INPUT_OPTIONS = {
  catalog: { type: 'string' },
  events: { type: 'string' },
  config: { type: 'string' },
  'history-days': { type: 'string' },
  'max-rejected-share': { type: 'string' },
} as const;

/** The config file with `--max-rejected-share` applied. */
function configOf(values: { config?: string; 'max-rejected-share'?: string }): TandemConfig {
  const cfg = loadConfigFile(values.config);
  if (values['max-rejected-share'] !== undefined) {
    const share = Number(values['max-rejected-share']);
    if (!(share >= 0 && share <= 1)) throw new ConfigError(`invalid config: '--max-rejected-share' (${values['max-rejected-share']}) must be a number 0–1`);
    cfg.training.maxRejectedShare = share;
  }
  return cfg;
}

/** Local input paths come from `<prefix>data/` in s3 mode; `s3://` URLs are read where they are. */
async function fetchInputs(bucket: Bucket | undefined, paths: (string | undefined)[]): Promise<void> {
  const local = paths.filter((p): p is string => p !== undefined && !/^[a-z][a-z0-9+.-]*:\/\//i.test(p));
  if (bucket) await downloadInputs(bucket, local);
}

export async function trainCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      ...INPUT_OPTIONS,
      out: { type: 'string' },
      engine: { type: 'string' },
      'skip-metrics': { type: 'boolean' },
      keep: { type: 'string' },
      'prune-events': { type: 'boolean' },
      'spark-master': { type: 'string' },
    },
  });
  if (!values.catalog || !values.events || !values.out) {
    throw new ConfigError(
      'usage: npm run train -- --catalog catalog.jsonl|.parquet --events events.jsonl|.parquet|DIR|s3://… --out models/ [--engine embedded|spark|memory] [--config F] [--skip-metrics] [--keep N] [--history-days N] [--max-rejected-share 0.01] [--prune-events]',
    );
  }
  const engine = engineOf(values.engine);
  const keep = positiveInteger(values.keep, 'keep', Env.KEEP_VERSIONS);
  const historyDays = positiveInteger(values['history-days'], 'history-days', Env.HISTORY_WINDOW_DAYS);
  const cfg = configOf(values);
  // With models in object storage (TANDEM_MODEL_S3_*), local inputs come from the bucket and the version goes back to it.
  const location = s3LocationFromEnv(process.env);
  const bucket = location && openBucket(location);
  await fetchInputs(bucket, [values.catalog, values.events]);
  // Pseudonymised, erased shoppers and expired events dropped, before anything is trained or stored.
  const privacy = await trainerPrivacy(pino({ base: { command: 'train' } }, pino.destination(2)), out);
  const { data, metrics } = await trainFiles({
    catalog: values.catalog,
    events: values.events,
    engine,
    cfg,
    privacy: privacy.privacy,
    skipMetrics: values['skip-metrics'] ?? false,
    ...(historyDays !== undefined ? { historyDays } : {}),
    ...(values['spark-master'] ? { sparkMaster: values['spark-master'] } : {}),
    say: out,
  });
  await publish(data, metrics, cfg, values.out, keep, bucket);
  let prune = values['prune-events'] ? values.events : undefined;
  if (prune && (/^[a-z][a-z0-9+.-]*:\/\//i.test(prune) || (await inputFormat(prune)) !== 'jsonl')) {
    out('events file not pruned: Parquet and object-store inputs are the exporter\'s to prune (the trainer drops those events at ingestion)');
    prune = undefined;
  }
  await privacy.housekeeping(prune);
  privacy.close();
}

/** A Spark run's first step: ingestion into the job directory (the SparkApplication driver's init container). */
export async function prepareCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { ...INPUT_OPTIONS, 'job-dir': { type: 'string' } } });
  if (!values.catalog || !values.events || !values['job-dir']) throw new ConfigError('usage: main.ts prepare --catalog F --events F --job-dir DIR [--config F] [--history-days N] [--max-rejected-share 0.01]');
  const historyDays = positiveInteger(values['history-days'], 'history-days', Env.HISTORY_WINDOW_DAYS);
  const cfg = configOf(values);
  const location = s3LocationFromEnv(process.env);
  await fetchInputs(location && openBucket(location), [values.catalog, values.events]);
  const privacy = await trainerPrivacy(pino({ base: { command: 'prepare' } }, pino.destination(2)), out);
  const o: TrainFilesOptions = { catalog: values.catalog, events: values.events, engine: 'spark', cfg, privacy: privacy.privacy, skipMetrics: true, say: out, ...(historyDays !== undefined ? { historyDays } : {}) };
  const scratch = await mkdtemp(join(process.env.TANDEM_SCRATCH_DIR || tmpdir(), 'tandem-prepare-'));
  try {
    const { staged } = await prepareSparkJob(sqlOptions(o, scratch), values['job-dir']);
    out(`staged ${staged.events} events of ${staged.users} shoppers and ${staged.catalog.size} items in ${values['job-dir']}`);
  } finally {
    await rm(scratch, { recursive: true, force: true });
    privacy.close();
  }
}

/** A Spark run's last step: its tables packed into a model version (the follow-up Job); the job directory is removed. */
export async function packCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { 'job-dir': { type: 'string' }, out: { type: 'string' }, config: { type: 'string' }, keep: { type: 'string' } } });
  if (!values['job-dir'] || !values.out) throw new ConfigError('usage: main.ts pack --job-dir DIR --out models/ [--config F] [--keep N]');
  const keep = positiveInteger(values.keep, 'keep', Env.KEEP_VERSIONS);
  const cfg = loadConfigFile(values.config);
  const location = s3LocationFromEnv(process.env);
  const scratch = await mkdtemp(join(process.env.TANDEM_SCRATCH_DIR || tmpdir(), 'tandem-pack-'));
  try {
    const data = await packSparkJob(values['job-dir'], scratch);
    await publish(data, {}, cfg, values.out, keep, location && openBucket(location));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  await rm(values['job-dir'], { recursive: true, force: true });
}
