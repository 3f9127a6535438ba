import { describe, expect, it } from 'vitest';
import { coverage, hitRate, ndcg, recallAt, shareOf, type Judged } from '../src/evaluate-metrics.js';

// Two queries, worked by hand:
//   q0 shows [5, 1, 7, 2]; its targets are {1, 2, 9}: hits at ranks 2 and 4.
//   q1 shows [3, 4];       its target is {8}: no hit.
const lists: Judged[] = [
  { list: [5, 1, 7, 2], targets: [1, 2, 9] },
  { list: [3, 4], targets: [8] },
];

describe('offline metrics, against hand-computed values', () => {
  it('When one of two queries has a target in its first 10, Then HR@10 is 1/2; in its first 1, 0', () => {
    expect(hitRate(lists, 10)).toBe(0.5);
    expect(hitRate(lists, 1)).toBe(0);
  });

  it('When hits sit at ranks 2 and 4 of three targets, Then NDCG@10 is (1/log2 3 + 1/log2 5) / (1 + 1/log2 3 + 1/2), halved over two queries', () => {
    const dcg = 1 / Math.log2(3) + 1 / Math.log2(5);
    const ideal = 1 + 1 / Math.log2(3) + 1 / Math.log2(4);
    expect(ndcg(lists, 10)).toBeCloseTo(dcg / ideal / 2, 12);
    // Cut at 2: one hit at rank 2; the ideal list of 2 holds 2 targets.
    expect(ndcg(lists, 2)).toBeCloseTo(1 / Math.log2(3) / (1 + 1 / Math.log2(3)) / 2, 12);
  });

  it('When two of three targets are in the first 5 and none of one, Then recall@5 is (2/3 + 0) / 2; at 2, (1/3) / 2', () => {
    expect(recallAt(lists, 5)).toBeCloseTo(1 / 3, 12);
    expect(recallAt(lists, 2)).toBeCloseTo(1 / 6, 12);
  });

  it('When 2 of the 6 items shown are noise, Then the noise share is 1/3, counted over items shown, not slots', () => {
    const noise = new Set([7, 4]);
    expect(shareOf(lists, 10, (i) => noise.has(i))).toBeCloseTo(1 / 3, 12);
    expect(shareOf(lists, 1, (i) => noise.has(i))).toBe(0);
    expect(shareOf([], 10, () => true)).toBe(0);
  });

  it('When a validity rule depends on the query, Then it is asked with the query’s index', () => {
    const seen: number[] = [];
    shareOf(lists, 10, (_, q) => (seen.push(q), true));
    expect(seen).toEqual([0, 0, 0, 0, 1, 1]);
  });

  it('When 6 distinct items are shown from a catalogue of 20, Then coverage is 0.3; repeats count once', () => {
    expect(coverage(lists, 10, 20)).toBe(0.3);
    expect(coverage([...lists, ...lists], 10, 20)).toBe(0.3);
    expect(coverage(lists, 1, 20)).toBe(0.1);
  });
});
