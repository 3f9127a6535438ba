/** Loads a shop for training: JSON Lines files, or the deterministic demo shop. */
import { Catalog } from '../engine/catalog.js';
import { EventColumnsBuilder, type EventColumns } from '../engine/events.js';
import { DEMO_SHOP, generateShop } from '../data/demo-shop.js';
import { forEachJsonl, formatFieldError } from '../data/jsonl.js';
import { CatalogItem, ShopEvent, type FieldError } from '../schemas.js';
import { progressPrinter } from './progress.js';

export interface Inputs {
  catalog: Catalog;
  events: EventColumns;
  source: string;
  rejected: number;
  skipped: number;
}

const MAX_SHOWN = 20;

function reporter(file: string): { onError: (e: FieldError) => void; count: () => number } {
  let n = 0;
  return {
    onError: (e) => {
      if (n++ < MAX_SHOWN) process.stderr.write(`${file}: ${formatFieldError(e)}\n`);
    },
    count: () => n,
  };
}

export async function loadInputs(opts: { catalog?: string; events?: string }): Promise<Inputs> {
  if (!opts.catalog && !opts.events) {
    const shop = generateShop(DEMO_SHOP, (d, t) => progressPrinter('demo shop')('orders', d, t));
    return { catalog: shop.catalog, events: shop.events, source: 'demo shop (seed 42)', rejected: 0, skipped: 0 };
  }
  if (!opts.catalog || !opts.events) throw new Error('--catalog and --events go together');
  const catalog = new Catalog({ keepRecords: true });
  const catErr = reporter(opts.catalog);
  await forEachJsonl(opts.catalog, CatalogItem, (it) => catalog.upsert(it), catErr.onError);
  const builder = new EventColumnsBuilder(1 << 16);
  const evErr = reporter(opts.events);
  let n = 0;
  await forEachJsonl(
    opts.events,
    ShopEvent,
    (ev) => {
      builder.add(ev, catalog);
      if ((++n & 0x3ffff) === 0) process.stderr.write(`reading events: ${n}\n`);
    },
    evErr.onError,
  );
  const rejected = catErr.count() + evErr.count();
  if (rejected > MAX_SHOWN) process.stderr.write(`… ${rejected - MAX_SHOWN} more errors not shown\n`);
  if (builder.skipped > 0) process.stderr.write(`${builder.skipped} events name items absent from the catalogue and were skipped\n`);
  return { catalog, events: builder.build(), source: `${opts.catalog} + ${opts.events}`, rejected, skipped: builder.skipped };
}
