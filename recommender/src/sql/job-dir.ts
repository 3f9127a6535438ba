/**
 * A Spark run's job directory, the hand-over between the three steps of `engine: spark`:
 *   prepare (ingest.ts in DuckDB)  → input/{items,events,users}.parquet, input/staged.json, job.json, tandem_train.py
 *   Spark (spark-driver.ts)        → output/<table>/*.parquet
 *   pack (pack.ts)                 → the model version
 * Locally `train --engine spark` runs all three; on Kubernetes they are the driver's init container, the
 * SparkApplication and the follow-up Job, on a volume all of them mount.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { EngineConfig } from '../config.js';
import type { FileReport } from '../cli/inputs.js';
import type { Dropped } from '../privacy/events.js';
import type { CatalogItem } from '../schemas.js';
import { quote, type Duck } from './duckdb.js';
import type { Staged } from './ingest.js';
import { SPARK_DRIVER_PY } from './spark-driver.js';
import { jobPaths, sparkJobDocument } from './spark-job.js';

/** What ingestion found, for the packer and the run's report (staged.json). */
export interface StagedSummary {
  readonly format: 'tandem-staged/1';
  readonly source: string;
  readonly items: CatalogItem[];
  readonly files: FileReport[];
  readonly skipped: number;
  readonly dropped: Dropped;
  readonly events: number;
  readonly users: number;
}

/** Writes the staged tables and the job for Spark into `dir` (after stageInputs on `duck`). */
export async function writeJobDir(duck: Duck, staged: Staged, engine: EngineConfig, dir: string): Promise<void> {
  const p = jobPaths(dir);
  await mkdir(p.input, { recursive: true });
  for (const table of ['items', 'events', 'users']) {
    await duck.run(`COPY (SELECT * FROM ${table}) TO ${quote(`${p.input}/${table}.parquet`)} (FORMAT parquet)`, `write the staged ${table} to ${p.input}`);
  }
  const summary: StagedSummary = {
    format: 'tandem-staged/1',
    source: staged.source,
    items: staged.catalog.items,
    files: staged.files,
    skipped: staged.skipped,
    dropped: staged.dropped,
    events: staged.events,
    users: staged.users,
  };
  await writeFile(p.staged, JSON.stringify(summary));
  await writeFile(p.document, JSON.stringify(sparkJobDocument(engine, dir), null, 1));
  await writeFile(p.driver, SPARK_DRIVER_PY);
}

export async function readStagedSummary(dir: string): Promise<StagedSummary> {
  const path = jobPaths(dir).staged;
  let s: StagedSummary;
  try {
    s = JSON.parse(await readFile(path, 'utf8')) as StagedSummary;
  } catch (err) {
    throw new Error(`failed to read ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (s.format !== 'tandem-staged/1') throw new Error(`${path}: unsupported format '${String(s.format)}'`);
  return s;
}
