/**
 * The two SQL engines end to end, behind one call each:
 *   embedded: ingest (validation and privacy) → the training job in DuckDB → pack, in one process whose
 *             memory is DuckDB's limit plus the packed model (the rest spills to `scratch`);
 *   spark:    ingest → a job directory → spark-submit (local here; a SparkApplication on a cluster) → pack.
 */
import { rm } from 'node:fs/promises';
import type { EngineConfig } from '../config.js';
import type { EventColumns } from '../engine/events.js';
import type { ModelData } from '../engine/model.js';
import { quote, Duck } from './duckdb.js';
import { stageInputs, type StageOptions, type Staged } from './ingest.js';
import { readStagedSummary, writeJobDir } from './job-dir.js';
import { attachParquetOutputs, packModel, readEventColumns, readUserIds } from './pack.js';
import { jobPaths } from './spark-job.js';
import { runSparkLocal, type SparkLocalOptions } from './spark-local.js';
import { OUTPUTS, trainingJob } from './training-job.js';

export type StepProgress = (step: string, done: number, total: number) => void;

export interface SqlTrainOptions extends StageOptions {
  readonly engine: EngineConfig;
  /** Scratch directory (removed afterwards). */
  readonly scratch: string;
  readonly memoryLimit?: string;
  readonly threads?: number;
  readonly progress?: StepProgress;
  /**
   * Called with what ingestion found, before any training: throws to refuse the inputs (the trainer's
   * maxRejectedShare check), so nothing is trained on them.
   */
  readonly accept?: (staged: Staged) => void;
  /** Also return the staged events as in-memory columns when there are at most this many (offline metrics). */
  readonly columnsUpTo?: number;
}

export interface SqlTrained {
  readonly data: ModelData;
  readonly staged: Staged;
  readonly columns?: EventColumns;
}

/** The staged events in memory, when the caller wants them and they are few enough. */
async function columnsOf(duck: Duck, staged: Staged, o: SqlTrainOptions, userIds: () => Promise<string[]>): Promise<EventColumns | undefined> {
  return o.columnsUpTo !== undefined && staged.events <= o.columnsUpTo ? readEventColumns(duck, await userIds()) : undefined;
}

async function withDuck<T>(o: Pick<SqlTrainOptions, 'scratch' | 'memoryLimit' | 'threads'>, fn: (duck: Duck) => Promise<T>): Promise<T> {
  const duck = await Duck.open({ dir: o.scratch, ...(o.memoryLimit ? { memoryLimit: o.memoryLimit } : {}), ...(o.threads ? { threads: o.threads } : {}) });
  try {
    return await fn(duck);
  } finally {
    duck.close();
    await rm(o.scratch, { recursive: true, force: true });
  }
}

export async function trainEmbedded(o: SqlTrainOptions): Promise<SqlTrained> {
  return withDuck(o, async (duck) => {
    const staged = await stageInputs(duck, o);
    o.accept?.(staged);
    const userIds = await readUserIds(duck);
    const columns = await columnsOf(duck, staged, o, async () => userIds);
    await duck.runSteps(trainingJob(o.engine).steps, [...OUTPUTS, 'users'], o.progress);
    const data = await packModel(duck, { items: staged.catalog.items, userIds });
    return { data, staged, ...(columns ? { columns } : {}) };
  });
}

/** Ingestion into a job directory for Spark (the `prepare` step); returns what it staged. */
export async function prepareSparkJob(o: SqlTrainOptions, dir: string): Promise<{ staged: Staged; columns?: EventColumns }> {
  return withDuck(o, async (duck) => {
    const staged = await stageInputs(duck, o);
    o.accept?.(staged);
    await writeJobDir(duck, staged, o.engine, dir);
    const columns = await columnsOf(duck, staged, o, () => readUserIds(duck));
    return { staged, ...(columns ? { columns } : {}) };
  });
}

/** The model from a job directory whose Spark run finished (the `pack` step). */
export async function packSparkJob(dir: string, scratch: string): Promise<ModelData> {
  const summary = await readStagedSummary(dir);
  return withDuck({ scratch }, async (duck) => {
    await attachParquetOutputs(duck, jobPaths(dir).output);
    const userIds = await readUserIds(duck, `read_parquet(${quote(`${jobPaths(dir).input}/users.parquet`)})`);
    return packModel(duck, { items: summary.items, userIds });
  });
}

/** All three steps here, Spark in local mode. */
export async function trainSparkLocal(o: SqlTrainOptions & { readonly jobDir: string; readonly spark?: SparkLocalOptions }): Promise<SqlTrained> {
  const prepared = await prepareSparkJob({ ...o, scratch: `${o.scratch}/prepare` }, o.jobDir);
  await runSparkLocal(o.jobDir, o.spark);
  return { ...prepared, data: await packSparkJob(o.jobDir, `${o.scratch}/pack`) };
}
