import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bucketOf, experimentFor, fingerprintOf, variantFor } from '../src/experiments/assign.js';
import { ExperimentsError, parseExperiments, type Experiment } from '../src/experiments/config.js';
import { ExperimentCounters } from '../src/experiments/counters.js';
import { buildReport, type VariantCounts } from '../src/experiments/report.js';
import { normalQuantile, twoProportionZTest, twoSidedPValue } from '../src/experiments/stats.js';
import { Pseudonymiser } from '../src/privacy/pseudonym.js';
import { newRecommendationId, tagOf, uuidV7Time } from '../src/recommendation-id.js';

const AB: Experiment = { name: 'ranking', variants: [{ name: 'control', weight: 50 }, { name: 'b', weight: 50 }] };
const THREE: Experiment = {
  name: 'three-way',
  variants: [{ name: 'control', weight: 70 }, { name: 'b', weight: 20 }, { name: 'c', weight: 10 }],
};

describe('assignment', () => {
  const p = Pseudonymiser.fromText('experiment-test-key-0123');

  it('When the same shopper asks again, on any pod, Then they get the same variant', () => {
    const subject = p.pseudonym('u-42');
    const first = variantFor(THREE, subject).variant.name;
    for (let i = 0; i < 10; i++) expect(variantFor(structuredClone(THREE), subject).variant.name).toBe(first);
  });

  it('When 100,000 shoppers are assigned, Then each variant gets its weight within ±2%', () => {
    const seen = new Map<string, number>();
    for (let i = 0; i < 100_000; i++) {
      const v = variantFor(THREE, p.pseudonym(`u-${i}`)).variant.name;
      seen.set(v, (seen.get(v) ?? 0) + 1);
    }
    for (const v of THREE.variants) {
      const share = (seen.get(v.name) ?? 0) / 1000;
      expect(Math.abs(share - v.weight), `${v.name}: ${share}% for weight ${v.weight}%`).toBeLessThanOrEqual(2);
    }
  });

  it('When a shopper is in two experiments, Then the two assignments are independent', () => {
    let same = 0;
    for (let i = 0; i < 10_000; i++) if ((bucketOf('one', `u-${i}`) < 5000) === (bucketOf('two', `u-${i}`) < 5000)) same++;
    expect(same / 10_000).toBeGreaterThan(0.47);
    expect(same / 10_000).toBeLessThan(0.53);
  });

  it('When a variant has weight 0, Then nobody gets it', () => {
    const off: Experiment = { name: 'off', variants: [{ name: 'control', weight: 100 }, { name: 'b', weight: 0 }] };
    for (let i = 0; i < 2000; i++) expect(variantFor(off, `s-${i}`).variant.name).toBe('control');
  });

  it('When experiments name their intents, Then an answer belongs to the first one listed for its intent', () => {
    const up: Experiment = { ...AB, name: 'up', intents: ['up-sell'] };
    expect(experimentFor([up, THREE], 'up-sell')?.name).toBe('up');
    expect(experimentFor([up, THREE], 'cross-sell')?.name).toBe('three-way');
    expect(experimentFor([up], 'personal')).toBeUndefined();
  });
});

describe('recommendation ids', () => {
  it('When an id carries an experiment tag, Then it is a valid UUIDv7 with its time, and the tag reads back', () => {
    const now = Date.parse('2026-11-25T10:00:00.123Z');
    const id = newRecommendationId(now, { fingerprint: fingerprintOf(THREE), variant: 2 });
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(uuidV7Time(id)).toBe(now);
    expect(tagOf(id)).toEqual({ fingerprint: fingerprintOf(THREE), variant: 2 });
    expect(tagOf(newRecommendationId(now))).toBeUndefined();
    expect(tagOf('5f0c2d9e-1a2b-4c3d-8e4f-001122334455')).toBeUndefined();
  });

  it('When many ids are made in the same millisecond, Then they are all different', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newRecommendationId(0)));
    expect(ids.size).toBe(10_000);
  });

  it("When an experiment's variants or weights change, Then its fingerprint changes", () => {
    const reweighted: Experiment = { ...THREE, variants: [{ name: 'control', weight: 60 }, { name: 'b', weight: 30 }, { name: 'c', weight: 10 }] };
    expect(fingerprintOf(reweighted)).not.toBe(fingerprintOf(THREE));
    expect(fingerprintOf(structuredClone(THREE))).toBe(fingerprintOf(THREE));
  });
});

describe('two-proportion z-test', () => {
  it('When given a textbook example (voters for a resolution: Fulton 281 of 473, Gwinnett 214 of 443), Then z = 3.369 and p = 0.00075', () => {
    // The worked example finds z ≈ 3.368 (from rounded proportions) and rejects H0. Cross-check: Pearson's
    // chi-squared of the 2×2 table without continuity correction equals z².
    const t = twoProportionZTest(281, 473, 214, 443);
    expect(t.z).toBeCloseTo(3.369, 3);
    const table = [[281, 192], [214, 229]];
    const n = 916;
    let chi2 = 0;
    for (let r = 0; r < 2; r++) {
      for (let c = 0; c < 2; c++) {
        const expected = ((table[r]![0]! + table[r]![1]!) * (table[0]![c]! + table[1]![c]!)) / n;
        chi2 += (table[r]![c]! - expected) ** 2 / expected;
      }
    }
    expect(t.z ** 2).toBeCloseTo(chi2, 9);
    expect(t.pValue).toBeCloseTo(0.000754, 6);
    expect(t.difference).toBeCloseTo(0.11101, 5);
  });

  it('When given a second textbook example (140 of 200 against 150 of 200), Then z = −1.12 and the interval holds 0', () => {
    const t = twoProportionZTest(140, 200, 150, 200);
    expect(t.z).toBeCloseTo(-1.1198, 3);
    expect(t.pValue).toBeCloseTo(0.2628, 3);
    expect(t.ci[0]).toBeLessThan(0);
    expect(t.ci[1]).toBeGreaterThan(0);
    // Unpooled interval: −0.05 ± 1.96·√(0.7·0.3/200 + 0.75·0.25/200)
    expect(t.ci[0]).toBeCloseTo(-0.05 - 1.959964 * Math.sqrt(0.21 / 200 + 0.1875 / 200), 6);
  });

  it('When the normal quantile and tail are asked for, Then they match the tables', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 6);
    expect(normalQuantile(0.995)).toBeCloseTo(2.575829, 6);
    expect(twoSidedPValue(1.959964)).toBeCloseTo(0.05, 6);
  });

  it('When both samples have no conversions, Then the test says nothing (p = 1) instead of dividing by zero', () => {
    expect(twoProportionZTest(0, 100, 0, 100)).toMatchObject({ z: 0, pValue: 1 });
  });
});

describe('experiment report', () => {
  const counts = (c: [number, number], b: [number, number]): Map<string, VariantCounts> =>
    new Map([
      ['control', { impressions: c[0], clicks: 0, conversions: c[1], revenue: c[1] * 10 }],
      ['b', { impressions: b[0], clicks: 0, conversions: b[1], revenue: b[1] * 10 }],
    ]);

  it('When there are only a few impressions, Then the verdict is "not enough data yet"', () => {
    const r = buildReport(AB, counts([40, 3], [38, 5]));
    expect(r.verdict).toMatch(/^not enough data yet/);
    expect(r.winner).toBeNull();
  });

  it('When the variant converts clearly better, Then "variant b wins at 95%" with its uplift and p-value', () => {
    const r = buildReport(AB, counts([10_000, 400], [10_000, 520]));
    expect(r.verdict).toMatch(/^variant b wins at 95%: it converts 5\.2% against 4\.0% for control, \+30\.0% \(p = /);
    expect(r.winner).toBe('b');
    const b = r.variants[1]!;
    expect(b.conversionRate).toBeCloseTo(0.052);
    expect(b.revenuePerImpression).toBeCloseTo(0.52);
    expect(b.vsControl).toMatchObject({ uplift: expect.closeTo(0.3, 6), significant: true });
    expect(b.vsControl!.ci[0]).toBeGreaterThan(0);
  });

  it('When the difference is within noise, Then the verdict says to keep the experiment running', () => {
    const r = buildReport(AB, counts([5000, 200], [5000, 210]));
    expect(r.verdict).toMatch(/^no significant difference yet at 95%/);
    expect(r.winner).toBeNull();
  });

  it('When every variant converts worse, Then the control wins', () => {
    const r = buildReport(AB, counts([10_000, 520], [10_000, 400]));
    expect(r.verdict).toMatch(/^control wins at 95%/);
    expect(r.winner).toBe('control');
  });

  it('When there are two variants, Then each is tested at the Bonferroni level (p < 0.025 for 95%)', () => {
    const three = new Map([
      ['control', { impressions: 10_000, clicks: 0, conversions: 400, revenue: 0 }],
      ['b', { impressions: 10_000, clicks: 0, conversions: 460, revenue: 0 }],
      ['c', { impressions: 10_000, clicks: 0, conversions: 400, revenue: 0 }],
    ]);
    const r = buildReport(THREE, three);
    const p = r.variants[1]!.vsControl!.pValue;
    expect(p).toBeGreaterThan(0.025);
    expect(p).toBeLessThan(0.05);
    expect(r.winner).toBeNull();
  });
});

describe('experiments file', () => {
  it('When the render writes a bare list of variants, Then it is one experiment named "default"', () => {
    expect(parseExperiments([{ name: 'control', weight: 90 }, { name: 'b', weight: 10, modelVersion: 'v2' }])).toEqual([
      { name: 'default', variants: [{ name: 'control', weight: 90 }, { name: 'b', weight: 10, modelVersion: 'v2' }] },
    ]);
    expect(parseExperiments([])).toEqual([]);
  });

  it.each([
    ['weights that do not sum to 100', { experiments: [{ name: 'x', variants: [{ name: 'a', weight: 50 }, { name: 'b', weight: 40 }] }] }, /sum to 90, not 100/],
    ['a duplicate variant', { experiments: [{ name: 'x', variants: [{ name: 'a', weight: 50 }, { name: 'a', weight: 50 }] }] }, /variant 'a' twice/],
    ['one variant', { experiments: [{ name: 'x', variants: [{ name: 'a', weight: 100 }] }] }, /variants/],
    ['an unknown engine parameter', { experiments: [{ name: 'x', variants: [{ name: 'a', weight: 50, engine: { topK: 3 } }, { name: 'b', weight: 50 }] }] }, /engine/],
    ['an inverted price band', { experiments: [{ name: 'x', variants: [{ name: 'a', weight: 50, engine: { upsellBand: { min: 2, max: 1.5 } } }, { name: 'b', weight: 50 }] }] }, /upsellBand.min/],
  ])('When the file has %s, Then it is refused naming the problem', (_name, input, message) => {
    expect(() => parseExperiments(input)).toThrow(ExperimentsError);
    expect(() => parseExperiments(input)).toThrow(message);
  });
});

describe('experiment counters', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-exp-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('When an event for the same recommendation comes twice, Then it counts once, but revenue adds up', async () => {
    const c = await ExperimentCounters.open(undefined);
    c.impression('ranking', 'b');
    expect(c.credit('ranking', 'b', 'r1', 'conversion', 30)).toBe(true);
    expect(c.credit('ranking', 'b', 'r1', 'conversion', 20)).toBe(false);
    expect(c.credit('ranking', 'b', 'r1', 'click')).toBe(true);
    expect(c.local('ranking').get('b')).toEqual({ impressions: 1, clicks: 1, conversions: 1, revenue: 50 });
  });

  it('When pods save their counts, Then the total adds every pod up, and a restarted pod continues its own', async () => {
    const podA = await ExperimentCounters.open({ dir, writer: 'pod-a' });
    const podB = await ExperimentCounters.open({ dir, writer: 'pod-b' });
    podA.impression('ranking', 'control');
    podA.impression('ranking', 'b');
    podB.impression('ranking', 'b');
    podB.credit('ranking', 'b', 'r9', 'conversion', 12.5);
    await podA.save();
    await podB.save();
    expect((await podA.total('ranking')).get('b')).toEqual({ impressions: 2, clicks: 0, conversions: 1, revenue: 12.5 });
    const restarted = await ExperimentCounters.open({ dir, writer: 'pod-a' });
    restarted.impression('ranking', 'control');
    expect((await restarted.total('ranking')).get('control')).toMatchObject({ impressions: 2 });
  });
});
