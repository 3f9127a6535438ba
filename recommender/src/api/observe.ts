/**
 * What /metrics reports about the service: each answer counted (intent, variant, sources of the items
 * shown, reasons for the candidates not shown), and, at scrape time, the model, the cache tiers and the
 * refused calls read from the components' own counts.
 */
import type { Authenticator } from '../auth/authenticator.js';
import { AUTH_FAILURES } from '../auth/authenticator.js';
import type { CacheStats } from '../cache/types.js';
import type { ModelStore } from '../model/store.js';
import type { RecommendedItem } from '../schemas.js';
import type { Decision } from '../service.js';
import type { Filtered } from '../rules/index.js';
import { Metrics as Names } from '../../../cdk8s/constants.js';
import type { Metrics, Tally } from './metrics.js';

/** The source of an item shown: the kind of its first reason. */
export function sourceOf(item: RecommendedItem): string {
  const first = item.reasons[0] ?? '';
  const kind = first.slice(0, first.search(/[:\s]|$/));
  switch (kind) {
    case 'bought_together':
    case 'also_viewed':
    case 'similar_to':
    case 'cold_start':
    case 'popular':
    case 'promotion':
      return kind;
    case 'substitute_of':
      return 'substitute';
    default:
      return 'other';
  }
}

/** A business rule's name (`blocked_category:Mugs`) as the reason label (`blocked`). */
export function reasonOf(f: Filtered): string {
  const rule = f.rule.slice(0, f.rule.search(/:|$/));
  return rule === 'out_of_stock' ? 'stock' : rule === 'blocked_item' || rule === 'blocked_category' ? 'blocked' : rule;
}

/** Entries of `tally` for `intent` and each label of `xs`, with how many items carry it. */
function breakdown<T>(tally: Tally<'intent' | 'source'> | Tally<'intent' | 'reason'>, intent: string, xs: readonly T[], label: (x: T) => string): [{ n: number }, number][] {
  const counts = new Map<string, number>();
  for (const x of xs) {
    const k = label(x);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => [tally.entry(intent, k), n]);
}

/**
 * Counts one answer. The items and filtered arrays are shared by every answer from the same cached list
 * and stock (see service.ts), and a list belongs to one intent, so their breakdowns are computed once
 * per array; an answer then costs a few additions.
 */
export function answerCounter(metrics: Metrics): (d: Decision) => void {
  const bySource = new WeakMap<readonly RecommendedItem[], [{ n: number }, number][]>();
  const byReason = new WeakMap<readonly Filtered[], [{ n: number }, number][]>();
  const perIntent = new Map<string, { candidates: { n: number }; limit: { n: number }; items: { observe: (n: number) => void }; variants: Map<string, { n: number }> }>();
  return (d) => {
    let i = perIntent.get(d.intent);
    if (!i) {
      i = {
        candidates: metrics.candidates.entry(d.intent),
        limit: metrics.filteredItems.entry(d.intent, 'limit'),
        items: metrics.items.labels({ intent: d.intent }),
        variants: new Map(),
      };
      perIntent.set(d.intent, i);
    }
    let answers = i.variants.get(d.variant);
    if (!answers) i.variants.set(d.variant, (answers = metrics.recommendations.entry(d.intent, d.variant)));
    answers.n++;
    i.candidates.n += d.candidates;
    i.limit.n += Math.max(0, d.candidates - d.items.length - d.filtered.length);
    let sources = bySource.get(d.items);
    if (!sources) bySource.set(d.items, (sources = breakdown(metrics.recommendedItems, d.intent, d.items, sourceOf)));
    for (const [entry, n] of sources) entry.n += n;
    let reasons = byReason.get(d.filtered);
    if (!reasons) byReason.set(d.filtered, (reasons = breakdown(metrics.filteredItems, d.intent, d.filtered, reasonOf)));
    for (const [entry, n] of reasons) entry.n += n;
    i.items.observe(d.items.length);
  };
}

type Collectable = { collect?: () => void };

/** Fills the scrape-time metrics from the store, the cache and the authenticator. */
export function observeComponents(metrics: Metrics, parts: { store: ModelStore; cache: CacheStats; auth?: Authenticator; now?: () => number }): void {
  const { store, cache, auth } = parts;
  const now = parts.now ?? Date.now;
  (metrics.modelInfo as unknown as Collectable).collect = () => {
    metrics.modelInfo.reset();
    const v = store.active?.version;
    if (v) metrics.modelInfo.set({ version: v }, 1);
  };
  (metrics.modelAge as unknown as Collectable).collect = () => {
    const m = store.activeManifest;
    metrics.modelAge.reset();
    if (m) metrics.modelAge.set(Math.max(0, (now() - Date.parse(m.createdAt)) / 1000));
  };
  store.on('refuse', (_version, _reason, kind) => metrics.modelRefused.inc({ reason: kind }));

  const seen = new Map<string, number>();
  const delta = (key: string, total: number): number => {
    const d = total - (seen.get(key) ?? 0);
    seen.set(key, total);
    return d;
  };
  const inc = (labels: { tier: string; result: string }, total: number): void => {
    const d = delta(`${labels.tier}:${labels.result}`, total);
    if (d > 0) metrics.cacheRequests.inc(labels, d);
  };
  (metrics.cacheRequests as unknown as Collectable).collect = () => {
    inc({ tier: 'memory', result: 'hit' }, cache.memory.hits);
    inc({ tier: 'memory', result: 'miss' }, cache.memory.misses);
    if (cache.redis) {
      inc({ tier: 'redis', result: 'hit' }, cache.redis.hits);
      inc({ tier: 'redis', result: 'miss' }, cache.redis.misses);
      inc({ tier: 'redis', result: 'error' }, cache.redis.errors);
    }
  };
  if (cache.redis) {
    const redis = cache.redis;
    (metrics.cacheUp as unknown as Collectable).collect = () => metrics.cacheUp.set(redis.up ? 1 : 0);
  } else {
    metrics.registry.removeSingleMetric(Names.CACHE_UP);
  }
  if (auth) {
    (metrics.authFailures as unknown as Collectable).collect = () => {
      for (const reason of AUTH_FAILURES) {
        const d = delta(`auth:${reason}`, auth.failures[reason]);
        if (d > 0) metrics.authFailures.inc({ reason }, d);
      }
    };
  }
}
