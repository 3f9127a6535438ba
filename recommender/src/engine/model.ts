/** The trained model: per-item counts and top-K neighbour lists in compressed sparse rows (CSR). */
import type { CatalogItem } from '../schemas.js';

export interface ModelArrays {
  /** Decayed number of buy baskets (orders and abandoned carts) containing each item, in basket units. */
  itemBaskets: Float32Array;
  /** Raw purchase and view event counts per item (popularity, conversion). */
  itemPurchases: Float32Array;
  itemViews: Float32Array;
  /** Decayed purchases per item. */
  popularity: Float32Array;
  /**
   * Cross-sell neighbours (other categories, significant by complements.ts), best first, with their decayed
   * co-basket count c_ab and the rate q_ab of b in the baskets of a's substitutes.
   */
  crossOff: Int32Array;
  crossNbr: Int32Array;
  crossCo: Float32Array;
  crossPrior: Float32Array;
  /** Substitutes: co-viewed but not co-bought, with a shrunk log-lift score. */
  substOff: Int32Array;
  substNbr: Int32Array;
  substScore: Float32Array;
  /** Item-kNN over shoppers' histories (BM25-weighted vectors, less what chance would give), for "you may also like". */
  knnOff: Int32Array;
  knnNbr: Int32Array;
  knnSim: Float32Array;
  /** Most popular items, best first. */
  popular: Int32Array;
  /** Recent distinct items per shopper with a decayed event weight and a bought flag. */
  histOff: Int32Array;
  histItem: Int32Array;
  histWeight: Float32Array;
  histBought: Uint8Array;
}

/** A neighbour table in CSR form: item i's neighbours are nbr[off[i]..off[i+1]), one value array per column. */
export interface NeighbourCsr {
  off: Int32Array;
  nbr: Int32Array;
  vals: Float32Array[];
}

type NeighbourFields = 'crossOff' | 'crossNbr' | 'crossCo' | 'crossPrior' | 'substOff' | 'substNbr' | 'substScore' | 'knnOff' | 'knnNbr' | 'knnSim';

/** The three neighbour tables as model fields: cross (co, prior), substitutes (score), item-kNN (sim). */
export function neighbourFields(cross: NeighbourCsr, subst: NeighbourCsr, knn: NeighbourCsr): Pick<ModelArrays, NeighbourFields> {
  return {
    crossOff: cross.off,
    crossNbr: cross.nbr,
    crossCo: cross.vals[0]!,
    crossPrior: cross.vals[1]!,
    substOff: subst.off,
    substNbr: subst.nbr,
    substScore: subst.vals[0]!,
    knnOff: knn.off,
    knnNbr: knn.nbr,
    knnSim: knn.vals[0]!,
  };
}

export const ARRAY_TYPES = {
  itemBaskets: 'f32',
  itemPurchases: 'f32',
  itemViews: 'f32',
  popularity: 'f32',
  crossOff: 'i32',
  crossNbr: 'i32',
  crossCo: 'f32',
  crossPrior: 'f32',
  substOff: 'i32',
  substNbr: 'i32',
  substScore: 'f32',
  knnOff: 'i32',
  knnNbr: 'i32',
  knnSim: 'f32',
  popular: 'i32',
  histOff: 'i32',
  histItem: 'i32',
  histWeight: 'f32',
  histBought: 'u8',
} as const satisfies Record<keyof ModelArrays, 'f32' | 'i32' | 'u8'>;

export type TrainCounts = Record<string, number>;

export interface ModelData {
  /** Catalogue snapshot at training time; the array index is the model's item index. */
  items: CatalogItem[];
  /** Shopper ids; the array index is the history row. */
  userIds: string[];
  /** Decayed number of buy baskets (N in complements.ts). */
  basketTotal: number;
  arrays: ModelArrays;
  counts: TrainCounts;
  window: { from: string | null; to: string | null };
}

/** Checks the internal consistency of a model; returns the first problem or undefined. */
export function checkModel(m: ModelData): string | undefined {
  const n = m.items.length;
  const a = m.arrays;
  for (const k of ['itemBaskets', 'itemPurchases', 'itemViews', 'popularity'] as const) {
    if (a[k].length !== n) return `'${k}' has ${a[k].length} entries for ${n} items`;
  }
  const csr = [
    ['crossOff', a.crossOff, a.crossNbr, a.crossCo, n],
    ['substOff', a.substOff, a.substNbr, a.substScore, n],
    ['knnOff', a.knnOff, a.knnNbr, a.knnSim, n],
    ['histOff', a.histOff, a.histItem, a.histWeight, m.userIds.length],
  ] as const;
  for (const [name, off, nbr, val, rows] of csr) {
    if (off.length !== rows + 1) return `'${name}' has ${off.length} offsets for ${rows} rows`;
    if (off[rows] !== nbr.length || nbr.length !== val.length) return `'${name}' offsets do not match its neighbours`;
    for (let i = 0; i < rows; i++) if (off[i]! > off[i + 1]!) return `'${name}' offsets are not monotone at ${i}`;
    for (let i = 0; i < nbr.length; i++) if (nbr[i]! < 0 || nbr[i]! >= n) return `'${name}' refers to item ${nbr[i]} of ${n}`;
  }
  if (a.crossPrior.length !== a.crossNbr.length) return `'crossPrior' length does not match 'crossNbr'`;
  if (a.histBought.length !== a.histItem.length) return `'histBought' length does not match 'histItem'`;
  for (let i = 0; i < a.popular.length; i++) if (a.popular[i]! < 0 || a.popular[i]! >= n) return `'popular' refers to item ${a.popular[i]}`;
  return undefined;
}
