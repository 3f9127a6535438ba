/**
 * The model gate: whether a newly trained version may replace the active one automatically. A version
 * whose offline quality falls more than `maxMetricDrop` below the active version's, or whose training
 * counts collapse below `minCountRatio` of the active version's (a broken export, a truncated events
 * file), is refused; an operator can still activate it by hand. Pure: manifests in, a reason out.
 */
import type { GateConfig } from '../config.js';
import type { Manifest } from './artifact.js';

/** Offline metrics where higher is better (the model's own, not the popularity baseline's). */
export const GATED_METRICS = ['hr10', 'ndcg10', 'precision5', 'coverage'] as const;
/** Training counts that a healthy retraining keeps roughly stable. */
export const GATED_COUNTS = ['events', 'orders', 'users', 'items', 'crossPairs'] as const;

const pct = (x: number): string => `${Math.round(x * 100)}%`;

/** Why `candidate` may not replace `active`, or undefined when it may. */
export function gateVerdict(candidate: Pick<Manifest, 'metrics' | 'counts'>, active: Pick<Manifest, 'metrics' | 'counts'>, cfg: GateConfig): string | undefined {
  for (const name of GATED_COUNTS) {
    const now = active.counts[name];
    const next = candidate.counts[name];
    if (now === undefined || next === undefined || now <= 0) continue;
    if (next < now * cfg.minCountRatio) {
      return `counts.${name} ${next} is ${pct(next / now)} of the active version's ${now} (at least ${pct(cfg.minCountRatio)} required)`;
    }
  }
  for (const name of GATED_METRICS) {
    const now = active.metrics[name];
    const next = candidate.metrics[name];
    if (now === undefined || next === undefined || now <= 0) continue;
    if (next < now * (1 - cfg.maxMetricDrop)) {
      return `metrics.${name} ${next} is ${pct(1 - next / now)} below the active version's ${now} (at most ${pct(cfg.maxMetricDrop)} allowed)`;
    }
  }
  return undefined;
}
