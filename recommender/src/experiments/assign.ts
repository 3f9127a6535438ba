/**
 * Sticky, deterministic assignment: a shopper's variant is a pure function of the experiment and the
 * shopper's pseudonym (or a session id), so every pod gives the same answer with no shared state, and a
 * shopper keeps their variant for as long as the weights do not change. Changing a weight moves only
 * the shoppers whose bucket changes hands; rotating the HMAC key reshuffles everyone (rotate between
 * experiments).
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../audit/canonical.js';
import type { Intent } from '../schemas.js';
import type { Experiment, Variant } from './config.js';

/** Buckets per 100%: weights are whole percents, so 100 buckets per percent keep the split exact. */
const BUCKETS = 10_000;

/** The shopper's bucket in an experiment, 0–9999: uniform, and independent between experiments. */
export function bucketOf(experiment: string, subject: string): number {
  return createHash('sha256').update(experiment).update('\0').update(subject).digest().readUInt32BE(0) % BUCKETS;
}

/** The variant whose cumulative weight range holds the bucket. */
export function variantFor(experiment: Experiment, subject: string): { variant: Variant; index: number } {
  const bucket = bucketOf(experiment.name, subject);
  let upTo = 0;
  for (let i = 0; i < experiment.variants.length; i++) {
    upTo += experiment.variants[i]!.weight * (BUCKETS / 100);
    if (bucket < upTo) return { variant: experiment.variants[i]!, index: i };
  }
  // Unreachable with weights that sum to 100 (checked when the file is read).
  return { variant: experiment.variants[0]!, index: 0 };
}

/** The experiment an answer of this intent belongs to: the first listed for it. */
export function experimentFor(experiments: readonly Experiment[], intent: Intent): Experiment | undefined {
  return experiments.find((e) => !e.intents || e.intents.includes(intent));
}

/**
 * One byte that tells an experiment's set-up apart from another's (name, variants, weights): a
 * recommendation id made under one set-up is never credited to a changed one.
 */
export function fingerprintOf(experiment: Experiment): number {
  const shape = { name: experiment.name, variants: experiment.variants.map((v) => [v.name, v.weight]) };
  return createHash('sha256').update(canonicalJson(shape)).digest()[0]!;
}
