/**
 * The durable audit sink: JSON Lines files on the state volume, one directory per writer (scoring pod),
 * so no file ever has two writers. A file is rotated when it would pass `maxFileBytes` or is older than
 * `rotateMs`; files older than `retentionDays` are removed (those of every writer: a pod that is gone
 * leaves its files behind). A restarted writer continues its chain from its newest file.
 */
import { mkdir, open, readdir, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { checker } from '../data/validate.js';
import { Chain } from './chain.js';
import { AUDIT_FORMAT, AuditLine } from './record.js';
import { BufferedSink, type BufferOptions } from './sink.js';

export interface FileSinkOptions extends BufferOptions {
  /** The audit directory (`TANDEM_AUDIT_DIR`), shared by all writers. */
  root: string;
  /** This writer's name (the pod name); its files go to `<root>/<writer>/`. */
  writer: string;
  /** Default 64 MiB. */
  maxFileBytes?: number;
  /** Default one hour. */
  rotateMs?: number;
  retentionDays: number;
}

const WRITER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;
/** Bytes read back from the end of the newest file to find its last line. */
const TAIL_BYTES = 4 << 20;
const isLine = checker(AuditLine);

/** `20261125T101500123Z`: sorts as the time it names. */
export function compactTime(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:.]/g, '');
}

/** The time a file was opened, from its name (`<compactTime>-<seq>.jsonl`), or undefined. */
export function fileOpenedAt(name: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z-\d+\.jsonl$/.exec(basename(name));
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +m[7]!) : undefined;
}

export class FileSink extends BufferedSink {
  readonly name = 'file';
  private fh: FileHandle | undefined;
  private path: string | undefined;
  private size = 0;
  private openedAt = 0;
  private readonly dir: string;
  private readonly maxFileBytes: number;
  private readonly rotateMs: number;

  private constructor(private readonly fopts: FileSinkOptions) {
    super(fopts);
    if (!WRITER.test(fopts.writer)) throw new Error(`audit writer name '${fopts.writer}' is not a safe directory name`);
    this.dir = join(fopts.root, fopts.writer);
    this.maxFileBytes = fopts.maxFileBytes ?? 64 << 20;
    this.rotateMs = fopts.rotateMs ?? 3_600_000;
  }

  /** Creates the writer's directory, continues its chain, and removes files past retention. */
  static async open(opts: FileSinkOptions): Promise<FileSink> {
    const sink = new FileSink(opts);
    await mkdir(sink.dir, { recursive: true });
    sink.chain = await continueChain(sink.dir);
    await sweepAudit(opts.root, opts.retentionDays, sink.clock(), { dir: sink.dir });
    return sink;
  }

  /** The file being written, if one is open. */
  get currentFile(): string | undefined {
    return this.path;
  }

  /**
   * A file is rotated once it reaches `maxFileBytes` (so it passes it by at most one batch) or `rotateMs`;
   * batches encoded but not yet written count towards its size.
   */
  protected override mustPrepare(): boolean {
    return !this.fh || this.clock() - this.openedAt >= this.rotateMs || this.size + this.encodedBytes >= this.maxFileBytes;
  }

  protected override async beforeBatch(): Promise<void> {
    const now = this.clock();
    if (!this.fh || now - this.openedAt >= this.rotateMs || this.size + this.encodedBytes >= this.maxFileBytes) await this.rotate(now);
  }

  protected async append(bytes: Buffer): Promise<void> {
    const fh = this.fh!;
    const at = this.size;
    try {
      const { bytesWritten } = await fh.write(bytes);
      if (bytesWritten !== bytes.length) throw new Error(`short write to ${this.path} (${bytesWritten} of ${bytes.length} bytes)`);
      this.size += bytes.length;
    } catch (err) {
      await fh.truncate(at).catch(() => undefined); // leave no partial batch; if even this fails the verifier will say so
      throw new Error(`failed to write audit records to ${this.path}: ${(err as Error).message}`, { cause: err });
    }
  }

  protected override async release(): Promise<void> {
    await this.fh?.close();
    this.fh = undefined;
  }

  private async rotate(now: number): Promise<void> {
    await this.release();
    const name = `${compactTime(now)}-${String(this.chain.seq).padStart(12, '0')}.jsonl`;
    const path = join(this.dir, name);
    await mkdir(this.dir, { recursive: true }); // another writer's sweep may have removed it while it was empty
    const fh = await open(path, 'a');
    const line = this.chain.line({ type: 'open', v: AUDIT_FORMAT, time: new Date(now).toISOString(), writer: this.fopts.writer, file: name }, null);
    try {
      await fh.write(line);
    } catch (err) {
      await fh.close();
      throw err;
    }
    this.fh = fh;
    this.path = path;
    this.outcomes.clear(); // each file holds the outcomes its decisions refer to
    this.size = Buffer.byteLength(line);
    this.openedAt = now;
    await sweepAudit(this.fopts.root, this.fopts.retentionDays, now, { file: path, dir: this.dir });
  }
}

/** The chain position after the last complete line of the writer's newest file; a torn last line is cut off. */
async function continueChain(dir: string): Promise<Chain> {
  const files = (await readdir(dir)).filter((f) => fileOpenedAt(f) !== undefined).sort();
  for (const name of files.reverse()) {
    const path = join(dir, name);
    const fh = await open(path, 'r+');
    try {
      const { size } = await fh.stat();
      const start = Math.max(0, size - TAIL_BYTES);
      const buf = Buffer.alloc(size - start);
      await fh.read(buf, 0, buf.length, start);
      const end = buf.lastIndexOf(0x0a);
      if (end + 1 < buf.length) await fh.truncate(start + end + 1); // a line torn by a crash
      const lines = buf.subarray(0, end + 1).toString('utf8').split('\n');
      for (let i = lines.length - 1; i >= 0; i--) {
        if (lines[i] === '') continue;
        let parsed: unknown;
        try {
          parsed = JSON.parse(lines[i]!);
        } catch {
          continue;
        }
        if (isLine.Check(parsed)) return new Chain({ seq: parsed.seq + 1, prev: parsed.hash });
      }
    } finally {
      await fh.close();
    }
  }
  return new Chain();
}

/**
 * Removes audit files (of every writer under `root`) last written more than `retentionDays` ago, and
 * writer directories left empty; never the `keep` file or directory. Returns the removed files.
 */
export async function sweepAudit(root: string, retentionDays: number, now: number, keep: { file?: string; dir?: string } = {}): Promise<string[]> {
  const cutoff = now - retentionDays * 86_400_000;
  const removed: string[] = [];
  let writers: string[];
  try {
    writers = await readdir(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return removed;
    throw err;
  }
  for (const w of writers) {
    const dir = join(root, w);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue; // not a directory, or removed meanwhile
    }
    let left = names.length;
    for (const name of names) {
      const path = join(dir, name);
      if (path === keep.file || fileOpenedAt(name) === undefined) continue;
      try {
        if ((await stat(path)).mtimeMs < cutoff) {
          await unlink(path);
          removed.push(path);
          left--;
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    if (left === 0 && dir !== keep.dir) await rmdir(dir).catch(() => undefined); // fails harmlessly if a file appeared
  }
  return removed;
}
