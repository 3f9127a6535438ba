/**
 * The candidate cache as the service sees it, and the shared tier behind the in-process one. What is
 * cached is the engine's candidate list for a request key, never the final answer: stock, the business
 * rules and opt-outs apply after it.
 */
import type { ServingModel } from '../engine/serving.js';

export interface CandidateCache<V> {
  /**
   * The list for `key` under `model`: from this process, else from the shared tier, else `compute()`
   * (then stored). Synchronous unless the shared tier is asked; never rejects because of the cache.
   */
  get(key: string, model: ServingModel, catalogGeneration: number, compute: () => V): V | Promise<V>;
  /** The catalogue changed here (items, prices, categories): lists computed before now are stale for this pod. */
  catalogueChanged(): void;
  /** Online updates (events) were applied here. */
  onlineChanged(): void;
  /** A shopper was erased: drop their lists here; returns how many. */
  forgetUser(user: string): number;
  /** `version` is now active (after `previous`): drop what belongs to the previous one. */
  activated(version: string, previous: string | null): void;
  readonly stats: CacheStats;
  close(): Promise<void>;
}

/** Lookups since start, per tier (counters for /metrics). */
export interface CacheStats {
  memory: { hits: number; misses: number };
  /** Absent without a shared tier. */
  redis?: { hits: number; misses: number; errors: number; up: boolean };
}

/**
 * A key–value store shared by the scoring pods (Redis). Every call is bounded by a short timeout; while
 * the store is failing, `available` is false and callers skip it rather than wait.
 */
export interface SharedTier {
  /** Worth calling now (connected, not backing off after a failure). */
  readonly available: boolean;
  /** Answering: connected and not in an outage. */
  readonly up: boolean;
  /** The stored text, undefined when absent; rejects on error or timeout. */
  get(key: string): Promise<string | undefined>;
  /** Best effort: a failure is counted and logged by the tier, never thrown. */
  set(key: string, value: string, ttlMs: number): void;
  /** Best effort, in the background: deletes every key starting with `prefix`. */
  dropPrefix(prefix: string): void;
  /** Best effort, in the background: deletes every key matching the glob `pattern` (`what` names them in logs). */
  dropMatching(pattern: string, what: string): void;
  close(): Promise<void>;
}
