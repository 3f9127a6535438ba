/** A trained model bound to the live catalogue's index space, ready to score. */
import type { Catalog } from './catalog.js';
import { neighbourFields, type ModelArrays, type ModelData, type NeighbourCsr } from './model.js';
import { OnlineState } from './online.js';

export interface ServingModel {
  readonly version: string;
  /** Items covered by the arrays (items added to the catalogue later have no history). */
  readonly n: number;
  readonly basketTotal: number;
  readonly a: ModelArrays;
  readonly users: ReadonlyMap<string, number>;
  readonly maxPurchases: number;
  readonly online: OnlineState;
}

function remapItems(src: Float32Array, map: Int32Array, size: number): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < src.length; i++) out[map[i]!] = src[i]!;
  return out;
}

function remapCsr(
  off: Int32Array,
  nbr: Int32Array,
  vals: readonly Float32Array[],
  map: Int32Array,
  size: number,
): NeighbourCsr {
  const newOff = new Int32Array(size + 1);
  for (let i = 0; i < map.length; i++) newOff[map[i]! + 1] = off[i + 1]! - off[i]!;
  for (let i = 0; i < size; i++) newOff[i + 1]! += newOff[i]!;
  const newNbr = new Int32Array(nbr.length);
  const newVals = vals.map((v) => new Float32Array(v.length));
  for (let i = 0; i < map.length; i++) {
    let w = newOff[map[i]!]!;
    for (let q = off[i]!; q < off[i + 1]!; q++, w++) {
      newNbr[w] = map[nbr[q]!]!;
      for (let k = 0; k < vals.length; k++) newVals[k]![w] = vals[k]![q]!;
    }
  }
  return { off: newOff, nbr: newNbr, vals: newVals };
}

/**
 * Binds `data` to `catalog`: model items unknown to the live catalogue are added from the
 * model's snapshot (live records win, so stock and price stay current).
 */
export function bindModel(version: string, data: ModelData, catalog: Catalog, historySize: number): ServingModel {
  const n = data.items.length;
  const map = new Int32Array(n);
  let identity = true;
  for (let i = 0; i < n; i++) {
    const item = data.items[i]!;
    const c = catalog.idx(item.id) ?? catalog.upsert(item);
    map[i] = c;
    if (c !== i) identity = false;
  }
  identity &&= catalog.size === n;
  let a = data.arrays;
  const size = catalog.size;
  if (!identity) {
    const cross = remapCsr(a.crossOff, a.crossNbr, [a.crossCo, a.crossPrior], map, size);
    const subst = remapCsr(a.substOff, a.substNbr, [a.substScore], map, size);
    const knn = remapCsr(a.knnOff, a.knnNbr, [a.knnSim], map, size);
    a = {
      itemBaskets: remapItems(a.itemBaskets, map, size),
      itemPurchases: remapItems(a.itemPurchases, map, size),
      itemViews: remapItems(a.itemViews, map, size),
      popularity: remapItems(a.popularity, map, size),
      ...neighbourFields(cross, subst, knn),
      popular: a.popular.map((i) => map[i]!),
      histOff: a.histOff,
      histItem: a.histItem.map((i) => map[i]!),
      histWeight: a.histWeight,
      histBought: a.histBought,
    };
  }
  catalog.prepare();
  const users = new Map<string, number>();
  data.userIds.forEach((u, i) => users.set(u, i));
  let maxPurchases = 0;
  for (const p of a.itemPurchases) if (p > maxPurchases) maxPurchases = p;
  return {
    version,
    n: identity ? n : size,
    basketTotal: data.basketTotal,
    a,
    users,
    maxPurchases,
    online: new OnlineState(historySize),
  };
}
