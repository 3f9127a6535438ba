/**
 * Whether training inputs are fit to train on: a model trained on no events, or on a file mostly
 * rejected (a wrong format, a broken export), would answer every shopper with nothing once activated,
 * so training refuses it and writes no version. Pure: the read reports in, a reason out.
 */
import type { FileReport } from './inputs.js';

/** Training refused because of its inputs (the trainer exits non-zero and writes no version). */
export class TrainingDataError extends Error {
  override readonly name = 'TrainingDataError';
}

const pct = (x: number): string => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;

/** Why the inputs are not fit to train on, or undefined. */
export function inputProblem(files: readonly FileReport[], usableEvents: number, maxRejectedShare: number): string | undefined {
  const problems: string[] = [];
  for (const f of files) {
    if (f.records === 0 || f.rejected / f.records <= maxRejectedShare) continue;
    const lines = f.firstBadLines.join(', ') + (f.rejected > f.firstBadLines.length ? ', …' : '');
    problems.push(`${f.file}: ${f.rejected} of ${f.records} records rejected (${pct(f.rejected / f.records)}, more than the ${pct(maxRejectedShare)} allowed); first bad lines: ${lines}`);
  }
  if (usableEvents === 0) problems.push('no usable events (none valid, or none naming a catalogue item)');
  return problems.length > 0 ? problems.join('; ') : undefined;
}
