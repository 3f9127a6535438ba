/**
 * The shared tier on Redis (ioredis). Built to never hold a request up: every call has a short timeout
 * and nothing queues while disconnected, so a call to a Redis that is down or slow fails at once or
 * within `timeoutMs`, and the caller computes the list itself. After a failure Redis is skipped for a
 * backoff (doubling to 10 s while it keeps failing, so a slow Redis does not cost every request its
 * timeout); ioredis reconnects by itself. An outage is logged once when it starts and once when it ends.
 *
 * `REDIS_URL` is `redis://[user[:password]@]host:port[/db]` (an ACL user is the URL's user name), or
 * `rediss://…` for TLS. The password, when not in the URL, is asked for on every (re)connect, so a rotated
 * password file is used from the next connection on.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { globEscape } from './key.js';
import type { SharedTier } from './types.js';

export interface RedisTierOptions {
  url: URL;
  /** The password (REDIS_PASSWORD, or the file's current content), read on every connect. */
  password?: () => string | undefined;
  timeoutMs: number;
  backoffMs: number;
  logger: Logger;
  /** Monotonic clock, ms. */
  clock?: () => number;
}

const MAX_BACKOFF_MS = 10_000;
/** Keys deleted per UNLINK when a model version's keys are dropped. */
const DROP_BATCH = 500;

/** Where Redis is, for log lines: never the password. */
function describe(url: URL): string {
  return `${url.protocol}//${url.username ? `${url.username}@` : ''}${url.host}${url.pathname.length > 1 ? url.pathname : ''}`;
}

export class RedisTier implements SharedTier {
  private readonly client: Redis;
  private readonly clock: () => number;
  private readonly where: string;
  /** In an outage: set at its first failure, cleared by a connection or a call that works. */
  private outage = false;
  private retryAt = 0;
  private backoff: number;
  private probe: NodeJS.Timeout | undefined;

  constructor(private readonly opts: RedisTierOptions) {
    this.clock = opts.clock ?? (() => performance.now());
    this.backoff = opts.backoffMs;
    this.where = describe(opts.url);
    this.client = new Redis(opts.url.toString(), {
      ...(opts.url.password || !opts.password ? {} : { password: opts.password() }),
      commandTimeout: opts.timeoutMs,
      connectTimeout: Math.max(1000, opts.timeoutMs),
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      // Commands issued in the same tick go out in one write (many requests at once under load).
      enableAutoPipelining: true,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), 2000),
      lazyConnect: true,
    });
    this.client.on('error', (err: Error) => this.failed(err));
    this.client.on('ready', () => this.recovered());
    this.client.on('reconnecting', () => {
      if (!opts.url.password && opts.password) this.client.options.password = opts.password();
    });
  }

  /**
   * Starts connecting (and reconnecting whenever the connection drops). Separate from the constructor so
   * that a process busy loading its model first does not time its first connection out.
   */
  connect(): void {
    this.client.connect().catch(() => undefined); // reported through the 'error' event
  }

  get available(): boolean {
    return this.client.status === 'ready' && this.clock() >= this.retryAt;
  }

  /** Answering now: connected and not in an outage (the tandem_cache_up gauge). */
  get up(): boolean {
    return this.client.status === 'ready' && !this.outage;
  }

  async get(key: string): Promise<string | undefined> {
    try {
      const value = await this.client.get(key);
      this.recovered();
      return value ?? undefined;
    } catch (err) {
      this.failed(err as Error);
      throw err;
    }
  }

  set(key: string, value: string, ttlMs: number): void {
    if (!this.available) return;
    this.client.set(key, value, 'PX', ttlMs).then(
      () => this.recovered(),
      (err: unknown) => this.failed(err as Error),
    );
  }

  dropPrefix(prefix: string): void {
    this.dropMatching(`${globEscape(prefix)}*`, 'the previous model version’s cached candidate lists');
  }

  dropMatching(pattern: string, what: string): void {
    if (this.client.status !== 'ready') return; // the keys expire with their TTL anyway
    void this.drop(pattern).then(
      (n) => this.opts.logger.info({ keys: n }, `dropped ${what}`),
      (err: unknown) => this.opts.logger.warn({ reason: (err as Error).message }, `failed to drop ${what}; they expire with their TTL`),
    );
  }

  private async drop(pattern: string): Promise<number> {
    let cursor = '0';
    let n = 0;
    do {
      const [next, keys] = await this.client.scan(cursor, 'MATCH', pattern, 'COUNT', DROP_BATCH);
      if (keys.length > 0) n += await this.client.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
    return n;
  }

  private failed(err: Error): void {
    const now = this.clock();
    if (!this.outage) {
      this.outage = true;
      this.opts.logger.warn({ redis: this.where, reason: err.message }, 'Redis cache unavailable; serving without it until it is back');
    } else if (now < this.retryAt) {
      return; // a call that was already under way when the outage began
    } else {
      this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS); // a retry failed
    }
    this.retryAt = now + this.backoff;
    // Still connected (it was slow, or refused a call): ping once the backoff is over, so the outage ends
    // even when no request comes to try. A lost connection ends it by reconnecting ('ready').
    clearTimeout(this.probe);
    this.probe = setTimeout(() => {
      if (this.outage && this.client.status === 'ready') this.client.ping().then(() => this.recovered(), (e: unknown) => this.failed(e as Error));
    }, this.backoff);
    this.probe.unref();
  }

  private recovered(): void {
    if (!this.outage) return;
    this.outage = false;
    this.backoff = this.opts.backoffMs;
    this.retryAt = 0;
    this.opts.logger.info({ redis: this.where }, 'Redis cache is back');
  }

  async close(): Promise<void> {
    clearTimeout(this.probe);
    try {
      await Promise.race([this.client.quit(), new Promise((_, reject) => setTimeout(() => reject(new Error('quit timed out')), 1000).unref())]);
    } catch {
      this.client.disconnect();
    }
  }
}
