import { describe, expect, it } from 'vitest';
import { csr, runPeer, type PeerRequest } from '../src/evaluate-peer.js';

// Two clusters of items bought together: {0, 1, 2} and {3, 4, 5}; shoppers 0–1 like the first, 2–3 the second.
const baskets = [
  [0, 1, 2],
  [0, 1],
  [1, 2],
  [0, 2],
  [3, 4, 5],
  [3, 4],
  [4, 5],
  [3, 5],
];
const users = [
  [0, 1],
  [1, 2],
  [3, 4],
  [4, 5],
];

describe('the peer, PyPI implicit in its virtual environment', () => {
  it('When a sparse matrix is built from rows, Then it is CSR with one offset per row', () => {
    expect(csr([[[2, 1]], [], [[0, 3], [1, 4]]])).toEqual({ indptr: [0, 1, 1, 3], indices: [2, 0, 1], data: [1, 3, 4] });
  });

  it('When the peer is fitted on a tiny shop, Then the real library answers every query, never with the query item, and keeps clusters apart', async () => {
    const req: PeerRequest = {
      items: 6,
      n: 3,
      threads: 1,
      seed: 0,
      baskets: csr(baskets.map((b) => b.map((i) => [i, 1] as const))),
      users: csr(users.map((u) => u.map((i) => [i, 5] as const))),
      als: { baskets: { factors: 4, iterations: 5, regularization: 0.1, alpha: 10 }, users: { factors: 4, iterations: 5, regularization: 0.1, alpha: 10 } },
      knn: { baskets: { K: 5, K1: 1.2, B: 0.75 }, users: { K: 5, K1: 1.2, B: 0.75 } },
      similar: [0, 4],
      userSimilar: [5],
      recommend: [0, 2],
    };
    const a = await runPeer(req);
    expect(a.implicit).toBe('0.7.3');
    for (const m of ['bm25', 'cosine'] as const) {
      expect(a.similar[m].map((l) => l.slice(0, 2).sort())).toEqual([
        [1, 2],
        [3, 5],
      ]);
      expect(a.userSimilar[m][0]![0]).toBe(4);
    }
    expect(a.similar.als).toHaveLength(2);
    expect(a.similar.als[0]).not.toContain(0);
    // Lists keep what the shopper already has (Tandem's filters run on every method alike): shopper 0 has 0 and 1.
    expect([...a.recommend.bm25[0]!].sort()).toEqual([0, 1, 2]);
    expect([...a.recommend.bm25[1]!].sort()).toEqual([3, 4, 5]);
    expect(Object.keys(a.fitSeconds).sort()).toEqual(['baskets:als', 'baskets:bm25', 'baskets:cosine', 'users:als', 'users:bm25', 'users:cosine']);
  }, 300_000);
});
