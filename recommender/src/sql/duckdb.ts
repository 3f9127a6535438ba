/**
 * The embedded engine: DuckDB in-process (@duckdb/node-api), on a database file in a scratch directory so
 * that sorts, joins and aggregates larger than `memory_limit` spill to disk instead of growing the heap.
 * `s3://` inputs go through DuckDB's own httpfs extension, loaded from TANDEM_DUCKDB_EXTENSIONS (the layout
 * hack/python-tools.sh installs; DuckDB's default directory otherwise), with credentials from the model
 * store's settings (TANDEM_MODEL_S3_*) or the standard AWS_* variables.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { Env } from '../../../cdk8s/constants.js';
import type { S3Location } from '../model/s3-source.js';
import type { JobStep } from './training-job.js';

export interface DuckOptions {
  /** Scratch directory: the database file and DuckDB's spill files. */
  readonly dir: string;
  /** DuckDB's buffer limit, e.g. `2GB`. Default TANDEM_DUCKDB_MEMORY, else 2GB. */
  readonly memoryLimit?: string;
  /** Worker threads. Default: DuckDB's (the cores it sees). */
  readonly threads?: number;
  /** Keep rows in insertion order through scans and writes (rewriting a file); off by default. */
  readonly preserveOrder?: boolean;
}

/**
 * Where DuckDB loads httpfs from: TANDEM_DUCKDB_EXTENSIONS, else where `npm run tools` installs it (a checkout),
 * else DuckDB's own default (~/.duckdb/extensions).
 */
function extensionDir(): string | undefined {
  const set = process.env[Env.DUCKDB_EXTENSIONS];
  if (set) return set;
  const tools = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tandem-tools', 'duckdb-extensions');
  return existsSync(tools) ? tools : undefined;
}

/** A quoted SQL string literal. */
export function quote(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** A quoted SQL identifier. */
export function ident(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

export class Duck {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly con: DuckDBConnection,
  ) {}

  static async open(o: DuckOptions): Promise<Duck> {
    await mkdir(o.dir, { recursive: true });
    const config: Record<string, string> = {
      memory_limit: o.memoryLimit ?? (process.env[Env.DUCKDB_MEMORY] || '2GB'),
      temp_directory: join(o.dir, 'spill'),
      // Row order is set by ORDER BY where it matters; not keeping insertion order lets large scans stream.
      preserve_insertion_order: String(o.preserveOrder ?? false),
      autoinstall_known_extensions: 'false',
      ...(o.threads ? { threads: String(o.threads) } : {}),
      ...(extensionDir() ? { extension_directory: extensionDir()! } : {}),
    };
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(join(o.dir, 'train.duckdb'), config);
    } catch (err) {
      throw new Error(`failed to open DuckDB in ${o.dir}: ${(err as Error).message}`, { cause: err });
    }
    const duck = new Duck(instance, await instance.connect());
    // ICU is built in; date-times without an offset never pass the schema, but be explicit.
    await duck.run("SET TimeZone = 'UTC'", 'set the time zone');
    return duck;
  }

  async run(sql: string, what = 'run a statement'): Promise<void> {
    try {
      const t0 = performance.now();
      await this.con.run(sql);
      if (process.env.TANDEM_DUCKDB_PROFILE) process.stderr.write(`duckdb ${Math.round(performance.now() - t0)} ms: ${what}\n`);
    } catch (err) {
      throw new Error(`failed to ${what}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Rows as objects (small results only). */
  async rows<T = Record<string, DuckDBValue>>(sql: string, what = 'query'): Promise<T[]> {
    try {
      return (await this.con.runAndReadAll(sql)).getRowObjectsJS() as T[];
    } catch (err) {
      throw new Error(`failed to ${what}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** The one row of a query that returns exactly one (an aggregate). */
  async one<T = Record<string, DuckDBValue>>(sql: string, what = 'query'): Promise<T> {
    const [row] = await this.rows<T>(sql, what);
    if (row === undefined) throw new Error(`failed to ${what}: no row`);
    return row;
  }

  /** Calls `onRow` with each row's values, chunk by chunk, without materialising the result. */
  async forEachRow(sql: string, onRow: (get: (column: number) => DuckDBValue) => void, what = 'read a table'): Promise<void> {
    try {
      const result = await this.con.stream(sql);
      for (;;) {
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        const vectors = Array.from({ length: chunk.columnCount }, (_, c) => chunk.getColumnVector(c));
        let row = 0;
        const get = (column: number): DuckDBValue => vectors[column]!.getItem(row);
        for (; row < chunk.rowCount; row++) onRow(get);
      }
    } catch (err) {
      throw new Error(`failed to ${what}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Loads httpfs and registers the object store's credentials, once, before the first `s3://` path is read. */
  async enableS3(location: S3Location | undefined, env: NodeJS.ProcessEnv = process.env): Promise<void> {
    if (this.s3Ready) return;
    await this.run('LOAD httpfs', 'load DuckDB\'s httpfs extension (install it with `npm run tools`, or point TANDEM_DUCKDB_EXTENSIONS at it)');
    const secret: Record<string, string> = { TYPE: 's3', REGION: location?.region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1') };
    const endpoint = location?.endpoint ?? env.AWS_ENDPOINT_URL;
    if (endpoint) {
      const url = new URL(endpoint);
      secret.ENDPOINT = url.host + url.pathname.replace(/\/$/, '');
      secret.USE_SSL = String(url.protocol === 'https:');
    }
    if (location?.forcePathStyle || env.AWS_S3_FORCE_PATH_STYLE === 'true') secret.URL_STYLE = 'path';
    const dir = location?.credentialsDir;
    const keyId = dir ? (await readFile(join(dir, 'access-key-id'), 'utf8')).trim() : env.AWS_ACCESS_KEY_ID;
    const key = dir ? (await readFile(join(dir, 'secret-access-key'), 'utf8')).trim() : env.AWS_SECRET_ACCESS_KEY;
    if (keyId && key) Object.assign(secret, { KEY_ID: keyId, SECRET: key });
    const body = Object.entries(secret)
      .map(([k, v]) => `${k} ${k === 'USE_SSL' ? v : quote(v)}`)
      .join(', ');
    await this.run(`CREATE OR REPLACE SECRET tandem_s3 (${body})`, 'register the object store credentials with DuckDB');
    this.s3Ready = true;
  }
  private s3Ready = false;

  /**
   * Runs the steps in order, each into a table (or a view), dropping every table no later step reads and
   * that is not in `keep`, so spill and disk hold only what is still needed.
   */
  async runSteps(steps: readonly JobStep[], keep: readonly string[], progress: (step: string, done: number, total: number) => void = () => {}): Promise<void> {
    const refs = stepReferences(steps);
    const dropped = new Set<string>();
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      progress(step.name, i, steps.length);
      await this.run(`CREATE OR REPLACE ${step.view ? 'VIEW' : 'TABLE'} ${step.name} AS ${step.sql}`, `run training step '${step.name}'`);
      const live = new Set(keep);
      for (const later of steps.slice(i + 1)) for (const r of refs.get(later.name)!) live.add(r);
      for (const done of steps.slice(0, i + 1)) {
        if (done.view || live.has(done.name) || dropped.has(done.name)) continue;
        await this.run(`DROP TABLE ${done.name}`, `drop the table '${done.name}'`);
        dropped.add(done.name);
      }
    }
    progress('done', steps.length, steps.length);
  }

  close(): void {
    this.con.closeSync();
    this.instance.closeSync();
  }
}

/** Whether `sql` names the table `name` (a whole word). */
export function mentions(sql: string, name: string): boolean {
  return new RegExp(`\\b${name}\\b`).test(sql);
}

/** The earlier steps each step reads, through the views it reads (a view is only its query). */
export function stepReferences(steps: readonly JobStep[]): Map<string, Set<string>> {
  const refs = new Map<string, Set<string>>();
  steps.forEach((step, i) => {
    const direct = steps.slice(0, i).filter((s) => mentions(step.sql, s.name));
    const all = new Set<string>();
    for (const d of direct) {
      all.add(d.name);
      if (d.view) for (const r of refs.get(d.name)!) all.add(r);
    }
    refs.set(step.name, all);
  });
  return refs;
}
