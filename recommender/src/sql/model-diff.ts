/**
 * Whether two trained models are the same model, item by item: the engines' comparison (DuckDB, Spark, the
 * TypeScript trainer) in the tests and the benchmark. Counts, shoppers and histories' items must be equal;
 * numbers equal within a relative tolerance (the engines sum floating-point values in different orders,
 * and the artifact stores float32); a neighbour list's scores within the tolerance of the list's best score
 * (the TypeScript trainer keeps each item's own co-purchase counts in float32 before the second pass, the
 * SQL engines in doubles, and where P̃ − p cancels a score near zero keeps only the absolute precision);
 * a list may differ only where two entries tie in score, since their order, or which of them makes the
 * top K, is then a matter of rounding. Pure.
 */
import type { EngineConfig } from '../config.js';
import { complementParams, complementScore } from '../engine/complements.js';
import type { ModelData } from '../engine/model.js';

export interface DiffOptions {
  /** Relative tolerance of every number. Default 1e-5. */
  readonly rel?: number;
  /** Of the popularity (the TypeScript trainer sums it in float32). Default 1e-4. */
  readonly popularityRel?: number;
  /** Stop after this many differences. Default 20. */
  readonly max?: number;
}

const close = (x: number, y: number, rel: number, scale = 0): boolean => Math.abs(x - y) <= rel * Math.max(Math.abs(x), Math.abs(y), scale) + 1e-12;

/** The differences between `a` and `b` (empty when they are the same model), each a sentence naming the item. */
export function modelDiff(a: ModelData, b: ModelData, engine: EngineConfig, o: DiffOptions = {}): string[] {
  const rel = o.rel ?? 1e-5;
  const max = o.max ?? 20;
  const out: string[] = [];
  const say = (s: string): boolean => (out.length < max && out.push(s), out.length >= max);
  const id = (i: number): string => a.items[i]?.id ?? `#${i}`;

  for (const k of new Set([...Object.keys(a.counts), ...Object.keys(b.counts)])) {
    if (a.counts[k] !== b.counts[k] && say(`counts.${k}: ${a.counts[k]} ≠ ${b.counts[k]}`)) return out;
  }
  if (JSON.stringify(a.window) !== JSON.stringify(b.window)) say(`window: ${JSON.stringify(a.window)} ≠ ${JSON.stringify(b.window)}`);
  if (a.items.map((i) => i.id).join() !== b.items.map((i) => i.id).join()) return [...out, 'the catalogues differ'];
  if (a.userIds.join() !== b.userIds.join()) return [...out, 'the shopper lists differ'];
  if (!close(a.basketTotal, b.basketTotal, rel)) say(`basketTotal: ${a.basketTotal} ≠ ${b.basketTotal}`);
  const A = a.arrays;
  const B = b.arrays;
  for (const k of ['itemBaskets', 'itemPurchases', 'itemViews', 'popularity'] as const) {
    const r = k === 'popularity' ? (o.popularityRel ?? 1e-4) : rel;
    for (let i = 0; i < A[k].length; i++) if (!close(A[k][i]!, B[k][i]!, r) && say(`${k} of ${id(i)}: ${A[k][i]} ≠ ${B[k][i]}`)) return out;
  }

  const k = complementParams(engine);
  const crossScore = (m: ModelData) => (item: number, q: number) =>
    complementScore(m.arrays.crossCo[q]!, m.arrays.itemBaskets[item]!, m.arrays.itemBaskets[m.arrays.crossNbr[q]!]!, m.basketTotal, m.arrays.crossPrior[q]!, k);
  const lists = [
    { name: 'cross-sell', off: 'crossOff', nbr: 'crossNbr', vals: ['crossCo', 'crossPrior'], score: [crossScore(a), crossScore(b)] },
    { name: 'substitutes', off: 'substOff', nbr: 'substNbr', vals: ['substScore'], score: [(_: number, q: number) => A.substScore[q]!, (_: number, q: number) => B.substScore[q]!] },
    { name: 'item-kNN', off: 'knnOff', nbr: 'knnNbr', vals: ['knnSim'], score: [(_: number, q: number) => A.knnSim[q]!, (_: number, q: number) => B.knnSim[q]!] },
  ] as const;
  for (const l of lists) {
    const offA = A[l.off];
    const offB = B[l.off];
    for (let i = 0; i + 1 < offA.length; i++) {
      const la = offA[i + 1]! - offA[i]!;
      const lb = offB[i + 1]! - offB[i]!;
      if (la !== lb) {
        if (say(`${l.name} of ${id(i)}: ${la} ≠ ${lb} neighbours`)) return out;
        continue;
      }
      const byId = new Map<number, number>();
      for (let j = 0; j < lb; j++) byId.set(B[l.nbr][offB[i]! + j]!, offB[i]! + j);
      const best = la > 0 ? Math.abs(l.score[0](i, offA[i]!)) : 0;
      for (let j = 0; j < la; j++) {
        const qa = offA[i]! + j;
        const qb = offB[i]! + j;
        const sa = l.score[0](i, qa);
        const sb = l.score[1](i, qb);
        if (!close(sa, sb, rel, best) && say(`${l.name} of ${id(i)}, #${j + 1}: ${id(A[l.nbr][qa]!)} scores ${sa}, ${id(B[l.nbr][qb]!)} ${sb}`)) return out;
        const same = byId.get(A[l.nbr][qa]!);
        if (same === undefined) {
          // Present in one list only: fine at a tie (it swapped places with one of equal score at the cut).
          const tie = j === la - 1 || close(sa, l.score[0](i, qa + 1), rel, best) || (j > 0 && close(sa, l.score[0](i, qa - 1), rel, best));
          if (!tie && say(`${l.name} of ${id(i)}: ${id(A[l.nbr][qa]!)} is missing from the second model`)) return out;
          continue;
        }
        for (const v of l.vals) if (!close(A[v][qa]!, B[v][same]!, rel, v === l.vals[0] && l.name !== 'cross-sell' ? best : 0) && say(`${l.name} of ${id(i)} → ${id(A[l.nbr][qa]!)}: ${v} ${A[v][qa]} ≠ ${B[v][same]}`)) return out;
      }
    }
  }

  if (A.popular.length !== B.popular.length) say(`popular: ${A.popular.length} ≠ ${B.popular.length} items`);
  for (let j = 0; j < Math.min(A.popular.length, B.popular.length); j++) {
    const pa = A.popularity[A.popular[j]!]!;
    const pb = B.popularity[B.popular[j]!]!;
    if (!close(pa, pb, o.popularityRel ?? 1e-4) && say(`popular #${j + 1}: ${id(A.popular[j]!)} (${pa}) ≠ ${id(B.popular[j]!)} (${pb})`)) return out;
  }

  for (let u = 0; u + 1 < A.histOff.length; u++) {
    const [a0, a1, b0, b1] = [A.histOff[u]!, A.histOff[u + 1]!, B.histOff[u]!, B.histOff[u + 1]!];
    const sameItems = a1 - a0 === b1 - b0 && A.histItem.subarray(a0, a1).every((x, j) => x === B.histItem[b0 + j] && A.histBought[a0 + j] === B.histBought[b0 + j]);
    if (!sameItems) {
      if (say(`history of shopper ${a.userIds[u]}: ${[...A.histItem.subarray(a0, a1)].map(id).join(',')} ≠ ${[...B.histItem.subarray(b0, b1)].map(id).join(',')}`)) return out;
      continue;
    }
    for (let j = 0; j < a1 - a0; j++) {
      if (!close(A.histWeight[a0 + j]!, B.histWeight[b0 + j]!, rel) && say(`history of shopper ${a.userIds[u]}, ${id(A.histItem[a0 + j]!)}: weight ${A.histWeight[a0 + j]} ≠ ${B.histWeight[b0 + j]}`)) return out;
    }
  }
  return out;
}
