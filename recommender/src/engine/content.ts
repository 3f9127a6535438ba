/** Content similarity (category, brand, attributes, price band) for cold items and up-sell. */
import type { Catalog } from './catalog.js';

/** Similarity in [0, 1] of two items from their content alone. */
export function contentSimilarity(catalog: Catalog, a: number, b: number): number {
  const sameCat = catalog.categoryOf[a] === catalog.categoryOf[b] ? 1 : 0;
  const ba = catalog.brandOf[a]!;
  const brand = ba >= 0 && ba === catalog.brandOf[b] ? 1 : 0;
  const pool = catalog.tokenPool;
  const la = catalog.tokenLen[a]!;
  const lb = catalog.tokenLen[b]!;
  const oa = catalog.tokenOff[a]!;
  const ob = catalog.tokenOff[b]!;
  let shared = 0;
  for (let i = 0, j = 0; i < la && j < lb; ) {
    const x = pool[oa + i]!;
    const y = pool[ob + j]!;
    if (x === y) {
      shared++;
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  const union = la + lb - shared;
  const attrs = union === 0 ? 0 : shared / union;
  const pa = Math.max(catalog.price(a), 0.01);
  const pb = Math.max(catalog.price(b), 0.01);
  const priceBand = Math.exp(-Math.abs(Math.log(pa / pb)) / 0.5);
  return 0.3 * sameCat + 0.25 * brand + 0.3 * attrs + 0.15 * priceBand;
}

/**
 * The `k` items of `item`'s category most similar by content among those with history
 * (`isWarm`), scanning at most `scan` items. Used to borrow neighbours for a cold item.
 */
export function contentNeighbours(
  catalog: Catalog,
  item: number,
  isWarm: (idx: number) => boolean,
  k: number,
  scan = 2000,
): { idx: number; sim: number }[] {
  const pool = catalog.itemsOfCategory(catalog.categoryOf[item]!);
  const best: { idx: number; sim: number }[] = [];
  const n = Math.min(pool.length, scan);
  for (let i = 0; i < n; i++) {
    const other = pool[i]!;
    if (other === item || !isWarm(other)) continue;
    const sim = contentSimilarity(catalog, item, other);
    if (best.length < k) {
      best.push({ idx: other, sim });
      best.sort((x, y) => y.sim - x.sim);
    } else if (sim > best[k - 1]!.sim) {
      best[k - 1] = { idx: other, sim };
      best.sort((x, y) => y.sim - x.sim);
    }
  }
  return best;
}
