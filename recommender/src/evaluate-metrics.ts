/**
 * Offline ranking metrics over judged lists (pure). A judged list is what a method showed for one query,
 * best first, and the items the query's truth holds. Every metric averages over queries, except the
 * shares, which count over all items shown.
 */

export interface Judged {
  /** What the method showed, best first (already filtered and cut). */
  list: readonly number[];
  /** The query's truth: the held-out basket's other items, or the planted accessories. */
  targets: readonly number[];
}

function mean(xs: readonly Judged[], f: (j: Judged) => number): number {
  if (xs.length === 0) return 0;
  let s = 0;
  for (const j of xs) s += f(j);
  return s / xs.length;
}

/** HR@k: the share of queries with at least one target in the first k. */
export function hitRate(lists: readonly Judged[], k: number): number {
  return mean(lists, (j) => (j.list.slice(0, k).some((i) => j.targets.includes(i)) ? 1 : 0));
}

/** NDCG@k with binary gains: Σ 1/log2(rank+1) over hits, over the same sum for the best possible list. */
export function ndcg(lists: readonly Judged[], k: number): number {
  return mean(lists, (j) => {
    const t = new Set(j.targets);
    let dcg = 0;
    j.list.slice(0, k).forEach((i, r) => {
      if (t.has(i)) dcg += 1 / Math.log2(r + 2);
    });
    let ideal = 0;
    for (let r = 0; r < Math.min(t.size, k); r++) ideal += 1 / Math.log2(r + 2);
    return ideal > 0 ? dcg / ideal : 0;
  });
}

/** Recall@k: the share of each query's targets found in the first k, averaged over queries. */
export function recallAt(lists: readonly Judged[], k: number): number {
  return mean(lists, (j) => {
    const t = new Set(j.targets);
    if (t.size === 0) return 0;
    let found = 0;
    for (const i of j.list.slice(0, k)) if (t.has(i)) found++;
    return found / t.size;
  });
}

/** The share of all items shown in the first k that satisfy `is` (e.g. noise items; valid up-sells). */
export function shareOf(lists: readonly Judged[], k: number, is: (item: number, query: number) => boolean): number {
  let shown = 0;
  let yes = 0;
  lists.forEach((j, q) => {
    for (const i of j.list.slice(0, k)) {
      shown++;
      if (is(i, q)) yes++;
    }
  });
  return shown === 0 ? 0 : yes / shown;
}

/** Catalogue coverage: distinct items shown in the first k of any list, over the catalogue's size. */
export function coverage(lists: readonly Judged[], k: number, catalogSize: number): number {
  const seen = new Set<number>();
  for (const j of lists) for (const i of j.list.slice(0, k)) seen.add(i);
  return catalogSize > 0 ? seen.size / catalogSize : 0;
}
