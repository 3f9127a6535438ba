/**
 * An in-memory cache (CLOCK, an LRU approximation) of candidate lists, keyed by the request and
 * bounded both in entries and in candidates held (its memory). It sits before the business
 * rules, so stock, promotions and the other rules always apply to fresh data.
 * An entry is valid for the model version and catalogue generation it was computed on, and
 * for the online-update generation too unless `maxStaleMs` allows it to lag.
 */
import type { CacheConfig } from './config.js';
import type { ServingModel } from './engine/serving.js';

interface Entry<V> {
  version: string;
  catalogGeneration: number;
  onlineGeneration: number;
  at: number;
  value: V;
  used: boolean;
}

export class CandidateCache<V> {
  private readonly map = new Map<string, Entry<V>>();
  /** Candidates held across all entries (see `maxCandidates`). */
  private candidates = 0;
  hits = 0;
  misses = 0;

  /** `weigh` counts the candidates of a value (see `maxCandidates`). */
  constructor(
    private readonly cfg: CacheConfig,
    private readonly weigh: (value: V) => number,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  get(key: string, model: ServingModel, catalogGeneration: number): V | undefined {
    if (!this.cfg.enabled) return undefined;
    const e = this.map.get(key);
    if (
      e &&
      e.version === model.version &&
      e.catalogGeneration === catalogGeneration &&
      (e.onlineGeneration === model.online.generation || this.clock() - e.at < this.cfg.maxStaleMs)
    ) {
      this.hits++;
      e.used = true;
      return e.value;
    }
    this.misses++;
    return undefined;
  }

  set(key: string, model: ServingModel, catalogGeneration: number, value: V): void {
    if (!this.cfg.enabled) return;
    this.drop(key);
    this.candidates += this.weigh(value);
    this.map.set(key, {
      version: model.version,
      catalogGeneration,
      onlineGeneration: model.online.generation,
      at: this.clock(),
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
