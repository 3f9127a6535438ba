/**
 * `npm run bench:train`'s input: a generated shop of N events written as a warehouse would export it, Parquet
 * with a TIMESTAMP column (catalog.parquet, events.parquet), straight from the generator's columns through
 * DuckDB data chunks (no JavaScript object or string per event). Run in its own process:
 *   tsx recommender/src/bench/shop-parquet.ts --events N --out DIR
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DOUBLE, DuckDBDataChunk, INTEGER } from '@duckdb/node-api';
import { writeJsonl } from '../data/jsonl.js';
import { BENCH_SHOP, generateShop, type ShopSpec } from '../data/demo-shop.js';
import { Duck, quote } from '../sql/duckdb.js';
import { jsonlToParquet } from '../sql/parquet-files.js';

/** The bench shop scaled to `events`: 100k items; shoppers and orders grow with the events (5M: 300k and 2M). */
export function benchSpec(events: number): ShopSpec {
  const scale = events / BENCH_SHOP.maxEvents!;
  return { ...BENCH_SHOP, users: Math.round(BENCH_SHOP.users * scale), orders: Math.round(BENCH_SHOP.orders * scale), maxEvents: events };
}

export async function writeBenchShop(events: number, dir: string): Promise<{ events: number; orders: number; users: number }> {
  await mkdir(dir, { recursive: true });
  const shop = generateShop(benchSpec(events));
  await writeJsonl(join(dir, 'catalog.jsonl'), shop.items);
  await jsonlToParquet('catalog', join(dir, 'catalog.jsonl'), join(dir, 'catalog.parquet'), join(dir, '.catalog'));
  const duck = await Duck.open({ dir: join(dir, '.events'), preserveOrder: true });
  try {
    await duck.run('CREATE TABLE ev (i INTEGER, type INTEGER, u INTEGER, item INTEGER, o INTEGER, ts DOUBLE)');
    const app = await duck.con.createAppender('ev');
    const ev = shop.events;
    const size = 2048;
    const chunk = DuckDBDataChunk.create([INTEGER, INTEGER, INTEGER, INTEGER, INTEGER, DOUBLE], size);
    const index = new Int32Array(size);
    const columns = [index, ev.type, ev.user, ev.item, ev.order, ev.ts];
    for (let a = 0; a < ev.length; a += size) {
      const n = Math.min(size, ev.length - a);
      if (n !== size) chunk.rowCount = n;
      for (let j = 0; j < n; j++) index[j] = a + j;
      // Typed arrays index like the arrays setColumnValues reads.
      columns.forEach((col, c) => chunk.setColumnValues(c, (c === 0 ? index.subarray(0, n) : col.subarray(a, a + n)) as unknown as number[]));
      app.appendDataChunk(chunk);
    }
    app.flushSync();
    app.closeSync();
    await duck.run(`CREATE TABLE items AS SELECT row_number() OVER () - 1 AS idx, id, price FROM read_json(${quote(join(dir, 'catalog.jsonl'))}, format = 'newline_delimited', columns = {'id': 'VARCHAR', 'price': 'DOUBLE'})`);
    await duck.run(
      `COPY (SELECT CASE e.type WHEN 0 THEN 'view' WHEN 1 THEN 'add_to_cart' ELSE 'purchase' END AS "type", 'u-' || (e.u + 1) AS "userId", it.id AS "itemId",
  CASE WHEN e.o >= 0 THEN 'o-' || (e.o + 1) END AS "orderId", CASE WHEN e.o >= 0 THEN 1 END AS quantity, CASE WHEN e.o >= 0 THEN it.price END AS price,
  make_timestamp(CAST(e.ts AS BIGINT) * 1000) AS "timestamp"
FROM ev e JOIN items it ON it.idx = e.item ORDER BY e.i) TO ${quote(join(dir, 'events.parquet'))} (FORMAT parquet, ROW_GROUP_SIZE 122880)`,
      'write events.parquet',
    );
  } finally {
    duck.close();
    await rm(join(dir, '.events'), { recursive: true, force: true });
  }
  return { events: shop.events.length, orders: shop.events.orderCount, users: shop.events.userIds.length };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { events: { type: 'string' }, out: { type: 'string' } } });
  if (!values.events || !values.out) throw new Error('usage: shop-parquet.ts --events N --out DIR');
  process.stdout.write(JSON.stringify(await writeBenchShop(Number(values.events), values.out)) + '\n');
}
