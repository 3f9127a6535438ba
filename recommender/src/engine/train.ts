/**
 * Training: events → baskets (orders, abandoned carts, view sessions) → decayed co-occurrence
 * → top-K neighbour lists per item. Pure: no I/O. Pair expansion walks item → baskets → items
 * with a dense accumulator, so it costs Σ basket² and never stores a pair table. Complements take
 * two passes: each item's own co-bought list first, then the lists blended with its substitutes'
 * (see complements.ts for the maths).
 */
import type { EngineConfig } from '../config.js';
import type { CatalogItem } from '../schemas.js';
import type { Catalog } from './catalog.js';
import { EVENT_CART, EVENT_PURCHASE, EVENT_VIEW, type EventColumns } from './events.js';
import { complementParams, complementScore, neighbourRate } from './complements.js';
import type { ModelArrays, ModelData } from './model.js';
import { TopK } from './topk.js';

export type Progress = (stage: string, done: number, total: number) => void;

const DAY_MS = 86_400_000;
const POPULAR_SIZE = 1000;

class IntList {
  data: Int32Array;
  length = 0;
  constructor(cap = 1024) {
    this.data = new Int32Array(cap);
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const d = new Int32Array(this.data.length * 2);
      d.set(this.data);
      this.data = d;
    }
    this.data[this.length++] = v;
  }
  toArray(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

class FloatList {
  data: Float32Array;
  length = 0;
  constructor(cap = 1024) {
    this.data = new Float32Array(cap);
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const d = new Float32Array(this.data.length * 2);
      d.set(this.data);
      this.data = d;
    }
    this.data[this.length++] = v;
  }
  toArray(): Float32Array {
    return this.data.slice(0, this.length);
  }
}

/** Rows of items (baskets or shopper vectors) with one weight per entry. */
interface Rows {
  off: Int32Array;
  items: Int32Array;
  weight: Float32Array;
  count: number;
}

class RowsBuilder {
  private readonly off = new IntList();
  private readonly items = new IntList();
  private readonly weight = new FloatList();
  private readonly stamp: Int32Array;
  private rowId = 0;
  constructor(n: number, private readonly maxSize: number) {
    this.off.push(0);
    this.stamp = new Int32Array(n).fill(-1);
  }
  /** Adds a row from `src[a..b)` (deduplicated, capped), each entry weighted `w`. */
  add(src: ArrayLike<number>, a: number, b: number, w: number | ((j: number) => number)): void {
    if (b <= a) return;
    const id = this.rowId;
    let size = 0;
    for (let j = a; j < b && size < this.maxSize; j++) {
      const it = src[j]!;
      if (this.stamp[it] === id) continue;
      this.stamp[it] = id;
      this.items.push(it);
      this.weight.push(typeof w === 'number' ? w : w(j));
      size++;
    }
    if (size === 0) return;
    this.off.push(this.items.length);
    this.rowId++;
  }
  build(): Rows {
    return { off: this.off.toArray(), items: this.items.toArray(), weight: this.weight.toArray(), count: this.rowId };
  }
}

/**
 * Adds to `acc[b]` the weight of every row (order, session) that holds both `a` and `b` (with `product`, the
 * product of a's and b's weights in it), recording each newly touched `b` in `touched`; returns how many were
 * touched (so the caller can reset them).
 */
function coOccurrences(a: number, rows: Rows, inv: Inverted, acc: Float64Array, touched: Int32Array, product = false): number {
  let t = 0;
  for (let p = inv.off[a]!; p < inv.off[a + 1]!; p++) {
    const q0 = inv.pos[p]!;
    const r = inv.rowOf[q0]!;
    const w = rows.weight[q0]!;
    for (let q = rows.off[r]!; q < rows.off[r + 1]!; q++) {
      const b = rows.items[q]!;
      if (b === a) continue;
      if (acc[b] === 0) touched[t++] = b;
      acc[b]! += product ? w * rows.weight[q]! : w;
    }
  }
  return t;
}

/**
 * BM25-weighs shoppers' item weights in place (as PyPI implicit's BM25Recommender does): a shopper with
 * many items says less about each (idf = ln n − ln(1 + items)), an item's weight saturates (k1) and is
 * normalised by how much it is bought overall (b). Item-kNN similarity is then the dot product.
 */
function bm25Weigh(rows: Rows, n: number, k1: number, b: number): void {
  const itemSum = new Float64Array(n);
  for (let q = 0; q < rows.items.length; q++) itemSum[rows.items[q]!]! += rows.weight[q]!;
  let items = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    if (itemSum[i]! > 0) {
      items++;
      total += itemSum[i]!;
    }
  }
  const avg = items > 0 ? total / items : 1;
  for (let r = 0; r < rows.count; r++) {
    const idf = Math.max(0, Math.log(n) - Math.log1p(rows.off[r + 1]! - rows.off[r]!));
    for (let q = rows.off[r]!; q < rows.off[r + 1]!; q++) {
      const x = rows.weight[q]!;
      const norm = 1 - b + (b * itemSum[rows.items[q]!]!) / avg;
      rows.weight[q] = ((x * (k1 + 1)) / (k1 * norm + x)) * idf;
    }
  }
}

/**
 * What the item-kNN dot product of a and b would be by chance: if every shopper spread their weight L_u over
 * items in proportion to the items' total weights s_i (S = Σ s_i), E[a·b] = s_a·s_b·Σ_u L_u² / S². Returns
 * s and Σ_u L_u² / S², so the chance of a pair is `scale · s[a] · s[b]`.
 */
function chanceOf(rows: Rows, n: number): { mass: Float64Array; scale: number } {
  const mass = new Float64Array(n);
  let squares = 0;
  let total = 0;
  for (let r = 0; r < rows.count; r++) {
    let L = 0;
    for (let q = rows.off[r]!; q < rows.off[r + 1]!; q++) {
      mass[rows.items[q]!]! += rows.weight[q]!;
      L += rows.weight[q]!;
    }
    squares += L * L;
    total += L;
  }
  return { mass, scale: total > 0 ? squares / (total * total) : 0 };
}

interface Csr {
  off: Int32Array;
  nbr: Int32Array;
  co: Float32Array;
}

/**
 * Pass 2: for each item a, the candidates of its own list and of its first `cfg.neighbours` substitutes'
 * lists, scored by complementScore with q_ab from those substitutes; the top K are kept with c_ab and q_ab.
 */
function complementLists(
  catalog: Catalog,
  own: Csr,
  subst: { off: Int32Array; nbr: Int32Array },
  cb: Float64Array,
  N: number,
  cfg: EngineConfig,
): Csr & { prior: Float32Array } {
  const n = catalog.size;
  const cat = catalog.categoryOf;
  const k = complementParams(cfg);
  const coOwn = new Float64Array(n);
  const coNbr = new Float64Array(n);
  const rate = new Float64Array(n);
  const seen = new Uint8Array(n);
  const touched = new Int32Array(n);
  const heap = new TopK(cfg.topK);
  const off = new Int32Array(n + 1);
  const nbr = new IntList(n * Math.min(cfg.topK, 16));
  const co = new FloatList(n * Math.min(cfg.topK, 16));
  const prior = new FloatList(n * Math.min(cfg.topK, 16));
  for (let a = 0; a < n; a++) {
    let t = 0;
    for (let q = own.off[a]!; q < own.off[a + 1]!; q++) {
      const b = own.nbr[q]!;
      coOwn[b] = own.co[q]!;
      seen[b] = 1;
      touched[t++] = b;
    }
    let basketsOfNeighbours = 0;
    for (let q = subst.off[a]!, m = 0; q < subst.off[a + 1]! && m < cfg.neighbours; q++) {
      const s = subst.nbr[q]!;
      if (s === a) continue;
      m++;
      basketsOfNeighbours += cb[s]!;
      for (let r = own.off[s]!; r < own.off[s + 1]!; r++) {
        const b = own.nbr[r]!;
        if (b === a || cat[b] === cat[a]) continue;
        coNbr[b]! += own.co[r]!;
        if (seen[b] === 0) {
          seen[b] = 1;
          touched[t++] = b;
        }
      }
    }
    heap.reset();
    for (let j = 0; j < t; j++) {
      const b = touched[j]!;
      const p = cb[b]! / N;
      const q = basketsOfNeighbours > 0 ? neighbourRate(coNbr[b]!, basketsOfNeighbours, p, k.beta2) : p;
      const score = complementScore(coOwn[b]!, cb[a]!, cb[b]!, N, q, k);
      if (score === 0) continue;
      rate[b] = q;
      heap.push(b, score, coOwn[b]!);
    }
    for (const j of heap.order()) {
      const b = heap.idx[j]!;
      nbr.push(b);
      co.push(heap.extra[j]!);
      prior.push(rate[b]!);
    }
    off[a + 1] = nbr.length;
    for (let j = 0; j < t; j++) {
      const b = touched[j]!;
      coOwn[b] = 0;
      coNbr[b] = 0;
      seen[b] = 0;
    }
  }
  return { off, nbr: nbr.toArray(), co: co.toArray(), prior: prior.toArray() };
}

interface Inverted {
  off: Int32Array;
  pos: Int32Array;
  rowOf: Int32Array;
}

function invert(rows: Rows, n: number): Inverted {
  const off = new Int32Array(n + 1);
  for (let q = 0; q < rows.items.length; q++) off[rows.items[q]! + 1]!++;
  for (let i = 0; i < n; i++) off[i + 1]! += off[i]!;
  const cursor = off.slice(0, n);
  const pos = new Int32Array(rows.items.length);
  const rowOf = new Int32Array(rows.items.length);
  for (let r = 0; r < rows.count; r++) {
    for (let q = rows.off[r]!; q < rows.off[r + 1]!; q++) {
      rowOf[q] = r;
      pos[cursor[rows.items[q]!]!++] = q;
    }
  }
  return { off, pos, rowOf };
}

/** Sums the row weight of every row containing each item. */
function itemTotals(rows: Rows, n: number): { perItem: Float64Array; total: number } {
  const perItem = new Float64Array(n);
  let total = 0;
  for (let r = 0; r < rows.count; r++) {
    const a = rows.off[r]!;
    total += rows.weight[a]!;
    for (let q = a; q < rows.off[r + 1]!; q++) perItem[rows.items[q]!]! += rows.weight[q]!;
  }
  return { perItem, total };
}

/** Sorts the event indexes of each user by time, via a counting sort on users. */
function eventsByUser(ev: EventColumns): { off: Int32Array; idx: Int32Array } {
  const U = ev.userIds.length;
  const off = new Int32Array(U + 1);
  for (let i = 0; i < ev.length; i++) off[ev.user[i]! + 1]!++;
  for (let u = 0; u < U; u++) off[u + 1]! += off[u]!;
  const cursor = off.slice(0, U);
  const idx = new Int32Array(ev.length);
  for (let i = 0; i < ev.length; i++) idx[cursor[ev.user[i]!]!++] = i;
  for (let u = 0; u < U; u++) {
    const a = off[u]!;
    const b = off[u + 1]!;
    let sorted = true;
    for (let j = a + 1; j < b; j++) if (ev.ts[idx[j]!]! < ev.ts[idx[j - 1]!]!) sorted = false;
    if (!sorted) {
      const slice = Array.from(idx.subarray(a, b)).sort((x, y) => ev.ts[x]! - ev.ts[y]! || x - y);
      idx.set(slice, a);
    }
  }
  return { off, idx };
}

export function train(catalog: Catalog, ev: EventColumns, cfg: EngineConfig, progress: Progress = () => {}): ModelData {
  const n = catalog.size;
  const U = ev.userIds.length;
  const beta = cfg.shrinkage;
  const K = cfg.topK;
  let tMin = Infinity;
  let tMax = -Infinity;
  for (let i = 0; i < ev.length; i++) {
    const t = ev.ts[i]!;
    if (t < tMin) tMin = t;
    if (t > tMax) tMax = t;
  }
  if (ev.length === 0) tMin = tMax = 0;
  const lambda = Math.LN2 / (cfg.halfLifeDays * DAY_MS);
  // Decay weights are divided by their mean over all events, so decayed counts stay in basket units
  // (the priors β, β₂ and the significance test are in baskets, however old the history).
  let decaySum = 0;
  for (let i = 0; i < ev.length; i++) decaySum += Math.exp(-lambda * (tMax - ev.ts[i]!));
  const meanDecay = ev.length > 0 ? decaySum / ev.length : 1;
  const decay = (t: number): number => Math.exp(-lambda * (tMax - t)) / meanDecay;
  const gapMs = cfg.sessionGapMinutes * 60_000;
  const wOf = [cfg.eventWeights.view, cfg.eventWeights.add_to_cart, cfg.eventWeights.purchase];

  progress('sessions', 0, 1);
  const byUser = eventsByUser(ev);

  // Orders: purchases grouped by order.
  const O = ev.orderCount;
  const orderOff = new Int32Array(O + 1);
  let purchases = 0;
  for (let i = 0; i < ev.length; i++) {
    if (ev.type[i] === EVENT_PURCHASE && ev.order[i]! >= 0) {
      orderOff[ev.order[i]! + 1]!++;
      purchases++;
    }
  }
  for (let o = 0; o < O; o++) orderOff[o + 1]! += orderOff[o]!;
  const orderCursor = orderOff.slice(0, O);
  const orderItems = new Int32Array(purchases);
  const orderTs = new Float64Array(O);
  for (let i = 0; i < ev.length; i++) {
    if (ev.type[i] === EVENT_PURCHASE && ev.order[i]! >= 0) {
      const o = ev.order[i]!;
      orderItems[orderCursor[o]!++] = ev.item[i]!;
      if (ev.ts[i]! > orderTs[o]!) orderTs[o] = ev.ts[i]!;
    }
  }
  const buy = new RowsBuilder(n, cfg.maxBasketSize);
  let orders = 0;
  for (let o = 0; o < O; o++) {
    if (orderOff[o + 1]! > orderOff[o]!) {
      buy.add(orderItems, orderOff[o]!, orderOff[o + 1]!, decay(orderTs[o]!));
      orders++;
    }
  }

  // Sessions per shopper: abandoned carts (buy signal), view sessions (substitute signal), histories.
  const view = new RowsBuilder(n, cfg.maxBasketSize);
  const userVec = new RowsBuilder(n, cfg.knnHistory);
  const histOff = new IntList(U + 1);
  const histItem = new IntList();
  const histWeight = new FloatList();
  const histBought = new IntList();
  histOff.push(0);
  const sessItems = new Int32Array(Math.max(16, cfg.maxBasketSize * 8));
  const histW = new Map<number, { w: number; bought: boolean; last: number }>();
  const userItemsRev = new Int32Array(cfg.knnHistory);
  const userItemsW = new Float64Array(cfg.knnHistory);
  let cartSessions = 0;
  let viewSessions = 0;
  const counts = { views: 0, carts: 0, purchases };
  for (let i = 0; i < ev.length; i++) {
    if (ev.type[i] === EVENT_VIEW) counts.views++;
    else if (ev.type[i] === EVENT_CART) counts.carts++;
  }
  for (let u = 0; u < U; u++) {
    const a = byUser.off[u]!;
    const b = byUser.off[u + 1]!;
    for (const type of [EVENT_CART, EVENT_VIEW]) {
      let len = 0;
      let lastT = -Infinity;
      let ordered = false;
      const flush = (): void => {
        const abandoned = !ordered;
        ordered = false;
        if (len === 0) return;
        if (type === EVENT_CART) {
          // A cart that became an order is that order's basket already; an abandoned one is a basket of its own.
          if (cfg.cartSessionWeight > 0 && abandoned) {
            buy.add(sessItems, 0, len, decay(lastT) * cfg.cartSessionWeight);
            cartSessions++;
          }
        } else {
          view.add(sessItems, 0, len, decay(lastT));
          viewSessions++;
        }
        len = 0;
      };
      for (let j = a; j < b; j++) {
        const i = byUser.idx[j]!;
        if (type === EVENT_CART && ev.type[i] === EVENT_PURCHASE && len > 0 && ev.ts[i]! - lastT <= gapMs) ordered = true;
        if (ev.type[i] !== type) continue;
        if (ev.ts[i]! - lastT > gapMs) flush();
        if (len < sessItems.length) sessItems[len++] = ev.item[i]!;
        lastT = ev.ts[i]!;
      }
      flush();
    }
    // Shopper vector for item-kNN (most recent distinct items, weight = the sum of their event weights) and history.
    histW.clear();
    let vecLen = 0;
    for (let j = b - 1; j >= a; j--) {
      const i = byUser.idx[j]!;
      const item = ev.item[i]!;
      const type = ev.type[i]!;
      const w = wOf[type]!;
      let h = histW.get(item);
      if (!h) {
        if (histW.size >= cfg.historySize && vecLen >= cfg.knnHistory) continue;
        h = { w: 0, bought: false, last: vecLen };
        histW.set(item, h);
        if (vecLen < cfg.knnHistory) {
          userItemsRev[vecLen] = item;
          userItemsW[vecLen] = 0;
          vecLen++;
        }
      }
      h.w += w * decay(ev.ts[i]!);
      if (type === EVENT_PURCHASE) h.bought = true;
      if (h.last < vecLen && userItemsRev[h.last] === item) userItemsW[h.last]! += w;
    }
    userVec.add(userItemsRev, 0, vecLen, (q) => userItemsW[q]!);
    let kept = 0;
    for (const [item, h] of histW) {
      if (kept >= cfg.historySize) break;
      histItem.push(item);
      histWeight.push(h.w);
      histBought.push(h.bought ? 1 : 0);
      kept++;
    }
    histOff.push(histItem.length);
    if ((u & 0xffff) === 0) progress('sessions', u, U);
  }
  progress('sessions', U, U);

  const buyRows = buy.build();
  const viewRows = view.build();
  const vecRows = userVec.build();
  const buyTot = itemTotals(buyRows, n);
  const viewTot = itemTotals(viewRows, n);
  const buyInv = invert(buyRows, n);
  const viewInv = invert(viewRows, n);
  const vecInv = invert(vecRows, n);
  bm25Weigh(vecRows, n, cfg.bm25.k1, cfg.bm25.b);
  const chance = chanceOf(vecRows, n);
  const chanceScale = cfg.knnChance * chance.scale;

  const accBuy = new Float64Array(n);
  const accView = new Float64Array(n);
  const accKnn = new Float64Array(n);
  const touchedBuy = new Int32Array(n);
  const touchedView = new Int32Array(n);
  const touchedKnn = new Int32Array(n);
  const ownOff = new Int32Array(n + 1);
  const substOff = new Int32Array(n + 1);
  const knnOff = new Int32Array(n + 1);
  const ownNbr = new IntList(n * Math.min(K, 16));
  const ownCo = new FloatList(n * Math.min(K, 16));
  const substNbr = new IntList(n * Math.min(K, 16));
  const substScore = new FloatList(n * Math.min(K, 16));
  const knnNbr = new IntList(n * Math.min(K, 16));
  const knnSim = new FloatList(n * Math.min(K, 16));
  const heap = new TopK(K);
  const cat = catalog.categoryOf;
  const cb = buyTot.perItem;
  const N = buyTot.total;
  const NV = viewTot.total;

  // Pass 1: each item's own co-bought list (other categories, more often together than apart would
  // predict) and its substitutes (co-viewed more than co-bought).
  for (let a = 0; a < n; a++) {
    const tb = coOccurrences(a, buyRows, buyInv, accBuy, touchedBuy);
    const tv = coOccurrences(a, viewRows, viewInv, accView, touchedView);

    const ca = cb[a]!;
    heap.reset();
    for (let t = 0; t < tb; t++) {
      const b = touchedBuy[t]!;
      if (cat[b] === cat[a]) continue;
      const excess = accBuy[b]! - (ca * cb[b]!) / N;
      if (excess > 0) heap.push(b, excess, accBuy[b]!);
    }
    for (const j of heap.order()) {
      ownNbr.push(heap.idx[j]!);
      ownCo.push(heap.extra[j]!);
    }
    ownOff[a + 1] = ownNbr.length;

    const va = viewTot.perItem[a]!;
    heap.reset();
    for (let t = 0; t < tv; t++) {
      const b = touchedView[t]!;
      const s = Math.log((accView[b]! + beta) / ((va * viewTot.perItem[b]!) / NV + beta));
      if (s <= 0) continue;
      const sb = Math.log((accBuy[b]! + beta) / ((ca * cb[b]!) / N + beta));
      if (sb > s) continue; // bought together more than viewed together: a complement, not a substitute
      heap.push(b, s, 0);
    }
    for (const j of heap.order()) {
      substNbr.push(heap.idx[j]!);
      substScore.push(heap.score[j]!);
    }
    substOff[a + 1] = substNbr.length;

    for (let t = 0; t < tb; t++) accBuy[touchedBuy[t]!] = 0;
    for (let t = 0; t < tv; t++) accView[touchedView[t]!] = 0;
    if ((a & 0x3fff) === 0) progress('neighbours', a, n);
  }
  progress('neighbours', n, n);

  // "You may also like": each item's item-kNN neighbours (a stage of its own, so its cost shows).
  for (let a = 0; a < n; a++) {
    const tk = coOccurrences(a, vecRows, vecInv, accKnn, touchedKnn, true);
    heap.reset();
    for (let t = 0; t < tk; t++) {
      const b = touchedKnn[t]!;
      // Shoppers share a and b more than chance would have them: items everyone buys (the till's chocolate
      // bar) are near chance with everything, items of one taste are far above it.
      const sim = accKnn[b]! - chanceScale * chance.mass[a]! * chance.mass[b]!;
      if (sim > 0) heap.push(b, sim, 0);
    }
    for (const j of heap.order()) {
      knnNbr.push(heap.idx[j]!);
      knnSim.push(heap.score[j]!);
    }
    knnOff[a + 1] = knnNbr.length;
    for (let t = 0; t < tk; t++) accKnn[touchedKnn[t]!] = 0;
    if ((a & 0x3fff) === 0) progress('item-kNN', a, n);
  }
  progress('item-kNN', n, n);

  // Pass 2: complements, each item's own list blended with its first substitutes' (complements.ts).
  progress('complements', 0, n);
  const own = { off: ownOff, nbr: ownNbr.toArray(), co: ownCo.toArray() };
  const subst = { off: substOff, nbr: substNbr.toArray() };
  const cross = complementLists(catalog, own, subst, cb, N, cfg);
  progress('complements', n, n);

  const itemPurchases = new Float32Array(n);
  const itemViews = new Float32Array(n);
  const popularity = new Float32Array(n);
  for (let i = 0; i < ev.length; i++) {
    const it = ev.item[i]!;
    if (ev.type[i] === EVENT_PURCHASE) {
      itemPurchases[it]!++;
      popularity[it]! += decay(ev.ts[i]!);
    } else if (ev.type[i] === EVENT_VIEW) itemViews[it]!++;
  }
  const popular = Int32Array.from(
    Array.from({ length: n }, (_, i) => i)
      .filter((i) => popularity[i]! > 0)
      .sort((x, y) => popularity[y]! - popularity[x]! || x - y)
      .slice(0, POPULAR_SIZE),
  );

  const arrays: ModelArrays = {
    itemBaskets: Float32Array.from(buyTot.perItem),
    itemPurchases,
    itemViews,
    popularity,
    crossOff: cross.off,
    crossNbr: cross.nbr,
    crossCo: cross.co,
    crossPrior: cross.prior,
    substOff,
    substNbr: subst.nbr,
    substScore: substScore.toArray(),
    knnOff,
    knnNbr: knnNbr.toArray(),
    knnSim: knnSim.toArray(),
    popular,
    histOff: histOff.toArray(),
    histItem: histItem.toArray(),
    histWeight: histWeight.toArray(),
    histBought: Uint8Array.from(histBought.toArray()),
  };
  const items: CatalogItem[] = catalog.items.slice();
  return {
    items,
    userIds: ev.userIds.slice(),
    basketTotal: N,
    arrays,
    counts: {
      items: n,
      users: U,
      events: ev.length,
      purchases: counts.purchases,
      carts: counts.carts,
      views: counts.views,
      orders,
      cartSessions,
      viewSessions,
      crossPairs: arrays.crossNbr.length,
      substitutePairs: arrays.substNbr.length,
      knnPairs: arrays.knnNbr.length,
      shopperItems: vecRows.items.length,
    },
    window: {
      from: ev.length ? new Date(tMin).toISOString() : null,
      to: ev.length ? new Date(tMax).toISOString() : null,
    },
  };
}
