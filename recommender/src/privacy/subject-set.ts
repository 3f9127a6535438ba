/**
 * A set of pseudonyms shared by every scoring pod and the trainer: the erased shoppers and the opted-out
 * ones. On the state volume it is a directory with one empty-ish file per pseudonym, so adding and
 * removing are single atomic file operations (no file has two writers), and a pod sees what another
 * added by listing the directory when its modification time moves. Without a state directory (the demo,
 * tests of pure logic) the set lives in memory.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PSEUDONYM_PATTERN } from './pseudonym.js';

const COARSE_MTIME_MS = 2000;

export interface SubjectSet {
  /** True when any of the pseudonyms (one shopper under several keys) is in the set. */
  has(pseudonyms: readonly string[]): boolean;
  /** When the pseudonym was added, or undefined. */
  since(pseudonym: string): Date | undefined;
  /** Adds a pseudonym; false when it was there already. */
  add(pseudonym: string, at: Date): Promise<boolean>;
  /** Removes pseudonyms; how many were there. */
  delete(pseudonyms: readonly string[]): Promise<number>;
  /** Picks up what other processes changed; returns the pseudonyms added since the last look. */
  refresh(): Promise<string[]>;
  list(): string[];
  readonly size: number;
}

function checkName(pseudonym: string): void {
  if (!PSEUDONYM_PATTERN.test(pseudonym)) throw new Error(`'${pseudonym}' is not a pseudonym`);
}

export class MemorySubjectSet implements SubjectSet {
  protected readonly entries = new Map<string, Date>();

  has(pseudonyms: readonly string[]): boolean {
    for (const p of pseudonyms) if (this.entries.has(p)) return true;
    return false;
  }

  since(pseudonym: string): Date | undefined {
    return this.entries.get(pseudonym);
  }

  async add(pseudonym: string, at: Date): Promise<boolean> {
    checkName(pseudonym);
    if (this.entries.has(pseudonym)) return false;
    this.entries.set(pseudonym, at);
    return true;
  }

  async delete(pseudonyms: readonly string[]): Promise<number> {
    let n = 0;
    for (const p of pseudonyms) if (this.entries.delete(p)) n++;
    return n;
  }

  async refresh(): Promise<string[]> {
    return [];
  }

  list(): string[] {
    return [...this.entries.keys()];
  }

  get size(): number {
    return this.entries.size;
  }
}

export class DirSubjectSet extends MemorySubjectSet {
  private seenMtime = -1;

  private constructor(private readonly dir: string) {
    super();
  }

  /** Opens (creating) the directory and reads what is there. */
  static async open(dir: string): Promise<DirSubjectSet> {
    await mkdir(dir, { recursive: true });
    const set = new DirSubjectSet(dir);
    await set.refresh();
    return set;
  }

  override async add(pseudonym: string, at: Date): Promise<boolean> {
    checkName(pseudonym);
    if (this.entries.has(pseudonym)) return false;
    // Written aside, then renamed: a reader never sees a half-written entry.
    const tmp = join(this.dir, `.${pseudonym}.${randomBytes(4).toString('hex')}.tmp`);
    await writeFile(tmp, `${JSON.stringify({ at: at.toISOString() })}\n`);
    await rename(tmp, join(this.dir, pseudonym));
    this.entries.set(pseudonym, at);
    return true;
  }

  override async delete(pseudonyms: readonly string[]): Promise<number> {
    let n = 0;
    for (const p of pseudonyms) {
      if (!PSEUDONYM_PATTERN.test(p)) continue;
      try {
        await unlink(join(this.dir, p));
        n++;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      this.entries.delete(p);
    }
    return n;
  }

  override async refresh(): Promise<string[]> {
    const { mtimeMs } = await stat(this.dir);
    // An unchanged modification time is trusted only once it is old enough that a change within the
    // same tick of a coarse clock (NFS: one second) cannot hide behind it.
    if (mtimeMs === this.seenMtime && Date.now() - mtimeMs > COARSE_MTIME_MS) return [];
    this.seenMtime = mtimeMs;
    const present = new Set<string>();
    for (const e of await readdir(this.dir, { withFileTypes: true })) {
      if (e.isFile() && PSEUDONYM_PATTERN.test(e.name)) present.add(e.name);
    }
    const added: string[] = [];
    for (const p of present) {
      if (this.entries.has(p)) continue;
      let at: Date;
      try {
        at = (await stat(join(this.dir, p))).mtime;
      } catch {
        continue; // removed meanwhile
      }
      this.entries.set(p, at);
      added.push(p);
    }
    for (const p of [...this.entries.keys()]) if (!present.has(p)) this.entries.delete(p);
    return added;
  }
}
