/**
 * Offline evaluation with a temporal split: each shopper's last order (and the session that
 * led to it) is held out; the model is trained on everything earlier. Cross-sell is asked
 * for the order's first item and judged against the order's other items; a popularity
 * baseline is judged the same way.
 */
import type { EngineConfig } from './config.js';
import { Catalog } from './engine/catalog.js';
import { EVENT_PURCHASE, EVENT_VIEW, filterEvents, type EventColumns } from './engine/events.js';
import type { ModelData } from './engine/model.js';
import { crossSell, popular, type Candidate, type EngineView } from './engine/score.js';
import { bindModel } from './engine/serving.js';
import { train, type Progress } from './engine/train.js';

/** One shopper's held-out last order and the session that led to it. */
export interface HeldOut {
  user: number;
  /** The order's distinct items, in event order (the first is the query of a cross-sell judgement). */
  basket: number[];
  /** Items viewed in the held-out session before the order, in event order. */
  views: number[];
}

export interface Split {
  train: EventColumns;
  /** Held-out baskets: the query item and the items to find. */
  queries: { context: number; targets: number[] }[];
  heldOut: HeldOut[];
}

export function temporalSplit(ev: EventColumns, sessionGapMinutes: number): Split {
  const U = ev.userIds.length;
  const lastOrder = new Int32Array(U).fill(-1);
  const lastOrderTs = new Float64Array(U).fill(-Infinity);
  for (let i = 0; i < ev.length; i++) {
    if (ev.type[i] !== EVENT_PURCHASE) continue;
    const u = ev.user[i]!;
    if (ev.ts[i]! > lastOrderTs[u]! || (ev.ts[i] === lastOrderTs[u] && ev.order[i]! > lastOrder[u]!)) {
      lastOrderTs[u] = ev.ts[i]!;
      lastOrder[u] = ev.order[i]!;
    }
  }
  // The held-out session starts where the shopper's activity before the order has a gap.
  const byUser: number[][] = Array.from({ length: U }, () => []);
  for (let i = 0; i < ev.length; i++) if (lastOrder[ev.user[i]!]! >= 0) byUser[ev.user[i]!]!.push(i);
  const cut = new Float64Array(U).fill(Infinity);
  const gap = sessionGapMinutes * 60_000;
  const baskets = new Map<number, number[]>();
  const views = new Map<number, number[]>();
  for (let u = 0; u < U; u++) {
    if (lastOrder[u]! < 0) continue;
    const evs = byUser[u]!.sort((a, b) => ev.ts[a]! - ev.ts[b]! || a - b);
    let start = lastOrderTs[u]!;
    for (let j = evs.length - 1; j >= 0; j--) {
      const t = ev.ts[evs[j]!]!;
      if (t > lastOrderTs[u]!) continue;
      if (start - t > gap) break;
      start = t;
    }
    cut[u] = start;
    const seen: number[] = [];
    views.set(u, seen);
    for (const i of evs) {
      if (ev.type[i] === EVENT_PURCHASE && ev.order[i] === lastOrder[u]) {
        const b = baskets.get(u) ?? [];
        if (!b.includes(ev.item[i]!)) b.push(ev.item[i]!);
        baskets.set(u, b);
      } else if (ev.type[i] === EVENT_VIEW && ev.ts[i]! >= start && ev.ts[i]! <= lastOrderTs[u]!) seen.push(ev.item[i]!);
    }
  }
  const trainEv = filterEvents(ev, (i) => ev.ts[i]! < cut[ev.user[i]!]!);
  const heldOut = [...baskets].map(([user, basket]) => ({ user, basket, views: views.get(user)! }));
  const queries = heldOut.filter((h) => h.basket.length >= 2).map((h) => ({ context: h.basket[0]!, targets: h.basket.slice(1) }));
  return { train: trainEv, queries, heldOut };
}

export interface RankMetrics {
  hr10: number;
  ndcg10: number;
  precision5: number;
  coverage: number;
}

function score(lists: { rec: Candidate[]; targets: number[] }[], catalogSize: number): RankMetrics {
  let hits = 0;
  let ndcg = 0;
  let p5 = 0;
  const seen = new Set<number>();
  for (const { rec, targets } of lists) {
    const t = new Set(targets);
    let dcg = 0;
    let hit = false;
    rec.slice(0, 10).forEach((c, rank) => {
      seen.add(c.idx);
      if (t.has(c.idx)) {
        hit = true;
        dcg += 1 / Math.log2(rank + 2);
        if (rank < 5) p5 += 1 / 5;
      }
    });
    let idcg = 0;
    for (let r = 0; r < Math.min(t.size, 10); r++) idcg += 1 / Math.log2(r + 2);
    if (hit) hits++;
    ndcg += idcg > 0 ? dcg / idcg : 0;
  }
  const n = Math.max(lists.length, 1);
  return { hr10: hits / n, ndcg10: ndcg / n, precision5: p5 / n, coverage: seen.size / Math.max(catalogSize, 1) };
}

export interface Evaluation {
  queries: number;
  crossSell: RankMetrics;
  popularity: RankMetrics;
}

/** Trains on the split's training part and scores the held-out baskets. */
export function evaluateSplit(items: Catalog, split: Split, cfg: EngineConfig, progress?: Progress): Evaluation {
  const catalog = Catalog.from(items.items);
  const data: ModelData = train(catalog, split.train, cfg, progress);
  const model = bindModel('eval', data, catalog, cfg.historySize);
  const view: EngineView = { catalog, model, cfg };
  const none = new Set<number>();
  const cross = split.queries.map((q) => ({ rec: crossSell(view, [q.context], none, 10), targets: q.targets }));
  const pop = split.queries.map((q) => ({ rec: popular(view, new Set([q.context]), 10), targets: q.targets }));
  return { queries: split.queries.length, crossSell: score(cross, catalog.size), popularity: score(pop, catalog.size) };
}

/** The offline metrics stored in a model artifact. */
export function offlineMetrics(e: Evaluation): Record<string, number> {
  const r = (x: number): number => Math.round(x * 10_000) / 10_000;
  return {
    queries: e.queries,
    hr10: r(e.crossSell.hr10),
    ndcg10: r(e.crossSell.ndcg10),
    precision5: r(e.crossSell.precision5),
    coverage: r(e.crossSell.coverage),
    popularityHr10: r(e.popularity.hr10),
    popularityNdcg10: r(e.popularity.ndcg10),
  };
}
