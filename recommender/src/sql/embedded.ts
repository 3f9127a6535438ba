/**
 * The embedded engine end to end: ingest (validation and privacy) → the training job in DuckDB → pack.
 * One process, memory bounded by DuckDB's limit plus the packed model; the rest spills to `scratch`.
 */
import { rm } from 'node:fs/promises';
import type { EngineConfig } from '../config.js';
import type { ModelData } from '../engine/model.js';
import { Duck } from './duckdb.js';
import { stageInputs, type StageOptions, type Staged } from './ingest.js';
import { packModel, readUserIds } from './pack.js';
import { OUTPUTS, trainingJob } from './training-job.js';

export type StepProgress = (step: string, done: number, total: number) => void;

export interface SqlTrainOptions extends StageOptions {
  readonly engine: EngineConfig;
  /** Scratch directory (removed afterwards). */
  readonly scratch: string;
  readonly memoryLimit?: string;
  readonly threads?: number;
  readonly progress?: StepProgress;
}

/** Stages the inputs; `train` is called only when they are fit to train on (the caller's check). */
export async function trainEmbedded(o: SqlTrainOptions, fit: (staged: Staged) => void = () => {}): Promise<{ data: ModelData; staged: Staged }> {
  const duck = await Duck.open({ dir: o.scratch, ...(o.memoryLimit ? { memoryLimit: o.memoryLimit } : {}), ...(o.threads ? { threads: o.threads } : {}) });
  try {
    const staged = await stageInputs(duck, o);
    fit(staged);
    await duck.runSteps(trainingJob(o.engine).steps, [...OUTPUTS, 'users'], o.progress);
    const data = await packModel(duck, { items: staged.catalog.items, userIds: await readUserIds(duck) });
    return { data, staged };
  } finally {
    duck.close();
    await rm(o.scratch, { recursive: true, force: true });
  }
}
