/**
 * JSON Lines shop files rewritten as Parquet, with the column types a warehouse export would have (the
 * event and catalogue schemas of ARCHITECTURE.md "Data files"): for `demo-data --parquet`, the tests and
 * the benchmark. Written by DuckDB, file to file, without the records passing through JavaScript.
 */
import { rm } from 'node:fs/promises';
import { Duck, quote } from './duckdb.js';

const EVENT_COLUMNS = {
  type: 'VARCHAR',
  userId: 'VARCHAR',
  itemId: 'VARCHAR',
  orderId: 'VARCHAR',
  quantity: 'INTEGER',
  price: 'DOUBLE',
  timestamp: 'VARCHAR',
};

const CATALOG_COLUMNS = {
  id: 'VARCHAR',
  title: 'VARCHAR',
  category: 'VARCHAR',
  price: 'DOUBLE',
  currency: 'VARCHAR',
  margin: 'DOUBLE',
  stock: 'BIGINT',
  brand: 'VARCHAR',
  attributes: 'MAP(VARCHAR, VARCHAR)',
};

const columns = (c: Record<string, string>): string => `{${Object.entries(c).map(([k, v]) => `${quote(k)}: ${quote(v)}`).join(', ')}}`;

/** Writes `jsonl` (events or catalogue) as the Parquet file `parquet`; `rowGroupSize` rows per row group. */
export async function jsonlToParquet(kind: 'events' | 'catalog', jsonl: string, parquet: string, scratch: string, rowGroupSize = 122_880): Promise<void> {
  const duck = await Duck.open({ dir: scratch, preserveOrder: true });
  try {
    await duck.run(
      `COPY (SELECT * FROM read_json(${quote(jsonl)}, format = 'newline_delimited', columns = ${columns(kind === 'events' ? EVENT_COLUMNS : CATALOG_COLUMNS)}))
TO ${quote(parquet)} (FORMAT parquet, ROW_GROUP_SIZE ${rowGroupSize})`,
      `write ${parquet}`,
    );
  } finally {
    duck.close();
    await rm(scratch, { recursive: true, force: true });
  }
}
