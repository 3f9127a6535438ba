/**
 * Scoring: candidate generation for each intent. Pure functions over the catalogue, the bound
 * model and the online counts; no HTTP, no business rules (those run afterwards, see rules/).
 */
import type { EngineConfig } from '../config.js';
import type { Catalog } from './catalog.js';
import { contentNeighbours, contentSimilarity } from './content.js';
import type { HistoryEntry } from './online.js';
import type { ServingModel } from './serving.js';

export interface Candidate {
  idx: number;
  score: number;
  reasons: string[];
}

export interface EngineView {
  readonly catalog: Catalog;
  readonly model: ServingModel;
  readonly cfg: EngineConfig;
}

export interface Scored {
  candidates: Candidate[];
  /** Why the list is short or a fallback, e.g. `unknown_item:sku-9`. */
  notes: string[];
}

const COLD_PROXIES = 3;
const UPSELL_SCAN = 400;

function baskets(m: ServingModel, i: number): number {
  return (i < m.n ? m.a.itemBaskets[i]! : 0) + (m.online.itemBaskets.get(i) ?? 0);
}

function fmt(x: number): string {
  return x >= 10 ? x.toFixed(0) : x.toFixed(1);
}

function topN(acc: Map<number, Candidate>, n: number): Candidate[] {
  const all = [...acc.values()];
  all.sort((x, y) => y.score - x.score || x.idx - y.idx);
  return all.length > n ? all.slice(0, n) : all;
}

/** Buy-basket neighbours of `src` (model top-K plus online pairs) with their shrunk lift. */
function forEachComplement(v: EngineView, src: number, fn: (b: number, lift: number) => void): void {
  const m = v.model;
  const beta = v.cfg.shrinkage;
  const N = m.basketTotal + m.online.baskets;
  if (N <= 0) return;
  const ca = baskets(m, src);
  const online = m.online.pairs.get(src);
  const seen = online ? new Set<number>() : undefined;
  if (src < m.n) {
    const a = m.a;
    for (let q = a.crossOff[src]!; q < a.crossOff[src + 1]!; q++) {
      const b = a.crossNbr[q]!;
      const c = a.crossCo[q]! + (online?.get(b) ?? 0);
      const lift = (c + beta) / ((ca * baskets(m, b)) / N + beta);
      seen?.add(b);
      if (lift > 1) fn(b, lift);
    }
  }
  if (online) {
    for (const [b, extra] of online) {
      if (seen!.has(b)) continue;
      const lift = (extra + beta) / ((ca * baskets(m, b)) / N + beta);
      if (lift > 1) fn(b, lift);
    }
  }
}

/**
 * Cross-sell for a basket: sum over basket items of the shrunk log-lift of each complement.
 * Items of a basket item's category are substitutes, not complements, and are skipped; so
 * are basket items and `exclude`. Cold basket items borrow the complements of their
 * content-nearest warm items.
 */
export function crossSell(v: EngineView, basket: readonly number[], exclude: ReadonlySet<number>, want: number): Candidate[] {
  const { catalog, model: m, cfg } = v;
  const basketSet = new Set(basket);
  const basketCats = new Set(basket.map((i) => catalog.categoryOf[i]!));
  const acc = new Map<number, Candidate>();
  const isWarm = (i: number): boolean => baskets(m, i) >= cfg.coldStartMinBaskets && (i >= m.n || m.a.crossOff[i + 1]! > m.a.crossOff[i]! || m.online.pairs.has(i));
  for (const item of basket) {
    const sources = isWarm(item)
      ? [{ idx: item, sim: 1 }]
      : contentNeighbours(catalog, item, isWarm, COLD_PROXIES);
    for (const { idx: src, sim } of sources) {
      const srcId = catalog.id(src);
      forEachComplement(v, src, (b, lift) => {
        if (basketSet.has(b) || exclude.has(b) || basketCats.has(catalog.categoryOf[b]!)) return;
        const s = Math.log(lift) * sim;
        let c = acc.get(b);
        if (!c) {
          c = { idx: b, score: 0, reasons: [] };
          acc.set(b, c);
        }
        c.score += s;
        if (c.reasons.length < 3) {
          c.reasons.push(
            src === item
              ? `bought_together:${srcId} lift=${fmt(lift)}`
              : `cold_start:similar_to:${srcId} bought_together lift=${fmt(lift)}`,
          );
        }
      });
    }
  }
  return topN(acc, want);
}

/**
 * Up-sell for one item: substitutes (same category, or co-viewed but not co-bought) priced
 * within the configured band above it, ranked by similarity × popularity/conversion plus margin.
 * Never cheaper than the item.
 */
export function upSell(v: EngineView, item: number, exclude: ReadonlySet<number>, want: number): Candidate[] {
  const { catalog, model: m, cfg } = v;
  const price = catalog.price(item);
  const lo = Math.max(price, price * cfg.upsellBand.min);
  const hi = price * cfg.upsellBand.max;
  const coView = new Map<number, number>();
  if (item < m.n) {
    for (let q = m.a.substOff[item]!; q < m.a.substOff[item + 1]!; q++) coView.set(m.a.substNbr[q]!, m.a.substScore[q]!);
  }
  const pool = new Set(catalog.priceRange(catalog.categoryOf[item]!, lo, hi, UPSELL_SCAN));
  for (const b of coView.keys()) pool.add(b);
  const logMax = Math.log1p(m.maxPurchases);
  const id = catalog.id(item);
  const out: Candidate[] = [];
  for (const b of pool) {
    if (b === item || exclude.has(b)) continue;
    const p = catalog.price(b);
    if (p < lo || p > hi || p < price) continue;
    const cv = coView.get(b);
    const coViewSim = cv === undefined ? 0 : cv / (1 + cv);
    const sim = 0.5 * contentSimilarity(catalog, item, b) + 0.5 * coViewSim;
    const purchases = b < m.n ? m.a.itemPurchases[b]! : 0;
    const views = b < m.n ? m.a.itemViews[b]! : 0;
    const pop = logMax > 0 ? Math.log1p(purchases) / logMax : 0;
    const conv = Math.min(1, (purchases + 1) / (views + 5));
    const margin = catalog.items[b]!.margin ?? 0;
    const score = sim * (0.4 + 0.4 * pop + 0.2 * conv) + cfg.marginWeight * margin;
    const reasons = [
      cv === undefined ? `substitute_of:${id}` : `also_viewed:${id} lift=${fmt(Math.exp(cv))}`,
      `price:+${Math.round((p / price - 1) * 100)}%`,
    ];
    out.push({ idx: b, score, reasons });
  }
  out.sort((x, y) => y.score - x.score || x.idx - y.idx);
  return out.length > want ? out.slice(0, want) : out;
}

/** A shopper's recent items (online first, then the trained history). */
export function historyOf(m: ServingModel, userId: string): HistoryEntry[] {
  const out: HistoryEntry[] = [...(m.online.histories.get(userId) ?? [])];
  const u = m.users.get(userId);
  if (u !== undefined) {
    const seen = new Set(out.map((e) => e.item));
    for (let q = m.a.histOff[u]!; q < m.a.histOff[u + 1]!; q++) {
      const item = m.a.histItem[q]!;
      if (seen.has(item)) {
        const e = out.find((x) => x.item === item)!;
        e.bought ||= m.a.histBought[q] === 1;
        continue;
      }
      out.push({ item, weight: m.a.histWeight[q]!, bought: m.a.histBought[q] === 1 });
    }
  }
  return out;
}

/** Items the shopper already bought (from the known history). */
export function boughtBy(m: ServingModel, userId: string | undefined): Set<number> {
  const out = new Set<number>();
  if (!userId) return out;
  for (const e of historyOf(m, userId)) if (e.bought) out.add(e.item);
  return out;
}

/**
 * "You may also like": item-kNN over the shopper's recent history (purchase > cart > view by
 * event weight), excluding what they bought; popular items fill the rest or stand in for an
 * unknown shopper.
 */
export function personal(v: EngineView, userId: string, exclude: ReadonlySet<number>, want: number): Scored {
  const { catalog, model: m } = v;
  const history = historyOf(m, userId);
  const bought = new Set(history.filter((e) => e.bought).map((e) => e.item));
  const acc = new Map<number, Candidate>();
  const notes: string[] = [];
  for (const h of history) {
    if (h.item >= m.n) continue;
    const hid = catalog.id(h.item);
    for (let q = m.a.knnOff[h.item]!; q < m.a.knnOff[h.item + 1]!; q++) {
      const b = m.a.knnNbr[q]!;
      if (bought.has(b) || exclude.has(b)) continue;
      const s = h.weight * m.a.knnSim[q]!;
      let c = acc.get(b);
      if (!c) {
        c = { idx: b, score: 0, reasons: [] };
        acc.set(b, c);
      }
      c.score += s;
      if (c.reasons.length < 3) c.reasons.push(`similar_to:${hid} sim=${m.a.knnSim[q]!.toFixed(2)}`);
    }
  }
  const candidates = topN(acc, want);
  if (history.length === 0) notes.push(`fallback:popularity unknown_user`);
  if (candidates.length < want) {
    const have = new Set(candidates.map((c) => c.idx));
    const minScore = candidates.length ? candidates[candidates.length - 1]!.score : 1;
    const top = m.a.popularity[m.a.popular[0] ?? 0] ?? 1;
    for (const b of m.a.popular) {
      if (candidates.length >= want) break;
      if (have.has(b) || bought.has(b) || exclude.has(b)) continue;
      candidates.push({ idx: b, score: (minScore * 0.5 * m.a.popularity[b]!) / (top || 1), reasons: ['popular'] });
    }
  }
  return { candidates, notes };
}

/** The most popular items (the baseline in evaluation). */
export function popular(v: EngineView, exclude: ReadonlySet<number>, want: number): Candidate[] {
  const out: Candidate[] = [];
  for (const b of v.model.a.popular) {
    if (out.length >= want) break;
    if (exclude.has(b)) continue;
    out.push({ idx: b, score: v.model.a.popularity[b]!, reasons: ['popular'] });
  }
  return out;
}
