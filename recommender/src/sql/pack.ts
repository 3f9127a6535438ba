/**
 * Packing: the training job's output tables (OUTPUTS in training-job.ts, as DuckDB tables or as the
 * Parquet a Spark run wrote) into the model the rest of Tandem knows (engine/model.ts ModelData), which
 * model/artifact.ts writes as the usual versioned, checksummed `tandem-model/2` artifact.
 */
import type { CatalogItem } from '../schemas.js';
import type { EventColumns } from '../engine/events.js';
import { checkModel, neighbourFields, type ModelArrays, type ModelData, type NeighbourCsr } from '../engine/model.js';
import { quote, type Duck } from './duckdb.js';
import { OUTPUTS } from './training-job.js';

/** Makes each output table readable under its own name from `<dir>/<table>/*.parquet` (a Spark run's output). */
export async function attachParquetOutputs(duck: Duck, dir: string): Promise<void> {
  for (const table of OUTPUTS) {
    await duck.run(`CREATE OR REPLACE VIEW ${table} AS SELECT * FROM read_parquet(${quote(`${dir}/${table}/*.parquet`)})`, `read the ${table} table the training job wrote to ${dir}`);
  }
}

/** Neighbour lists ordered by (a, rank) as CSR over `n` rows. */
async function csr(duck: Duck, table: string, values: readonly string[], n: number): Promise<NeighbourCsr> {
  const { rows } = await duck.one<{ rows: bigint | number }>(`SELECT COUNT(*) AS rows FROM ${table}`, `count the rows of ${table}`);
  const m = Number(rows);
  const off = new Int32Array(n + 1);
  const nbr = new Int32Array(m);
  const vals = values.map(() => new Float32Array(m));
  let q = 0;
  await duck.forEachRow(
    `SELECT a, b, ${values.join(', ')} FROM ${table} ORDER BY a, rnk`,
    (get) => {
      const a = Number(get(0));
      if (a < 0 || a >= n) throw new Error(`${table} names item ${a} of ${n}`);
      off[a + 1]!++;
      nbr[q] = Number(get(1));
      for (let v = 0; v < vals.length; v++) vals[v]![q] = Number(get(2 + v));
      q++;
    },
    `read ${table}`,
  );
  for (let i = 0; i < n; i++) off[i + 1]! += off[i]!;
  return { off, nbr, vals };
}

export interface PackInput {
  readonly items: readonly CatalogItem[];
  /** Shopper pseudonyms in model order (the `users` table of ingest.ts). */
  readonly userIds: readonly string[];
}

/** Reads the output tables into a ModelData and checks it (checkModel) before anything is written. */
export async function packModel(duck: Duck, input: PackInput): Promise<ModelData> {
  const n = input.items.length;
  const U = input.userIds.length;
  const itemBaskets = new Float32Array(n);
  const itemPurchases = new Float32Array(n);
  const itemViews = new Float32Array(n);
  const popularity = new Float32Array(n);
  await duck.forEachRow(
    'SELECT idx, baskets, purchases, views, popularity FROM item_stats',
    (get) => {
      const i = Number(get(0));
      itemBaskets[i] = Number(get(1));
      itemPurchases[i] = Number(get(2));
      itemViews[i] = Number(get(3));
      popularity[i] = Number(get(4));
    },
    'read item_stats',
  );
  const cross = await csr(duck, 'cross_nbr', ['co', 'prior'], n);
  const subst = await csr(duck, 'subst_nbr', ['score'], n);
  const knn = await csr(duck, 'knn_nbr', ['sim'], n);
  const popular = Int32Array.from((await duck.rows<{ idx: number }>('SELECT idx FROM popular ORDER BY rnk', 'read popular')).map((r) => Number(r.idx)));

  const { rows } = await duck.one<{ rows: bigint | number }>('SELECT COUNT(*) AS rows FROM hist', 'count the histories');
  const h = Number(rows);
  const histOff = new Int32Array(U + 1);
  const histItem = new Int32Array(h);
  const histWeight = new Float32Array(h);
  const histBought = new Uint8Array(h);
  let q = 0;
  await duck.forEachRow(
    'SELECT u, item, weight, bought FROM hist ORDER BY u, rnk',
    (get) => {
      const u = Number(get(0));
      if (u < 0 || u >= U) throw new Error(`hist names shopper ${u} of ${U}`);
      histOff[u + 1]!++;
      histItem[q] = Number(get(1));
      histWeight[q] = Number(get(2));
      histBought[q] = Number(get(3));
      q++;
    },
    'read hist',
  );
  for (let u = 0; u < U; u++) histOff[u + 1]! += histOff[u]!;

  const t = await duck.one<Record<string, bigint | number | null>>('SELECT * FROM totals', 'read totals');
  const num = (k: string): number => Number(t[k] ?? 0);
  const arrays: ModelArrays = {
    itemBaskets,
    itemPurchases,
    itemViews,
    popularity,
    ...neighbourFields(cross, subst, knn),
    popular,
    histOff,
    histItem,
    histWeight,
    histBought,
  };
  const events = num('events');
  const data: ModelData = {
    items: input.items.slice(),
    userIds: input.userIds.slice(),
    basketTotal: num('basket_total'),
    arrays,
    counts: {
      items: n,
      users: U,
      events,
      purchases: num('purchases'),
      carts: num('carts'),
      views: num('views'),
      orders: num('orders'),
      cartSessions: num('cart_sessions'),
      viewSessions: num('view_sessions'),
      crossPairs: cross.nbr.length,
      substitutePairs: subst.nbr.length,
      knnPairs: knn.nbr.length,
      shopperItems: num('shopper_items'),
    },
    window: {
      from: events > 0 ? new Date(num('tmin')).toISOString() : null,
      to: events > 0 ? new Date(num('tmax')).toISOString() : null,
    },
  };
  const problem = checkModel(data);
  if (problem) throw new Error(`the training job's tables make an inconsistent model: ${problem}`);
  return data;
}

/** The shoppers' pseudonyms in model order, from ingest.ts's `users` table (or its Parquet copy). */
export async function readUserIds(duck: Duck, relation = 'users'): Promise<string[]> {
  const { rows } = await duck.one<{ rows: bigint | number }>(`SELECT COUNT(*) AS rows FROM ${relation}`, 'count the shoppers');
  const ids = new Array<string>(Number(rows));
  await duck.forEachRow(`SELECT u, id FROM ${relation} ORDER BY u`, (get) => void (ids[Number(get(0))] = get(1) as string), 'read the shoppers');
  return ids;
}

/**
 * The staged events as in-memory columns (engine/events.ts), for the offline metrics of a run small enough
 * to evaluate in memory; `userIds` as readUserIds returns them.
 */
export async function readEventColumns(duck: Duck, userIds: string[], relation = 'events'): Promise<EventColumns> {
  const { rows, orders } = await duck.one<{ rows: bigint | number; orders: bigint | number | null }>(`SELECT COUNT(*) AS rows, MAX(o) + 1 AS orders FROM ${relation}`, 'count the staged events');
  const n = Number(rows);
  const ev: EventColumns = { length: n, type: new Uint8Array(n), user: new Int32Array(n), item: new Int32Array(n), order: new Int32Array(n), ts: new Float64Array(n), userIds, orderCount: Math.max(0, Number(orders ?? 0)) };
  let i = 0;
  await duck.forEachRow(
    `SELECT type, u, item, o, ts FROM ${relation} ORDER BY seq`,
    (get) => {
      ev.type[i] = Number(get(0));
      ev.user[i] = Number(get(1));
      ev.item[i] = Number(get(2));
      ev.order[i] = Number(get(3));
      ev.ts[i] = Number(get(4));
      i++;
    },
    'read the staged events',
  );
  return ev;
}
