/**
 * The training job as Spark runs it: the statements of training-job.ts, unchanged, in a JSON document the
 * driver (spark-driver.ts) executes with `spark.sql`, each step written as Parquet (under workDir, an output
 * under outputDir) and deleted once no later step reads it. The driver knows nothing of recommendations: everything is in the document.
 * Pure.
 */
import type { EngineConfig } from '../config.js';
import { stepReferences } from './duckdb.js';
import { INPUT_TABLES, OUTPUTS, trainingJob } from './training-job.js';

/** The document the driver reads (`spark-submit tandem_train.py job.json`). */
export interface SparkJobDocument {
  readonly format: 'tandem-spark-job/1';
  /** Input table → Parquet path (a file or a directory; `s3a://` on a cluster without a shared volume). */
  readonly inputs: Record<string, string>;
  readonly steps: readonly { name: string; sql: string; view: boolean; release: string[] }[];
  readonly outputs: readonly string[];
  /** Each output is written to `<outputDir>/<table>/` as Parquet. */
  readonly outputDir: string;
  /** The other steps' Parquet files, `<workDir>/<table>/`, each deleted once no later step reads it (all at the end). */
  readonly workDir: string;
}

/** Where a run's files live under its job directory (shared by the driver, executors and the packer). */
export const jobPaths = (dir: string) => ({
  input: `${dir}/input`,
  output: `${dir}/output`,
  /** The steps' intermediate tables while Spark runs. */
  work: `${dir}/work`,
  document: `${dir}/job.json`,
  driver: `${dir}/tandem_train.py`,
  /** The validated catalogue and what ingestion counted, for the packer. */
  staged: `${dir}/input/staged.json`,
});

export function sparkJobDocument(cfg: EngineConfig, dir: string): SparkJobDocument {
  const { steps } = trainingJob(cfg);
  const refs = stepReferences(steps);
  const paths = jobPaths(dir);
  const released = new Set<string>();
  return {
    format: 'tandem-spark-job/1',
    inputs: Object.fromEntries(INPUT_TABLES.map((t) => [t, `${paths.input}/${t}.parquet`])),
    steps: steps.map((step, i) => {
      const live = new Set<string>(OUTPUTS);
      for (const later of steps.slice(i + 1)) for (const r of refs.get(later.name)!) live.add(r);
      const release = steps
        .slice(0, i + 1)
        .filter((s) => !s.view && !live.has(s.name) && !released.has(s.name))
        .map((s) => s.name);
      for (const r of release) released.add(r);
      return { name: step.name, sql: step.sql, view: step.view ?? false, release };
    }),
    outputs: OUTPUTS,
    outputDir: paths.output,
    workDir: paths.work,
  };
}
