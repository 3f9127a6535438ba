/**
 * Scoring: candidate generation for each intent. Pure functions over the catalogue, the bound
 * model and the online counts; no HTTP, no business rules (those run afterwards, see rules/).
 */
import type { EngineConfig } from '../config.js';
import type { Catalog } from './catalog.js';
import { blendRate, complementParams, complementScore, ownRate } from './complements.js';
import { contentNeighbours, contentSimilarity } from './content.js';
import type { HistoryEntry } from './online.js';
import type { ServingModel } from './serving.js';
import { TopK } from './topk.js';

/** Why an engine proposed an item, as data; formatted into reason strings only for items shown. */
export type Why =
  /** Per source item: P̂ (own rate), P̃ (with its neighbours') and p (base rate) of complements.ts. */
  | { kind: 'together'; src: number[]; own: number[]; blend: number[]; base: number[]; cold: number[] }
  | { kind: 'substitute'; of: number; coViewLift: number | undefined; priceRatio: number }
  | { kind: 'similar'; src: number[]; sim: number[]; via: number[] };

export interface Candidate {
  idx: number;
  score: number;
  /** Reasons added as strings (fallbacks, business rules); they follow those of `why`. */
  reasons: string[];
  why?: Why;
  /** `why` formatted, memoised on first use (cached candidates are formatted once). */
  whyText?: string[];
}

/** The reasons `w` stands for, as shown; `ids` names the items it refers to (the catalogue's ids, or a record's). */
export function formatWhy(w: Why, ids: readonly string[]): string[] {
  switch (w.kind) {
    case 'together':
      return w.src.map((s, k) => {
        const rates = `with=${pct(w.own[k]!)} with_similar=${pct(w.blend[k]!)} base=${pct(w.base[k]!)}`;
        return w.cold[k] ? `cold_start:similar_to:${ids[s]!} bought_together ${rates}` : `bought_together:${ids[s]!} ${rates}`;
      });
    case 'substitute':
      return [
        w.coViewLift === undefined ? `substitute_of:${ids[w.of]!}` : `also_viewed:${ids[w.of]!} lift=${fmt(w.coViewLift)}`,
        `price:+${Math.round((w.priceRatio - 1) * 100)}%`,
      ];
    case 'similar':
      return w.src.map((s, k) =>
        w.via[k]! >= 0 ? `cold_start:similar_to:${ids[s]!} via:${ids[w.via[k]!]!} sim=${w.sim[k]!.toFixed(2)}` : `similar_to:${ids[s]!} sim=${w.sim[k]!.toFixed(2)}`,
      );
  }
}

/** All reasons of a candidate: the engine's, then the ones added later. */
export function reasonsOf(c: { reasons: string[]; why?: Why; whyText?: string[] }, catalog: Catalog): string[] {
  if (!c.why) return c.reasons;
  const text = (c.whyText ??= formatWhy(c.why, catalog.ids));
  return c.reasons.length === 0 ? text : [...text, ...c.reasons];
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
/** Same-category items scanned per up-sell, cheapest in the band first. */
const UPSELL_SCAN = 200;

function baskets(m: ServingModel, i: number): number {
  return (i < m.n ? m.a.itemBaskets[i]! : 0) + (m.online.itemBaskets.get(i) ?? 0);
}

function fmt(x: number): string {
  return x >= 10 ? x.toFixed(0) : x.toFixed(1);
}

/** A rate as a percentage with two significant digits: 14%, 1.2%, 0.035%. */
function pct(x: number): string {
  return `${Number((x * 100).toPrecision(2))}%`;
}

function topN(acc: Map<number, Candidate>, n: number): Candidate[] {
  const all: Candidate[] = [...acc.values()];
  all.sort((x, y) => y.score - x.score || x.idx - y.idx);
  return all.length > n ? all.slice(0, n) : all;
}

function isWarmForCross(m: ServingModel, cfg: EngineConfig, i: number): boolean {
  return baskets(m, i) >= cfg.coldStartMinBaskets && ((i < m.n && m.a.crossOff[i + 1]! > m.a.crossOff[i]!) || m.online.pairs.has(i));
}

/** Per-model scratch space so a request allocates nothing per neighbour. Scoring is synchronous. */
interface Scratch {
  score: Float64Array;
  contribs: Uint8Array;
  src: Int32Array;
  own: Float32Array;
  blend: Float32Array;
  base: Float32Array;
  cold: Uint8Array;
  touched: Int32Array;
}
const MAX_REASONS = 3;
const heaps = new Map<number, TopK>();
function heapOf(k: number): TopK {
  let h = heaps.get(k);
  if (!h) {
    h = new TopK(k);
    heaps.set(k, h);
  }
  h.reset();
  return h;
}
const scratchOf = new WeakMap<ServingModel, Scratch>();

function scratch(m: ServingModel, size: number): Scratch {
  let s = scratchOf.get(m);
  if (!s || s.score.length < size) {
    const n = Math.max(size, 16);
    s = {
      score: new Float64Array(n),
      contribs: new Uint8Array(n),
      src: new Int32Array(n * MAX_REASONS),
      own: new Float32Array(n * MAX_REASONS),
      blend: new Float32Array(n * MAX_REASONS),
      base: new Float32Array(n * MAX_REASONS),
      cold: new Uint8Array(n * MAX_REASONS),
      touched: new Int32Array(n),
    };
    scratchOf.set(m, s);
  }
  return s;
}

/**
 * Cross-sell for a basket: the sum over basket items of each complement's score (complements.ts), from the
 * trained lists plus the pairs learnt online. Items of a basket item's category are substitutes, not
 * complements, and are skipped; so are basket items and `exclude`. Cold basket items borrow the
 * complements of their content-nearest warm items, weighted by similarity.
 */
export function crossSell(v: EngineView, basket: readonly number[], exclude: ReadonlySet<number>, want: number): Candidate[] {
  const { catalog, model: m, cfg } = v;
  const sc = scratch(m, catalog.size);
  const basketCats = new Set<number>();
  for (const i of basket) basketCats.add(catalog.categoryOf[i]!);
  const k = complementParams(cfg);
  const N = m.basketTotal + m.online.baskets;
  const a = m.a;
  const cat = catalog.categoryOf;
  let touched = 0;
  const add = (b: number, c: number, ca: number, q: number | undefined, sim: number, src: number, cold: number): void => {
    if (basketCats.has(cat[b]!) || exclude.has(b) || basket.includes(b)) return;
    const cb = baskets(m, b);
    const base = cb / N;
    const rate = q ?? base;
    const score = complementScore(c, ca, cb, N, rate, k);
    if (score === 0) return;
    if (sc.contribs[b] === 0) sc.touched[touched++] = b;
    sc.score[b]! += score * sim;
    const r = sc.contribs[b]!;
    if (r < MAX_REASONS) {
      const at = b * MAX_REASONS + r;
      sc.src[at] = src;
      sc.own[at] = ownRate(c, ca, base, k);
      sc.blend[at] = blendRate(c, ca, rate, k);
      sc.base[at] = base;
      sc.cold[at] = cold;
    }
    sc.contribs[b] = r + 1;
  };
  if (N > 0) {
    for (const item of basket) {
      const warm = isWarmForCross(m, cfg, item);
      const sources = warm ? [{ idx: item, sim: 1 }] : contentNeighbours(catalog, item, (i) => isWarmForCross(m, cfg, i), COLD_PROXIES);
      const cold = warm ? 0 : 1;
      for (const { idx: src, sim } of sources) {
        const ca = baskets(m, src);
        const online = m.online.pairs.get(src);
        if (src < m.n) {
          for (let q = a.crossOff[src]!; q < a.crossOff[src + 1]!; q++) {
            const b = a.crossNbr[q]!;
            const c = a.crossCo[q]! + (online === undefined ? 0 : (online.get(b) ?? 0));
            add(b, c, ca, a.crossPrior[q]!, sim, src, cold);
          }
        }
        if (online !== undefined) {
          // Pairs learnt online that the model does not list for `src` (no neighbours' rate: q = p).
          const listed = new Set<number>();
          if (src < m.n) for (let q = a.crossOff[src]!; q < a.crossOff[src + 1]!; q++) listed.add(a.crossNbr[q]!);
          for (const [b, extra] of online) if (!listed.has(b)) add(b, extra, ca, undefined, sim, src, cold);
        }
      }
    }
  }
  const heap = heapOf(want);
  for (let t = 0; t < touched; t++) {
    const b = sc.touched[t]!;
    heap.push(b, sc.score[b]!, 0);
  }
  const out: Candidate[] = [];
  for (const j of heap.order()) {
    const b = heap.idx[j]!;
    const q0 = b * MAX_REASONS;
    const n = Math.min(sc.contribs[b]!, MAX_REASONS);
    // Arrays of exactly n entries: candidates live in the cache, and a pushed-to array keeps room for 17.
    const why: Why = {
      kind: 'together',
      src: new Array<number>(n),
      own: new Array<number>(n),
      blend: new Array<number>(n),
      base: new Array<number>(n),
      cold: new Array<number>(n),
    };
    for (let r = 0; r < n; r++) {
      why.src[r] = sc.src[q0 + r]!;
      why.own[r] = sc.own[q0 + r]!;
      why.blend[r] = sc.blend[q0 + r]!;
      why.base[r] = sc.base[q0 + r]!;
      why.cold[r] = sc.cold[q0 + r]!;
    }
    out.push({ idx: b, score: sc.score[b]!, reasons: [], why });
  }
  for (let t = 0; t < touched; t++) {
    const b = sc.touched[t]!;
    sc.score[b] = 0;
    sc.contribs[b] = 0;
  }
  return out;
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
    const margin = catalog.margins[b]!;
    const score = sim * (0.4 + 0.4 * pop + 0.2 * conv) + cfg.marginWeight * margin;
    out.push({ idx: b, score, reasons: [], why: { kind: 'substitute', of: item, coViewLift: cv === undefined ? undefined : Math.exp(cv), priceRatio: p / price } });
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
  const m = v.model;
  const history = historyOf(m, userId);
  const bought = new Set(history.filter((e) => e.bought).map((e) => e.item));
  const acc = new Map<number, Candidate & { why: Extract<Why, { kind: 'similar' }> }>();
  const notes: string[] = [];
  const hasKnn = (i: number): boolean => i < m.n && m.a.knnOff[i + 1]! > m.a.knnOff[i]!;
  for (const h of history) {
    // A history item without neighbours (new or rarely seen) borrows those of its content-nearest items.
    const sources = hasKnn(h.item) ? [{ idx: h.item, sim: 1 }] : contentNeighbours(v.catalog, h.item, hasKnn, COLD_PROXIES);
    for (const src of sources) {
      for (let q = m.a.knnOff[src.idx]!; q < m.a.knnOff[src.idx + 1]!; q++) {
        const b = m.a.knnNbr[q]!;
        if (b === h.item || bought.has(b) || exclude.has(b)) continue;
        const sim = m.a.knnSim[q]! * src.sim;
        let c = acc.get(b);
        if (!c) {
          c = { idx: b, score: 0, reasons: [], why: { kind: 'similar', src: [], sim: [], via: [] } };
          acc.set(b, c);
        }
        c.score += h.weight * sim;
        if (c.why.src.length < MAX_REASONS) {
          c.why.src.push(h.item);
          c.why.sim.push(sim);
          c.why.via.push(src.idx === h.item ? -1 : src.idx);
        }
      }
    }
  }
  const candidates = topN(acc, want);
  for (const c of candidates) {
    const w = c.why as Extract<Why, { kind: 'similar' }>;
    c.why = { kind: 'similar', src: w.src.slice(), sim: w.sim.slice(), via: w.via.slice() }; // exact sizes, as above
  }
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
