/** Loads a shop for training: JSON Lines files, or the deterministic demo shop. */
import { Catalog } from '../engine/catalog.js';
import { EventColumnsBuilder, type EventColumns } from '../engine/events.js';
import { DEMO_SHOP, generateShop } from '../data/demo-shop.js';
import { forEachJsonl, formatFieldError } from '../data/jsonl.js';
import { CatalogItem, ShopEvent, type FieldError } from '../schemas.js';
import { progressPrinter } from './progress.js';

/** How one input file read: its records (non-blank lines), the rejected ones, and the first bad lines. */
export interface FileReport {
  file: string;
  records: number;
  rejected: number;
  firstBadLines: number[];
}

export interface Inputs {
  catalog: Catalog;
  events: EventColumns;
  source: string;
  /** Per file read (none for the demo shop). */
  files: FileReport[];
  /** Valid events naming an item absent from the catalogue (not trained on). */
  skipped: number;
}

const MAX_SHOWN = 20;

const stderr = (line: string): void => void process.stderr.write(`${line}\n`);

/**
 * Prints the first bad records of a file and counts bad lines (a line with several bad fields is one);
 * `unit` names where a record is (`row` for a Parquet file, whose `line` is its row number).
 */
export function reporter(file: string, say: (line: string) => void = stderr, unit: 'line' | 'row' = 'line'): { report: FileReport; onError: (e: FieldError) => void; onRecord: () => void } {
  const report: FileReport = { file, records: 0, rejected: 0, firstBadLines: [] };
  let shown = 0;
  let lastBad: number | undefined;
  return {
    report,
    onRecord: () => report.records++,
    onError: (e) => {
      if (shown++ < MAX_SHOWN) say(`${file}: ${unit === 'line' ? formatFieldError(e) : `row ${e.line}: ${e.field} ${e.message}`}`);
      if (lastBad === e.line) return;
      lastBad = e.line;
      report.records++;
      report.rejected++;
      if (report.firstBadLines.length < 10) report.firstBadLines.push(e.line!);
    },
  };
}

export async function loadInputs(opts: { catalog?: string; events?: string }): Promise<Inputs> {
  if (!opts.catalog && !opts.events) {
    const shop = generateShop(DEMO_SHOP, (d, t) => progressPrinter('demo shop')('orders', d, t));
    return { catalog: shop.catalog, events: shop.events, source: 'demo shop (seed 42)', files: [], skipped: 0 };
  }
  if (!opts.catalog || !opts.events) throw new Error('--catalog and --events go together');
  const catalog = new Catalog({ keepRecords: true });
  const cat = reporter(opts.catalog);
  await forEachJsonl(
    opts.catalog,
    CatalogItem,
    (it) => {
      cat.onRecord();
      catalog.upsert(it);
    },
    cat.onError,
  );
  const builder = new EventColumnsBuilder(1 << 16);
  const ev = reporter(opts.events);
  await forEachJsonl(
    opts.events,
    ShopEvent,
    (e) => {
      ev.onRecord();
      builder.add(e, catalog);
      if ((ev.report.records & 0x3ffff) === 0) process.stderr.write(`reading events: ${ev.report.records}\n`);
    },
    ev.onError,
  );
  const rejected = cat.report.rejected + ev.report.rejected;
  if (rejected > MAX_SHOWN) process.stderr.write(`… more bad records not shown (${rejected} bad lines in all)\n`);
  if (builder.skipped > 0) process.stderr.write(`${builder.skipped} events name items absent from the catalogue and were skipped\n`);
  return { catalog, events: builder.build(), source: `${opts.catalog} + ${opts.events}`, files: [cat.report, ev.report], skipped: builder.skipped };
}
