/**
 * The candidate cache: the in-process tier (memory.ts) in front, so a hot key costs no network round trip,
 * and optionally a shared tier (Redis) behind it, which all scoring pods read and fill.
 *
 * A miss in memory asks the shared tier once per key at a time (single flight: concurrent requests for
 * the key wait for that one lookup, and for one computation if it misses too). A shared list is used only
 * if it was computed after this pod's last catalogue change, and after its last online update (or less
 * than `maxStaleMs` ago), so what a pod was just told shows on its next request. The clocks compared are
 * the pods' wall clocks. Keys carry the model version; activating a version drops the previous one's keys.
 * When the shared tier fails or is slow, the request is computed here: the cache never fails a request.
 */
import type { CacheConfig } from '../config.js';
import type { ServingModel } from '../engine/serving.js';
import { MemoryTier } from './memory.js';
import { globEscape } from './key.js';
import type { CacheStats, CandidateCache, SharedTier } from './types.js';

/** How a value travels through the shared tier; `decode` answers undefined for a value unusable here. */
export interface Codec<V> {
  encode(value: V, at: number): string;
  decode(text: string): { value: V; at: number } | undefined;
}

export interface TieredCacheOptions<V> {
  /** Candidates in a value (the memory tier's bound). */
  weigh: (value: V) => number;
  shared?: { tier: SharedTier; codec: Codec<V> };
  /** Wall clock, epoch ms (compared with other pods'). */
  now?: () => number;
}

export class TieredCache<V> implements CandidateCache<V> {
  readonly memory: MemoryTier<V>;
  readonly stats: CacheStats;
  private readonly shared: TieredCacheOptions<V>['shared'];
  private readonly now: () => number;
  private readonly inflight = new Map<string, Promise<V>>();
  /** Shared lists computed before this are stale here (this pod's catalogue changed then). */
  private catalogueAt = 0;
  /** This pod's last online update (shared lists before it may serve for `maxStaleMs`). */
  private onlineAt = 0;

  constructor(
    private readonly cfg: CacheConfig,
    opts: TieredCacheOptions<V>,
  ) {
    this.memory = new MemoryTier<V>(cfg, opts.weigh);
    this.shared = opts.shared;
    this.now = opts.now ?? Date.now;
    const memory = this.memory;
    const tier = this.shared?.tier;
    const redis = tier && { hits: 0, misses: 0, errors: 0, get up() { return tier.up; } };
    this.stats = {
      memory: { get hits() { return memory.hits; }, get misses() { return memory.misses; } },
      ...(redis ? { redis } : {}),
    };
  }

  get(key: string, model: ServingModel, catalogGeneration: number, compute: () => V): V | Promise<V> {
    if (!this.cfg.enabled) return compute();
    const hit = this.memory.get(key, model, catalogGeneration);
    if (hit !== undefined) return hit;
    const shared = this.shared;
    if (!shared || !shared.tier.available) {
      if (shared) this.stats.redis!.errors++;
      const value = compute();
      this.memory.set(key, model, catalogGeneration, value);
      return value;
    }
    const sharedKey = `${this.cfg.redis.keyPrefix}${model.version}:${key}`;
    let flight = this.inflight.get(sharedKey);
    if (!flight) {
      flight = this.fromShared(sharedKey, key, model, catalogGeneration, compute);
      this.inflight.set(sharedKey, flight);
    }
    return flight;
  }

  private async fromShared(sharedKey: string, key: string, model: ServingModel, catalogGeneration: number, compute: () => V): Promise<V> {
    const { tier, codec } = this.shared!;
    const stats = this.stats.redis!;
    try {
      let text: string | undefined;
      let failed = false;
      try {
        text = await tier.get(sharedKey);
      } catch {
        failed = true; // the tier logs the outage once and backs off
      }
      const found = text === undefined ? undefined : codec.decode(text);
      if (found && this.fresh(found.at)) {
        stats.hits++;
        this.memory.set(key, model, catalogGeneration, found.value, { admit: true, ageMs: Math.max(0, this.now() - found.at) });
        return found.value;
      }
      if (failed) stats.errors++;
      else stats.misses++;
      const at = this.now();
      const value = compute();
      // Shared only once it is worth keeping here too (the doorkeeper), so one-off requests cost Redis nothing.
      if (this.memory.set(key, model, catalogGeneration, value) && !failed) tier.set(sharedKey, codec.encode(value, at), this.cfg.ttlSeconds * 1000);
      return value;
    } finally {
      this.inflight.delete(sharedKey);
    }
  }

  private fresh(at: number): boolean {
    return at >= this.catalogueAt && (at >= this.onlineAt || this.now() - at < this.cfg.maxStaleMs);
  }

  /**
   * Drops a shopper's lists (an erasure): from this pod's memory at once (returns how many), and from the
   * shared tier in the background (a key ends with ` <user>`, see key.ts).
   */
  forgetUser(user: string): number {
    this.shared?.tier.dropMatching(`${globEscape(this.cfg.redis.keyPrefix)}* ${globEscape(user)}`, 'an erased shopper’s cached candidate lists');
    return this.memory.dropUser(user);
  }

  catalogueChanged(): void {
    this.catalogueAt = this.now();
  }

  onlineChanged(): void {
    this.onlineAt = this.now();
  }

  activated(version: string, previous: string | null): void {
    this.memory.clear();
    this.onlineAt = 0; // the new model starts with no online updates
    if (this.shared && previous !== null && previous !== version) this.shared.tier.dropPrefix(`${this.cfg.redis.keyPrefix}${previous}:`);
  }

  async close(): Promise<void> {
    await this.shared?.tier.close();
  }
}
