/**
 * A small file holding a secret (a mounted Kubernetes Secret), kept current without a restart: read at
 * start, then re-read when its directory changes (Kubernetes updates a Secret volume by swapping its
 * `..data` symlink) and on a poll, as a fallback where directory events do not arrive. Only a change of
 * content (sha256) is parsed and swapped in; content that fails to parse is refused, and the previous
 * value stays. Log lines name the file and what it holds, never its content.
 */
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError } from '../config.js';

export interface SecretFileOptions<T> {
  path: string;
  /** What the file holds, for log lines: "API keys". */
  what: string;
  /** Throws on bad content; its error message must not quote the content. */
  parse: (text: string) => T;
  logger: Logger;
  /** Poll interval, ms. Default 10 s (a Secret update takes up to a minute to reach the pod anyway). */
  pollMs?: number;
  /** Called after a new value is swapped in. */
  onChange?: (value: T) => void;
}

/** Thrown when the file cannot be read or parsed at start (startup then fails with this message). */
export class SecretFileError extends ConfigError {}

export class SecretFile<T> {
  private current: T;
  private hash: string;
  private readonly timer: NodeJS.Timeout;
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private reading: Promise<boolean> | undefined;

  private constructor(
    private readonly opts: SecretFileOptions<T>,
    first: { value: T; hash: string },
  ) {
    this.current = first.value;
    this.hash = first.hash;
    this.timer = setInterval(() => void this.reload(), opts.pollMs ?? 10_000);
    this.timer.unref();
    try {
      this.watcher = watch(dirname(opts.path), () => {
        clearTimeout(this.debounce);
        this.debounce = setTimeout(() => void this.reload(), 50);
        this.debounce.unref();
      });
      this.watcher.on('error', () => this.watcher?.close()); // the poll carries on
      this.watcher.unref();
    } catch {
      this.watcher = undefined;
    }
  }

  /** Reads and parses the file; fails (naming the file, never the content) if it cannot. */
  static async open<T>(opts: SecretFileOptions<T>): Promise<SecretFile<T>> {
    let text: string;
    try {
      text = await readFile(opts.path, 'utf8');
    } catch (err) {
      throw new SecretFileError(`failed to read the ${opts.what} file ${opts.path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    try {
      return new SecretFile(opts, { value: opts.parse(text), hash: sha256(text) });
    } catch (err) {
      throw new SecretFileError(`failed to read the ${opts.what} file ${opts.path}: ${(err as Error).message}`);
    }
  }

  get value(): T {
    return this.current;
  }

  /** Re-reads the file now; resolves true when a new value was swapped in. Never rejects. */
  reload(): Promise<boolean> {
    this.reading ??= this.read().finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async read(): Promise<boolean> {
    const { path, what, logger } = this.opts;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      logger.error({ file: path, code: (err as NodeJS.ErrnoException).code }, `failed to re-read the ${what} file; keeping the previous ${what}`);
      return false;
    }
    const hash = sha256(text);
    if (hash === this.hash) return false;
    let value: T;
    try {
      value = this.opts.parse(text);
    } catch (err) {
      logger.error({ file: path, reason: (err as Error).message }, `refused the changed ${what} file; keeping the previous ${what}`);
      this.hash = hash; // refused once, not again on every poll
      return false;
    }
    this.current = value;
    this.hash = hash;
    logger.info({ file: path }, `reloaded the ${what}`);
    this.opts.onChange?.(value);
    return true;
  }

  close(): void {
    clearInterval(this.timer);
    clearTimeout(this.debounce);
    this.watcher?.close();
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
