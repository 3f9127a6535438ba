/** Writes a generated shop as files: the data (JSON Lines) and, beside it, the ground truth it was made with. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEMO_SHOP, NOISY_SHOP, eventRecords, generateShop, groundTruthRecord, type ShopSpec } from './demo-shop.js';
import { writeJsonl } from './jsonl.js';
import { jsonlToParquet } from '../sql/parquet-files.js';

/** The named shop presets, for `demo-data --shop` and `evaluate --shop`. */
export const SHOPS: Record<string, ShopSpec> = { demo: DEMO_SHOP, noisy: NOISY_SHOP };

/** The preset `name` with another seed (when given); throws on an unknown name. */
export function shopSpec(name: string, seed?: number): ShopSpec {
  const spec = SHOPS[name];
  if (!spec) throw new Error(`unknown shop '${name}' (${Object.keys(SHOPS).join(' | ')})`);
  if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0)) throw new Error(`'--seed' (${seed}) must be an integer ≥ 0`);
  return seed === undefined ? spec : { ...spec, seed };
}

/**
 * `catalog.jsonl`, `events.jsonl` and `ground-truth.json` under `dir` (with `parquet`, also `catalog.parquet`
 * and `events.parquet`, a warehouse's export of the same records); returns what was written.
 */
export async function writeShopFiles(dir: string, spec: ShopSpec, opts: { parquet?: boolean } = {}): Promise<{ items: number; events: number; files: string[] }> {
  await mkdir(dir, { recursive: true });
  const shop = generateShop(spec);
  const files = ['catalog.jsonl', 'events.jsonl', 'ground-truth.json'].map((f) => join(dir, f));
  await writeJsonl(files[0]!, shop.items);
  await writeJsonl(files[1]!, eventRecords(shop.events, shop.catalog));
  await writeFile(files[2]!, JSON.stringify(groundTruthRecord(spec, shop), null, 1) + '\n');
  if (opts.parquet) {
    for (const kind of ['catalog', 'events'] as const) {
      const file = join(dir, `${kind}.parquet`);
      await jsonlToParquet(kind, join(dir, `${kind}.jsonl`), file, join(dir, `.parquet-${kind}`));
      files.push(file);
    }
  }
  return { items: shop.items.length, events: shop.events.length, files };
}
