/**
 * The two-proportion z-test (pooled standard error for the test, unpooled for the confidence interval of
 * the difference), on simple-statistics' error function (relative error < 1.2e-7).
 */
import { errorFunction, probit } from 'simple-statistics';

/** P(|Z| ≥ |z|) for a standard normal Z. */
export function twoSidedPValue(z: number): number {
  return 1 - errorFunction(Math.abs(z) / Math.SQRT2);
}

export function normalCdf(z: number): number {
  return 0.5 * (1 + errorFunction(z / Math.SQRT2));
}

/** The standard normal quantile: simple-statistics' probit, sharpened by Newton steps on the accurate cdf. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`quantile of ${p} is not finite`);
  let z = probit(p);
  for (let i = 0; i < 3; i++) z -= (normalCdf(z) - p) / (Math.exp((-z * z) / 2) / Math.sqrt(2 * Math.PI));
  return z;
}

export interface ZTest {
  /** Conversion rates of the variant (1) and the baseline (2). */
  p1: number;
  p2: number;
  /** p1 − p2. */
  difference: number;
  z: number;
  /** Two-sided. */
  pValue: number;
  /** Confidence interval of the difference at the given confidence. */
  ci: [number, number];
}

/** Tests H0: p1 = p2 from x1 successes in n1 trials and x2 in n2. */
export function twoProportionZTest(x1: number, n1: number, x2: number, n2: number, confidence = 0.95): ZTest {
  if (n1 <= 0 || n2 <= 0) throw new RangeError('both samples need at least one trial');
  if (x1 < 0 || x1 > n1 || x2 < 0 || x2 > n2) throw new RangeError('successes must be between 0 and the trials');
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  const z = se === 0 ? 0 : (p1 - p2) / se;
  const seDiff = Math.sqrt((p1 * (1 - p1)) / n1 + (p2 * (1 - p2)) / n2);
  const half = normalQuantile(1 - (1 - confidence) / 2) * seDiff;
  const difference = p1 - p2;
  return { p1, p2, difference, z, pValue: se === 0 ? 1 : twoSidedPValue(z), ci: [difference - half, difference + half] };
}
