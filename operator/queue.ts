/**
 * A work queue with client-go's semantics: keys are de-duplicated, a key being processed is never
 * handed to a second worker (a re-add while processing is parked until `done`), failures back off
 * per key with jitter and a cap, and an overall token bucket limits the retry rate.
 */
export interface QueueOptions {
  /** First retry delay. Default 5 ms. */
  readonly baseDelayMs?: number;
  /** Longest retry delay. Default 5 min. */
  readonly maxDelayMs?: number;
  /** Overall retry rate (tokens per second) and burst. Default 10/s, burst 100. */
  readonly ratePerSecond?: number;
  readonly burst?: number;
  /** Random source in [0, 1) for jitter; injectable for deterministic tests. */
  readonly random?: () => number;
  readonly now?: () => number;
  readonly onDepthChange?: (depth: number) => void;
  readonly onRetry?: (key: string) => void;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private readonly addedAt = new Map<string, number>();
  private tokens: number;
  private lastRefill: number;
  private shuttingDown = false;
  private readonly opts: Required<Omit<QueueOptions, 'onDepthChange' | 'onRetry'>> & Pick<QueueOptions, 'onDepthChange' | 'onRetry'>;

  constructor(options: QueueOptions = {}) {
    this.opts = {
      baseDelayMs: 5,
      maxDelayMs: 300_000,
      ratePerSecond: 10,
      burst: 100,
      random: Math.random,
      now: Date.now,
      ...options,
    };
    this.tokens = this.opts.burst;
    this.lastRefill = this.opts.now();
  }

  get depth(): number {
    return this.queue.length;
  }

  /** Adds a key now. A key already waiting is not added twice. */
  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (!this.addedAt.has(key)) this.addedAt.set(key, this.opts.now());
    if (this.processing.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
      return;
    }
    this.queue.push(key);
    this.opts.onDepthChange?.(this.queue.length);
  }

  /** Adds a key after `delayMs`; an earlier pending delayed add for the key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    if (this.timers.has(key)) return;
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, timer);
  }

  /** Re-adds a failed key after its backoff: base × 2^failures (± 20% jitter), capped, and rate limited overall. */
  addRateLimited(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const exp = Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** n);
    const jittered = Math.min(this.opts.maxDelayMs, exp * (0.8 + 0.4 * this.opts.random()));
    const delay = Math.max(jittered, this.bucketDelay());
    this.opts.onRetry?.(key);
    this.addAfter(key, delay);
    return delay;
  }

  /** Clears a key's failure history after it succeeded. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Waits for the next key; undefined once the queue is shut down and drained. */
  async get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) {
      this.opts.onDepthChange?.(this.queue.length);
      this.dirty.delete(key);
      this.processing.add(key);
      return key;
    }
    if (this.shuttingDown) return undefined;
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** How long the key waited in the queue, in seconds (for the queue-duration metric). */
  takeWaitSeconds(key: string): number {
    const since = this.addedAt.get(key);
    this.addedAt.delete(key);
    return since === undefined ? 0 : (this.opts.now() - since) / 1000;
  }

  /** Marks a key's processing finished; a key re-added meanwhile goes back on the queue. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.shuttingDown) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  /** Stops accepting keys; waiting workers get undefined. Keys in flight may still call done(). */
  shutdown(): void {
    this.shuttingDown = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  get inFlight(): number {
    return this.processing.size;
  }

  private bucketDelay(): number {
    const now = this.opts.now();
    this.tokens = Math.min(this.opts.burst, this.tokens + ((now - this.lastRefill) / 1000) * this.opts.ratePerSecond);
    this.lastRefill = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.opts.ratePerSecond) * 1000;
  }
}
