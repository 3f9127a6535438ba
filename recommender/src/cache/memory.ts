/**
 * The in-process tier: a CLOCK cache (an LRU approximation) of candidate lists, keyed by the request and
 * bounded both in entries and in candidates held (its memory); a list is stored when its request comes a
 * second time (see `seenBefore`). An entry is valid for the model version and catalogue generation it was
 * computed on, for `ttlSeconds`, and for the online-update generation too unless `maxStaleMs` allows it to lag.
 */
import type { CacheConfig } from '../config.js';
import type { ServingModel } from '../engine/serving.js';

export type MemoryTierOptions = Pick<CacheConfig, 'maxEntries' | 'maxCandidates' | 'admitOnRepeat' | 'maxStaleMs' | 'ttlSeconds'>;

interface Entry<V> {
  version: string;
  catalogGeneration: number;
  onlineGeneration: number;
  at: number;
  value: V;
  used: boolean;
}

export class MemoryTier<V> {
  private readonly map = new Map<string, Entry<V>>();
  /** Candidates held across all entries (see `maxCandidates`). */
  private candidates = 0;
  private readonly doorkeeper = new Int32Array(1 << 16);
  private readonly ttlMs: number;
  hits = 0;
  misses = 0;

  /** `weigh` counts the candidates of a value (see `maxCandidates`). */
  constructor(
    private readonly cfg: MemoryTierOptions,
    private readonly weigh: (value: V) => number,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.ttlMs = cfg.ttlSeconds * 1000;
  }

  get(key: string, model: ServingModel, catalogGeneration: number): V | undefined {
    const e = this.map.get(key);
    if (e && e.version === model.version && e.catalogGeneration === catalogGeneration) {
      const age = this.clock() - e.at;
      if (age < this.ttlMs && (e.onlineGeneration === model.online.generation || age < this.cfg.maxStaleMs)) {
        this.hits++;
        e.used = true;
        return e.value;
      }
    }
    this.misses++;
    return undefined;
  }

  /**
   * Stores `value` unless the doorkeeper turns it away (first sighting of the key). `admit` skips the
   * doorkeeper (a list the shared tier already holds); `ageMs` is how long ago the list was computed, so
   * the TTL counts from then. Returns whether it was stored.
   */
  set(key: string, model: ServingModel, catalogGeneration: number, value: V, opts: { admit?: boolean; ageMs?: number } = {}): boolean {
    if (!opts.admit && this.cfg.admitOnRepeat && !this.map.has(key) && !this.seenBefore(key)) return false;
    this.drop(key);
    this.candidates += this.weigh(value);
    this.map.set(key, {
      version: model.version,
      catalogGeneration,
      onlineGeneration: model.online.generation,
      at: this.clock() - (opts.ageMs ?? 0),
      value,
      used: false,
    });
    // CLOCK eviction (an LRU approximation that costs nothing on a hit): the oldest entry goes,
    // unless it was used since it was stored, in which case it gets a second chance at the back.
    while (this.map.size > 1 && (this.map.size > this.cfg.maxEntries || this.candidates > this.cfg.maxCandidates)) {
      const [oldKey, old] = this.map.entries().next().value as [string, Entry<V>];
      if (old.used && oldKey !== key) {
        old.used = false;
        this.map.delete(oldKey);
        this.map.set(oldKey, old);
      } else this.drop(oldKey);
    }
    return true;
  }

  /** Drops every entry (a new model version is active: they are all stale, free their memory now). */
  clear(): void {
    this.map.clear();
    this.candidates = 0;
  }

  /**
   * TinyLFU's doorkeeper: one slot per key hash (FNV-1a) in a fixed table. The first miss of a key
   * only marks its slot; the next one stores the list. One-off requests, the long tail of baskets,
   * then never push out lists that repeat, nor fill the heap with lists nobody asks for again.
   * A collision can admit a key early or forget one; either costs one more computation, never a wrong answer.
   */
  private seenBefore(key: string): boolean {
    let h = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    const slot = h & (this.doorkeeper.length - 1);
    if (this.doorkeeper[slot] === h) return true;
    this.doorkeeper[slot] = h;
    return false;
  }

  /** Drops a shopper's lists (keys end with ` <user>`, see key.ts), on erasure; returns how many. */
  dropUser(user: string): number {
    const suffix = ` ${user}`;
    let n = 0;
    for (const key of [...this.map.keys()]) {
      if (key.endsWith(suffix)) {
        this.drop(key);
        n++;
      }
    }
    return n;
  }

  private drop(key: string): void {
    const e = this.map.get(key);
    if (!e) return;
    this.candidates -= this.weigh(e.value);
    this.map.delete(key);
  }

  get size(): number {
    return this.map.size;
  }

  /** Candidates held across all entries. */
  get weight(): number {
    return this.candidates;
  }
}
