/**
 * The evidence that b complements a, from basket counts (pure; shared by training and serving, and spelled
 * out in docs/recommender.md). Counts are time-decayed and in basket units: c_a baskets hold a, c_ab hold
 * both, N baskets in all; q_ab is the rate of b in the baskets of a's substitutes (its neighbours).
 *
 *   p   = c_b / N                                  base rate of b
 *   P̂   = (c_ab + β·p) / (c_a + β)                 a's own rate, shrunk to the base rate
 *   P̃   = (c_ab + β₂·q_ab) / (c_a + β₂)            a's rate, shrunk to its neighbours' rate
 *   D(x‖p) = x·ln(x/p) − x + p                    information per basket (Poisson KL divergence)
 *   score = [P̂ > p]·D(P̂‖p) + λ·(P̃ − p)             kept when > 0
 *   and, with a floor z > 0, when G² = max(2·(c_a + β)·D(P̂‖p), 2·(c_a + β₂)·D(P̃‖p)) ≥ z²   (likelihood-ratio test)
 *
 * The first term rewards what a's own baskets say strongly (a rare accessory bought with a), the second what
 * a and the items like it say together (the complements a shopper is likely to add). Impulse items and
 * add-ons ride along with everything at their base rate, so neither term lifts them.
 */
import type { EngineConfig } from '../config.js';

export interface ComplementParams {
  /** β: prior weight, in baskets, of the base rate in a's own rate. */
  beta: number;
  /** β₂: prior weight, in baskets, of the neighbours' rate. */
  beta2: number;
  /** λ: weight of the blended uplift. */
  lambda: number;
  /** z: significance a pair must reach. */
  z: number;
}

/** The complement parameters of the engine config. */
export function complementParams(cfg: EngineConfig): ComplementParams {
  return { beta: cfg.shrinkage, beta2: cfg.neighbourPrior, lambda: cfg.neighbourWeight, z: cfg.minSignificance };
}

/** D(x‖p) = x·ln(x/p) − x + p, the Kullback–Leibler divergence of Poisson rates (0 when x ≤ 0). */
export function poissonKl(x: number, p: number): number {
  return x <= 0 ? p : x * Math.log(x / p) - x + p;
}

export interface ComplementEvidence {
  score: number;
  /** P̂, a's own rate of b. */
  own: number;
  /** P̃, a's rate of b with its neighbours'. */
  blend: number;
  /** p, b's base rate. */
  base: number;
}

/** Neighbours' rate of b: (Σ c_sb + β₂·p) / (Σ c_s + β₂) over a's neighbours s. */
export function neighbourRate(coSum: number, basketSum: number, p: number, beta2: number): number {
  return (coSum + beta2 * p) / (basketSum + beta2);
}

/** P̂ = (c_ab + β·p) / (c_a + β), a's own rate of b. */
export function ownRate(c: number, ca: number, p: number, k: ComplementParams): number {
  return (c + k.beta * p) / (ca + k.beta);
}

/** P̃ = (c_ab + β₂·q_ab) / (c_a + β₂), a's rate of b with its neighbours'. */
export function blendRate(c: number, ca: number, q: number, k: ComplementParams): number {
  return (c + k.beta2 * q) / (ca + k.beta2);
}

/**
 * The score of b as a complement of a (see the top of this file), or 0 when b is none: the score is not
 * positive or not significant. Allocates nothing (training and serving call it for every pair).
 */
export function complementScore(c: number, ca: number, cb: number, N: number, q: number, k: ComplementParams): number {
  if (N <= 0 || cb <= 0) return 0;
  const base = cb / N;
  const own = ownRate(c, ca, base, k);
  const blend = blendRate(c, ca, q, k);
  const dOwn = own > base ? poissonKl(own, base) : 0;
  const score = dOwn + k.lambda * (blend - base);
  if (!(score > 0)) return 0;
  if (k.z > 0) {
    const g2 = Math.max(2 * (ca + k.beta) * dOwn, blend > base ? 2 * (ca + k.beta2) * poissonKl(blend, base) : 0);
    if (g2 < k.z * k.z) return 0;
  }
  return score;
}

/** The score with the rates it is made of, or undefined when b is no complement of a. */
export function complementEvidence(c: number, ca: number, cb: number, N: number, q: number, k: ComplementParams): ComplementEvidence | undefined {
  const score = complementScore(c, ca, cb, N, q, k);
  if (score === 0) return undefined;
  const base = cb / N;
  return { score, own: ownRate(c, ca, base, k), blend: blendRate(c, ca, q, k), base };
}
