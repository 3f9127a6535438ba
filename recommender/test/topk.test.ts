import { describe, expect, it } from 'vitest';
import { TopK } from '../src/engine/topk.js';
import { mulberry32 } from '../src/prng.js';

describe('TopK', () => {
  it.each([1, 5, 50])('When 1000 random scores are pushed into a top-%i heap, Then it keeps the best, best first', (k) => {
    const rng = mulberry32(k);
    const heap = new TopK(k);
    const scores = Array.from({ length: 1000 }, () => rng());
    scores.forEach((s, i) => heap.push(i, s, i * 2));
    const got = heap.order().map((j) => [heap.idx[j], heap.score[j], heap.extra[j]]);
    const want = scores.map((s, i) => [i, s, i * 2]).sort((a, b) => b[1]! - a[1]!).slice(0, k);
    expect(got).toEqual(want);
  });
});
