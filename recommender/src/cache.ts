/**
 * An in-memory cache (CLOCK, an LRU approximation) of candidate lists, keyed by the request. It sits before the
 * business rules, so stock, promotions and the other rules always apply to fresh data.
 * An entry is valid for the model version and catalogue generation it was computed on, and
 * for the online-update generation too unless `maxStaleMs` allows it to lag.
 */
import type { CacheConfig } from './config.js';
import type { Scored } from './engine/score.js';
import type { ServingModel } from './engine/serving.js';

interface Entry {
  version: string;
  catalogGeneration: number;
  onlineGeneration: number;
  at: number;
  scored: Scored;
  used: boolean;
}

export class CandidateCache {
  private readonly map = new Map<string, Entry>();
  hits = 0;
  misses = 0;

  constructor(
    private readonly cfg: CacheConfig,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  get(key: string, model: ServingModel, catalogGeneration: number): Scored | undefined {
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
      return e.scored;
    }
    this.misses++;
    return undefined;
  }

  set(key: string, model: ServingModel, catalogGeneration: number, scored: Scored): void {
    if (!this.cfg.enabled) return;
    this.map.delete(key);
    this.map.set(key, {
      version: model.version,
      catalogGeneration,
      onlineGeneration: model.online.generation,
      at: this.clock(),
      scored,
      used: false,
    });
    // CLOCK eviction (an LRU approximation that costs nothing on a hit): the oldest entry goes,
    // unless it was used since it was stored, in which case it gets a second chance at the back.
    while (this.map.size > this.cfg.maxEntries) {
      const [oldKey, old] = this.map.entries().next().value as [string, Entry];
      this.map.delete(oldKey);
      if (old.used && oldKey !== key) {
        old.used = false;
        this.map.set(oldKey, old);
      }
    }
  }

  get size(): number {
    return this.map.size;
  }
}
