/**
 * Ingestion for the SQL engines: catalogue and events from JSON Lines or Parquet (a file, a directory of
 * files, or an `s3://` URL), validated record by record with the same messages and counts as the in-memory
 * trainer (cli/inputs.ts), then the privacy rules (erased shoppers and expired events dropped, shopper ids
 * pseudonymised) and the history window, all before either engine sees a row. What it leaves in DuckDB:
 *
 *   items(idx INT, cat INT)       the catalogue in model order (Catalog indexes)
 *   events(seq, type, u, item, o, ts)   see training-job.ts
 *   users(u INT, id VARCHAR)      the shoppers' pseudonyms in model order (first event first)
 *
 * Events go through DuckDB only (no JavaScript object per event), so ingestion streams and spills: a
 * Parquet file is checked by schema-check.ts in SQL, and JSON Lines are validated in JavaScript (their
 * per-line messages) and appended. The user list is the one table JavaScript walks, once per distinct
 * shopper, for the keyed HMAC and the erased set.
 */
import { open, stat } from 'node:fs/promises';
import { Catalog } from '../engine/catalog.js';
import { forEachJsonl } from '../data/jsonl.js';
import { fieldErrors } from '../data/validate.js';
import { TrainingDataError } from '../cli/input-check.js';
import { reporter, type FileReport } from '../cli/inputs.js';
import type { EventPolicyOptions, Dropped } from '../privacy/events.js';
import type { S3Location } from '../model/s3-source.js';
import { CatalogItem, ShopEvent } from '../schemas.js';
import { ident, quote, type Duck } from './duckdb.js';
import { columnProblems, validRowSql } from './schema-check.js';

const DAY_MS = 86_400_000;
/** Row numbers of a file are below this; file k's rows are k·FILE_STRIDE + row (the input order). */
const FILE_STRIDE = 2 ** 40;
const MAX_SHOWN = 20;

export type InputFormat = 'jsonl' | 'parquet';

/** How a path is read: Parquet for `.parquet`, a directory, an `s3://` prefix or a file starting `PAR1`; JSON Lines otherwise. */
export async function inputFormat(path: string): Promise<InputFormat> {
  if (/\.parquet$/i.test(path) || /^s3a?:\/\//.test(path) && !/\.(jsonl|ndjson|json)$/i.test(path)) return 'parquet';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) return 'jsonl';
  const st = await stat(path).catch((err: unknown) => {
    throw new Error(`failed to read ${path}: ${(err as Error).message}`, { cause: err });
  });
  if (st.isDirectory()) return 'parquet';
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    await fh.read(head, 0, 4, 0);
    return head.toString('latin1') === 'PAR1' ? 'parquet' : 'jsonl';
  } finally {
    await fh.close();
  }
}

/** The Parquet files a path names, sorted (the input order): the file, the files under a directory or prefix. */
async function parquetFiles(duck: Duck, path: string, s3: S3Location | undefined): Promise<string[]> {
  const remote = /^s3a?:\/\//.test(path);
  if (remote) await duck.enableS3(s3);
  const url = remote ? path.replace(/^s3a:/, 's3:') : path;
  const isFile = /\.parquet$/i.test(url) || (!remote && (await stat(url)).isFile());
  const pattern = isFile ? url : `${url.replace(/\/$/, '')}/**/*.parquet`;
  const files = (await duck.rows<{ file: string }>(`SELECT file FROM glob(${quote(pattern)}) ORDER BY file`, `list the Parquet files of ${path}`)).map((r) => r.file);
  if (files.length === 0) throw new Error(`no Parquet files at ${path}`);
  return files;
}

/** Column name → DuckDB type of the union of the files' schemas; a file that is no Parquet refuses the run. */
async function columnsOf(duck: Duck, files: readonly string[], path: string): Promise<Map<string, string>> {
  try {
    const rows = await duck.rows<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM read_parquet(${fileList(files)}, union_by_name = true)`, 'read the Parquet schema');
    return new Map(rows.map((r) => [r.column_name, r.column_type]));
  } catch (err) {
    throw new TrainingDataError(`refusing to train, no model version written: ${path} cannot be read as Parquet: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
}

const fileList = (files: readonly string[]): string => `[${files.map(quote).join(', ')}]`;

/** A row as the record it stands for: NULLs are absent fields, MAP and STRUCT values are objects. */
function recordOf(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (v === null || v === undefined) continue;
    out[k] = toPlain(v);
  }
  return out;
}

function toPlain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v) && v.every((e) => e !== null && typeof e === 'object' && 'key' in e && 'value' in e)) {
    return Object.fromEntries((v as { key: unknown; value: unknown }[]).map((e) => [String(e.key), toPlain(e.value)]));
  }
  if (Array.isArray(v)) return v.map(toPlain);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toPlain(x)]));
  return v;
}

/** Reads the catalogue (small: one record per item) into a Catalog, reporting bad records like cli/inputs.ts. */
async function readCatalog(duck: Duck, path: string, s3: S3Location | undefined, say: (line: string) => void): Promise<{ catalog: Catalog; reports: FileReport[] }> {
  const catalog = new Catalog({ keepRecords: true });
  if ((await inputFormat(path)) === 'jsonl') {
    const r = reporter(path, say);
    await forEachJsonl(path, CatalogItem, (it) => (r.onRecord(), catalog.upsert(it)), r.onError);
    return { catalog, reports: [r.report] };
  }
  const reports: FileReport[] = [];
  for (const file of await parquetFiles(duck, path, s3)) {
    const r = reporter(file, say, 'row');
    const rows = await duck.rows<Record<string, unknown>>(`SELECT * FROM read_parquet(${quote(file)})`, `read the catalogue ${file}`).catch((err: unknown) => {
      throw new TrainingDataError(`refusing to train, no model version written: ${file} cannot be read as Parquet: ${(err as Error).message.split('\n')[0]}`, { cause: err });
    });
    rows.forEach((row, i) => {
      const rec = recordOf(row);
      const errs = fieldErrors(CatalogItem, rec);
      if (errs.length === 0) {
        r.onRecord();
        catalog.upsert(rec as CatalogItem);
      } else for (const e of errs) r.onError({ line: i + 1, field: e.field, message: e.message });
    });
    reports.push(r.report);
  }
  return { catalog, reports };
}

/** JSON Lines events: validated line by line in JavaScript (cli/inputs.ts's messages), appended to raw_events. */
async function appendJsonlEvents(duck: Duck, path: string, say: (line: string) => void): Promise<FileReport[]> {
  const app = await duck.con.createAppender('raw_events');
  const r = reporter(path, say);
  await forEachJsonl(
    path,
    ShopEvent,
    (e, line) => {
      r.onRecord();
      app.appendDouble(line);
      app.appendBoolean(true);
      app.appendVarchar(e.type);
      app.appendVarchar(e.userId);
      app.appendVarchar(e.itemId);
      if (e.type === 'purchase') app.appendVarchar(e.orderId ?? `${e.userId}@${e.timestamp}`);
      else app.appendNull();
      app.appendDouble(Date.parse(e.timestamp));
      app.endRow();
      if ((r.report.records & 0x3ffff) === 0) say(`reading events: ${r.report.records}`);
    },
    r.onError,
  );
  app.flushSync();
  app.closeSync();
  return [r.report];
}

/** Parquet events: checked in SQL (schema-check.ts); the rejected rows' messages come from TypeBox. */
async function appendParquetEvents(duck: Duck, path: string, s3: S3Location | undefined, say: (line: string) => void): Promise<FileReport[]> {
  const files = await parquetFiles(duck, path, s3);
  const columns = await columnsOf(duck, files, path);
  const problem = columnProblems(ShopEvent, columns, 'event');
  if (problem) throw new TrainingDataError(`refusing to train, no model version written: ${path} cannot hold events: ${problem}`);
  const valid = validRowSql(ShopEvent, columns);
  const col = (name: string, fallback = 'NULL'): string => (columns.has(name) ? ident(name) : fallback);
  const tsType = columns.get('timestamp')!;
  const tsMs = 'epoch_ms(CAST("timestamp" AS TIMESTAMPTZ))';
  // An order without an id is one shopper's purchases at one timestamp, as cli/inputs.ts keys it.
  const tsText = tsType === 'VARCHAR' ? '"timestamp"' : 'CAST(epoch_ms(CAST("timestamp" AS TIMESTAMPTZ)) AS VARCHAR)';
  const fileIndex = files.length === 1 ? '0' : `list_position(${fileList(files)}, filename) - 1`;
  await duck.run(
    `CREATE OR REPLACE VIEW src_events AS SELECT *, ${fileIndex} AS file_index FROM read_parquet(${fileList(files)}, filename = true, file_row_number = true, union_by_name = true)`,
    `open the Parquet events at ${path}`,
  );
  // One pass: every row with its verdict; the counts and the first bad rows come from that table.
  await duck.run(
    `INSERT INTO raw_events SELECT CAST(file_index AS DOUBLE) * ${FILE_STRIDE} + file_row_number, ok, "type", "userId", "itemId",
  CASE WHEN ok AND "type" = 'purchase' THEN COALESCE(${col('orderId')}, "userId" || '@' || ${tsText}) END, CASE WHEN ok THEN ${tsMs} END
FROM (SELECT *, COALESCE(${valid}, FALSE) AS ok FROM src_events) t`,
    `load the events at ${path}`,
  );
  const counts = await duck.rows<{ k: number; records: number; rejected: number }>(
    `SELECT CAST(floor(seq / ${FILE_STRIDE}) AS INTEGER) AS k, COUNT(*) AS records, COUNT(*) FILTER (WHERE NOT ok) AS rejected FROM raw_events GROUP BY k ORDER BY k`,
    `check the events at ${path}`,
  );
  const rejected = counts.reduce((n, c) => n + Number(c.rejected), 0);
  const bad =
    rejected === 0
      ? []
      : await duck.rows<{ k: number; row: number }>(
          `SELECT k, row FROM (SELECT CAST(floor(seq / ${FILE_STRIDE}) AS INTEGER) AS k, CAST(seq % ${FILE_STRIDE} AS BIGINT) + 1 AS row,
    ROW_NUMBER() OVER (PARTITION BY floor(seq / ${FILE_STRIDE}) ORDER BY seq) AS r FROM raw_events WHERE NOT ok) t WHERE r <= 10 ORDER BY k, row`,
          `find the rejected events at ${path}`,
        );
  const reports: FileReport[] = files.map((file, k) => {
    const c = counts.find((x) => Number(x.k) === k);
    return { file, records: Number(c?.records ?? 0), rejected: Number(c?.rejected ?? 0), firstBadLines: bad.filter((b) => Number(b.k) === k).map((b) => Number(b.row)) };
  });
  // The first rejected rows as they are in the file, with TypeBox's words for what is wrong (a JSON Lines line's).
  const first = bad.slice(0, MAX_SHOWN);
  const shown =
    first.length === 0
      ? []
      : await duck.rows<Record<string, unknown>>(
          `SELECT * EXCLUDE (filename, file_index, file_row_number), filename AS __file, file_row_number + 1 AS __row FROM src_events
WHERE ${first.map((b) => `(file_index = ${Number(b.k)} AND file_row_number = ${Number(b.row) - 1})`).join(' OR ')} ORDER BY file_index, file_row_number`,
          `read the rejected events at ${path}`,
        );
  for (const row of shown) {
    const { __file, __row, ...rest } = row;
    const errs = fieldErrors(ShopEvent, recordOf(rest));
    for (const e of errs.length > 0 ? errs : [{ field: '/', message: 'does not match the event schema' }]) say(`${String(__file)}: row ${Number(__row)}: ${e.field} ${e.message}`);
  }
  return reports;
}

export interface StageOptions {
  readonly catalog: string;
  readonly events: string;
  /** The trainer's privacy (trust.ts trainerPrivacy): the same pseudonymiser, erased set and retention. */
  readonly privacy: EventPolicyOptions;
  /** Train on the last N days of events only (counted back from the newest). */
  readonly historyDays?: number;
  /** The object store for `s3://` paths (the model store's, when set). */
  readonly s3?: S3Location;
  /** Where progress and bad records are reported (stderr). */
  readonly say: (line: string) => void;
}

export interface Staged {
  readonly catalog: Catalog;
  readonly files: FileReport[];
  /** Valid events naming an item absent from the catalogue (not trained on). */
  readonly skipped: number;
  readonly dropped: Dropped;
  /** Events left to train on. */
  readonly events: number;
  /** With a history window: the events before it was applied. */
  readonly beforeWindow?: number;
  readonly users: number;
  readonly source: string;
}

/** Reads, validates and privatises the inputs into DuckDB's `items`, `events` and `users` tables. */
export async function stageInputs(duck: Duck, o: StageOptions): Promise<Staged> {
  const { catalog, reports: catalogReports } = await readCatalog(duck, o.catalog, o.s3, o.say);
  await duck.run('CREATE OR REPLACE TABLE items_by_id (idx INTEGER, id VARCHAR, cat INTEGER)');
  const items = await duck.con.createAppender('items_by_id');
  for (let i = 0; i < catalog.size; i++) {
    items.appendInteger(i);
    items.appendVarchar(catalog.id(i));
    items.appendInteger(catalog.categoryOf[i]!);
    items.endRow();
  }
  items.flushSync();
  items.closeSync();
  await duck.run('CREATE OR REPLACE TABLE items AS SELECT idx, cat FROM items_by_id');

  await duck.run('CREATE OR REPLACE TABLE raw_events (seq DOUBLE, ok BOOLEAN, type VARCHAR, user_id VARCHAR, item_id VARCHAR, okey VARCHAR, ts DOUBLE)');
  const eventReports = (await inputFormat(o.events)) === 'jsonl' ? await appendJsonlEvents(duck, o.events, o.say) : await appendParquetEvents(duck, o.events, o.s3, o.say);
  const files = [...catalogReports, ...eventReports];
  const rejected = files.reduce((s, f) => s + f.rejected, 0);
  if (rejected > MAX_SHOWN) o.say(`… more bad records not shown (${rejected} bad lines in all)`);

  // One keyed HMAC and one erased check per distinct shopper (of valid events naming a catalogue item), as
  // privacy/events.ts privatiseEvents does; each shopper gets a provisional number for the joins below.
  await duck.run('CREATE OR REPLACE TABLE user_map (user_id VARCHAR, uid INTEGER, pseudonym VARCHAR, erased BOOLEAN)');
  const map = await duck.con.createAppender('user_map');
  const p = o.privacy;
  let uid = 0;
  await duck.forEachRow(
    'SELECT DISTINCT r.user_id FROM raw_events r SEMI JOIN items_by_id i ON i.id = r.item_id WHERE r.ok',
    (get) => {
      const id = get(0) as string;
      map.appendVarchar(id);
      map.appendInteger(uid++);
      map.appendVarchar(p.pseudonymiser.pseudonym(id));
      map.appendBoolean(p.erased.size > 0 && p.erased.has(p.pseudonymiser.all(id)));
      map.endRow();
    },
    'pseudonymise the shoppers',
  );
  map.flushSync();
  map.closeSync();
  const cutoff = p.retentionDays === undefined ? null : (p.now ?? Date.now)() - p.retentionDays * DAY_MS;
  const fresh = cutoff === null ? 'TRUE' : `r.ts >= ${cutoff}`;
  // Events naming no catalogue item are skipped first (as cli/inputs.ts does), then expired ones, then erased shoppers'.
  await duck.run(
    `CREATE OR REPLACE TABLE private AS SELECT CAST(r.seq AS BIGINT) AS seq, r.type, m.uid, i.idx AS item, r.okey, CAST(r.ts AS BIGINT) AS ts
FROM raw_events r JOIN items_by_id i ON i.id = r.item_id JOIN user_map m ON m.user_id = r.user_id WHERE r.ok AND ${fresh} AND NOT m.erased`,
    'match the events to the catalogue and apply the privacy rules',
  );
  const c = await duck.one<{ valid: number; known: number; expired: number; erased: number }>(
    `SELECT (SELECT COUNT(*) FROM raw_events WHERE ok) AS valid, COUNT(*) AS known, COUNT(*) FILTER (WHERE NOT (${fresh})) AS expired, COUNT(*) FILTER (WHERE (${fresh}) AND m.erased) AS erased
FROM raw_events r JOIN items_by_id i ON i.id = r.item_id JOIN user_map m ON m.user_id = r.user_id WHERE r.ok`,
    'count the events',
  );
  const skipped = Number(c.valid) - Number(c.known);
  if (skipped > 0) o.say(`${skipped} events name items absent from the catalogue and were skipped`);
  const dropped: Dropped = { erased: Number(c.erased), expired: Number(c.expired) };
  await duck.run('DROP TABLE raw_events');
  // Shoppers in order of their first event; a shopper whose events all fall outside the window keeps a row.
  await duck.run(
    `CREATE OR REPLACE TABLE numbered AS SELECT f.uid, CAST(ROW_NUMBER() OVER (ORDER BY f.first) - 1 AS INTEGER) AS u, m.pseudonym
FROM (SELECT uid, MIN(seq) AS first FROM private GROUP BY uid) f JOIN user_map m ON m.uid = f.uid`,
    'number the shoppers',
  );
  await duck.run('CREATE OR REPLACE TABLE users AS SELECT u, pseudonym AS id FROM numbered');
  await duck.run('DROP TABLE user_map');
  let window = 'TRUE';
  let beforeWindow: number | undefined;
  if (o.historyDays !== undefined) {
    const w = await duck.one<{ newest: number | null; n: number }>('SELECT MAX(ts) AS newest, COUNT(*) AS n FROM private');
    beforeWindow = Number(w.n);
    if (w.newest !== null) window = `p.ts >= ${Number(w.newest) - o.historyDays * DAY_MS}`;
  }
  await duck.run(
    `CREATE OR REPLACE TABLE events AS
SELECT p.seq, CAST(CASE p.type WHEN 'view' THEN 0 WHEN 'add_to_cart' THEN 1 ELSE 2 END AS INTEGER) AS type, u.u, p.item, COALESCE(o.o, -1) AS o, p.ts
FROM private p JOIN numbered u ON u.uid = p.uid
LEFT JOIN (SELECT okey, CAST(ROW_NUMBER() OVER () - 1 AS INTEGER) AS o FROM (SELECT DISTINCT okey FROM private WHERE okey IS NOT NULL) t) o ON o.okey = p.okey
WHERE ${window}`,
    'stage the events',
  );
  await duck.run('DROP TABLE private');
  await duck.run('DROP TABLE numbered');
  const { events, users } = await duck.one<{ events: number; users: number }>('SELECT (SELECT COUNT(*) FROM events) AS events, (SELECT COUNT(*) FROM users) AS users');
  return { catalog, files, skipped, dropped, events: Number(events), ...(beforeWindow !== undefined ? { beforeWindow } : {}), users: Number(users), source: `${o.catalog} + ${o.events}` };
}
