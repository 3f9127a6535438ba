/**
 * Prometheus metrics of the service, on a registry of their own (several apps can live in one process).
 * The names are the contract in cdk8s/constants.ts `Metrics` (alerts and dashboards read them). Labels are
 * drawn from small fixed sets: never a user or an item id. docs/metrics.md is generated from this registry.
 *
 * Counters bumped on every request are kept as plain numbers (`Tally`) and handed to prom-client when
 * /metrics is scraped: a prom-client `inc` with labels hashes them on every call.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { Metrics as Names } from '../../../cdk8s/constants.js';

export interface Metrics {
  registry: Registry;
  duration: Histogram<'route' | 'method' | 'status'>;
  modelInfo: Gauge<'version'>;
  modelAge: Gauge;
  modelRefused: Counter<'reason'>;
  items: Histogram<'intent'>;
  recommendations: Tally<'intent' | 'variant'>;
  recommendedItems: Tally<'intent' | 'source'>;
  candidates: Tally<'intent'>;
  filteredItems: Tally<'intent' | 'reason'>;
  ingested: Counter<'kind' | 'outcome'>;
  cacheRequests: Counter<'tier' | 'result'>;
  cacheUp: Gauge;
  authFailures: Counter<'reason'>;
}

/**
 * A counter whose increments are plain additions, flushed into its prom-client Counter on each scrape.
 * `entry(a, b)` takes the label values in `labelNames` order.
 */
export class Tally<L extends string> {
  private readonly pending = new Map<string, { values: string[]; n: number }>();
  readonly counter: Counter<L>;

  constructor(cfg: { name: string; help: string; labelNames: readonly L[]; registry: Registry }) {
    const pending = this.pending;
    const labelNames = cfg.labelNames;
    this.counter = new Counter<L>({
      name: cfg.name,
      help: cfg.help,
      labelNames,
      registers: [cfg.registry],
      collect() {
        for (const p of pending.values()) {
          if (p.n === 0) continue;
          this.inc(Object.fromEntries(labelNames.map((l, i) => [l, p.values[i]!])) as Partial<Record<L, string>>, p.n);
          p.n = 0;
        }
      },
    });
  }

  /** The running count for these label values: keep it, and adding to it costs one addition. */
  entry(...values: string[]): { n: number } {
    const key = values.length === 1 ? values[0]! : values.join('\u0000');
    let p = this.pending.get(key);
    if (!p) this.pending.set(key, (p = { values, n: 0 }));
    return p;
  }
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    duration: new Histogram({
      name: Names.REQUEST_DURATION_SECONDS,
      help: 'HTTP request duration by route (the intent is in the route), method and status; its _count is the request count.',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    modelInfo: new Gauge({ name: Names.MODEL_INFO, help: 'The active model version (value 1).', labelNames: ['version'], registers }),
    modelAge: new Gauge({ name: Names.MODEL_AGE_SECONDS, help: 'Seconds since the active model was trained.', registers }),
    modelRefused: new Counter({
      name: Names.MODEL_REFUSED_TOTAL,
      help: 'Model versions refused at activation, by reason: corrupt (checksum, format) or gate (worse than the active one).',
      labelNames: ['reason'],
      registers,
    }),
    items: new Histogram({
      name: 'tandem_recommendation_items',
      help: 'Items per recommendation answer, by intent.',
      labelNames: ['intent'],
      buckets: [0, 1, 3, 5, 10, 20, 50, 100],
      registers,
    }),
    recommendations: new Tally({ name: Names.RECOMMENDATIONS_TOTAL, help: 'Recommendation answers served, by intent and variant.', labelNames: ['intent', 'variant'], registry }),
    recommendedItems: new Tally({
      name: Names.RECOMMENDED_ITEMS_TOTAL,
      help: 'Items shown, by intent and source (bought_together, also_viewed, substitute, similar_to, cold_start, popular, promotion).',
      labelNames: ['intent', 'source'],
      registry,
    }),
    candidates: new Tally({ name: Names.CANDIDATES_TOTAL, help: 'Candidates the business rules looked at, by intent (the denominator of the filtered share).', labelNames: ['intent'], registry }),
    filteredItems: new Tally({
      name: Names.FILTERED_ITEMS_TOTAL,
      help: 'Candidates not shown, by intent and reason (stock, blocked, diversity, opt_out, limit: beyond the answer’s length).',
      labelNames: ['intent', 'reason'],
      registry,
    }),
    ingested: new Counter({
      name: Names.INGESTED_RECORDS_TOTAL,
      help: 'Records received by the ingestion endpoints, by kind and outcome.',
      labelNames: ['kind', 'outcome'],
      registers,
    }),
    cacheRequests: new Counter({
      name: Names.CACHE_REQUESTS_TOTAL,
      help: 'Candidate-cache lookups by tier (memory, redis) and result (hit, miss, error: Redis failed, timed out or was skipped during an outage).',
      labelNames: ['tier', 'result'],
      registers,
    }),
    cacheUp: new Gauge({ name: Names.CACHE_UP, help: '1 while the Redis tier answers, 0 during an outage; absent without REDIS_URL.', registers }),
    authFailures: new Counter({
      name: Names.AUTH_FAILURES_TOTAL,
      help: 'Refused API calls by reason (missing, unknown, scope, rate_limited).',
      labelNames: ['reason'],
      registers,
    }),
  };
}
