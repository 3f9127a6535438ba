/**
 * Configuration of the engine, the business rules and the service. Every field has a default;
 * `loadConfig` validates the whole thing at startup so a bad value fails fast with its path.
 */
import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import YAML from 'yaml';

export const EngineConfig = Type.Object(
  {
    /**
     * halfLifeDays: half-life of the time decay applied to co-occurrences, popularity and histories (weights are
     * rescaled to average 1, so counts stay in basket units). Default 365.
     */
    halfLifeDays: Type.Number({ exclusiveMinimum: 0, default: 365 }),
    /**
     * shrinkage: β, the prior weight in baskets of an item's base rate in another item's own complement rate
     * (c_ab + β·p_b) / (c_a + β), and the pseudo-count of the co-view lift of substitutes. Default 5.
     */
    shrinkage: Type.Number({ minimum: 0, default: 5 }),
    /** neighbours: substitutes (co-viewed items) whose co-purchases an item's complements borrow from. Default 20, 0–50. */
    neighbours: Type.Integer({ minimum: 0, maximum: 50, default: 20 }),
    /** neighbourPrior: β₂, the prior weight in baskets of the neighbours' rate in the blended complement rate. Default 50. */
    neighbourPrior: Type.Number({ minimum: 0, default: 50 }),
    /** neighbourWeight: λ, the weight of the blended uplift P̃ − p against the own evidence D(P̂‖p). Default 8. */
    neighbourWeight: Type.Number({ minimum: 0, default: 8 }),
    /**
     * minSignificance: z; a complement is kept only when its likelihood-ratio statistic G² ≥ z² (e.g. 2 for about 95%).
     * Default 0: any uplift is kept, as the score already leaves items that ride along at their base rate near 0.
     */
    minSignificance: Type.Number({ minimum: 0, default: 0 }),
    /** bm25: BM25 weighting of shoppers' items for the item-kNN of "you may also like": saturation k1 (default 20), length norm b (0). */
    bm25: Type.Object(
      {
        k1: Type.Number({ minimum: 0, default: 20 }),
        b: Type.Number({ minimum: 0, maximum: 1, default: 0 }),
      },
      { default: {} },
    ),
    /**
     * knnChance: φ, the share of the chance co-occurrence subtracted from the item-kNN similarity of "you may also
     * like" (a·b − φ·E[a·b], see docs/recommender.md); 0 leaves the plain dot product. Default 1.2.
     */
    knnChance: Type.Number({ minimum: 0, maximum: 10, default: 1.2 }),
    /** topK: neighbours kept per item at train time. Default 50, 1–500. */
    topK: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    /** maxBasketSize: items of one basket used for pair expansion. Default 20. */
    maxBasketSize: Type.Integer({ minimum: 2, maximum: 200, default: 20 }),
    /** sessionGapMinutes: idle time that closes a view or cart session. Default 30. */
    sessionGapMinutes: Type.Number({ exclusiveMinimum: 0, default: 30 }),
    /**
     * cartSessionWeight: weight of an abandoned cart session (no order within the session gap) relative to an order;
     * a cart that became an order counts once, as the order. Default 1.
     */
    cartSessionWeight: Type.Number({ minimum: 0, maximum: 1, default: 1 }),
    /** eventWeights: how much each event says about a shopper's taste (purchase > cart > view). */
    eventWeights: Type.Object(
      {
        view: Type.Number({ minimum: 0, default: 1 }),
        add_to_cart: Type.Number({ minimum: 0, default: 3 }),
        purchase: Type.Number({ minimum: 0, default: 5 }),
      },
      { default: {} },
    ),
    /** knnHistory: most recent distinct items per shopper in the item-kNN of "you may also like". Default 100, 1–1000. */
    knnHistory: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    /** historySize: most recent distinct items kept per shopper. Default 30. */
    historySize: Type.Integer({ minimum: 1, maximum: 500, default: 30 }),
    /** upsellBand: price band of up-sell candidates as multiples of the item's price. Default 1.05–1.6. */
    upsellBand: Type.Object(
      {
        min: Type.Number({ minimum: 1, default: 1.05 }),
        max: Type.Number({ minimum: 1, default: 1.6 }),
      },
      { default: {} },
    ),
    /** marginWeight: weight of the item's margin in the up-sell score. Default 0.2. */
    marginWeight: Type.Number({ minimum: 0, default: 0.2 }),
    /** coldStartMinBaskets: items seen in fewer (decayed) baskets borrow from content-similar items. Default 3. */
    coldStartMinBaskets: Type.Number({ minimum: 0, default: 3 }),
  },
  { additionalProperties: false, default: {} },
);
export type EngineConfig = Static<typeof EngineConfig>;

export const Promotion = Type.Object(
  {
    /** id: shown in reasons as `promotion:<id>`. */
    id: Type.String({ minLength: 1 }),
    itemIds: Type.Optional(Type.Array(Type.String())),
    categories: Type.Optional(Type.Array(Type.String())),
    /** mode: `boost` multiplies the score by `boost`; `pin` puts the item first. */
    mode: Type.Union([Type.Literal('boost'), Type.Literal('pin')], { default: 'boost' }),
    boost: Type.Number({ minimum: 1, default: 1.5 }),
    start: Type.Optional(Type.String({ format: 'date-time' })),
    end: Type.Optional(Type.String({ format: 'date-time' })),
    intents: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
);
export type Promotion = Static<typeof Promotion>;

export const RulesConfig = Type.Object(
  {
    /** lowStockThreshold: stock at or below this (but > 0) is demoted. Default 3. */
    lowStockThreshold: Type.Integer({ minimum: 0, default: 3 }),
    /** lowStockFactor: score multiplier for low-stock items. Default 0.5. */
    lowStockFactor: Type.Number({ minimum: 0, maximum: 1, default: 0.5 }),
    /** maxPerCategory: diversity cap, at most N items per category. Default 3. */
    maxPerCategory: Type.Integer({ minimum: 1, default: 3 }),
    /**
     * diversityIntents: intents the diversity cap applies to. Default cross-sell and personal: up-sell
     * alternatives share the item's category by design.
     */
    diversityIntents: Type.Array(Type.Union([Type.Literal('cross-sell'), Type.Literal('up-sell'), Type.Literal('personal')]), {
      default: ['cross-sell', 'personal'],
    }),
    /** maxPromotedSlots: at most N promoted items per answer. Default 2. */
    maxPromotedSlots: Type.Integer({ minimum: 0, default: 2 }),
    promotions: Type.Array(Promotion, { default: [] }),
    blockedItems: Type.Array(Type.String(), { default: [] }),
    blockedCategories: Type.Array(Type.String(), { default: [] }),
  },
  { additionalProperties: false, default: {} },
);
export type RulesConfig = Static<typeof RulesConfig>;

export const CacheConfig = Type.Object(
  {
    /** enabled: cache candidate lists (before business rules). Default true. */
    enabled: Type.Boolean({ default: true }),
    /** maxEntries: least recently used entries beyond this are dropped. Default 20000. */
    maxEntries: Type.Integer({ minimum: 1, default: 20_000 }),
    /**
     * maxCandidates: and beyond this many candidates across all entries (a candidate with its reasons
     * is ≈ 0.5 KB of heap), so the cache's memory is bounded whatever the list depths. Default 200000 (≈ 100 MB).
     */
    maxCandidates: Type.Integer({ minimum: 1, default: 200_000 }),
    /**
     * admitOnRepeat: store a list only when its request comes a second time, so one-off requests (a long
     * tail of baskets) cost no cache memory and evict nothing. Default true.
     */
    admitOnRepeat: Type.Boolean({ default: true }),
    /**
     * maxStaleMs: how long an entry may outlive online updates (events) before it is recomputed. Default
     * 5000: a shop's event stream never stops, and since any event moves the online counts, a cache that
     * every event emptied would hardly ever hit; an event shows in the lists within 5 s. 0: every event
     * invalidates. A new model or a catalogue change always does.
     */
    maxStaleMs: Type.Integer({ minimum: 0, default: 5000 }),
    /** ttlSeconds: how long a candidate list lives in either tier (`TANDEM_CACHE_TTL_SECONDS` overrides it). Default 300. */
    ttlSeconds: Type.Integer({ minimum: 1, maximum: 86_400, default: 300 }),
    /** redis: the shared tier behind the in-process one, used when `REDIS_URL` is set. */
    redis: Type.Object(
      {
        /** timeoutMs: every Redis call gives up after this; the request is then served uncached. Default 20. */
        timeoutMs: Type.Integer({ minimum: 1, maximum: 10_000, default: 20 }),
        /** keyPrefix: start of every key, before the model version. Default `tandem:cand:`. */
        keyPrefix: Type.String({ minLength: 1, maxLength: 64, pattern: '^[^*?\\[\\]\\s]+$', default: 'tandem:cand:' }),
        /** backoffMs: after a failed call, Redis is skipped this long (doubling to 10 s while it keeps failing). Default 250. */
        backoffMs: Type.Integer({ minimum: 1, maximum: 10_000, default: 250 }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);
export type CacheConfig = Static<typeof CacheConfig>;

export const AuthConfig = Type.Object(
  {
    /** ratePerSecond: each API key's request rate limit per pod, unless its keys-file entry sets one. Default 0: none. */
    ratePerSecond: Type.Number({ minimum: 0, default: 0 }),
    /** burst: requests a key may send at once above its rate. Default: one second's worth. */
    burst: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false, default: {} },
);
export type AuthConfig = Static<typeof AuthConfig>;

export const GateConfig = Type.Object(
  {
    /**
     * maxMetricDrop: a new version whose offline hr10, ndcg10, precision5 or coverage is more than this share
     * below the active version's is refused (activate it by hand to override). Default 0.1.
     */
    maxMetricDrop: Type.Number({ minimum: 0, maximum: 1, default: 0.1 }),
    /** minCountRatio: and one whose events, orders, users, items or cross-sell pairs fall below this share of the active's. Default 0.5. */
    minCountRatio: Type.Number({ minimum: 0, maximum: 1, default: 0.5 }),
  },
  { additionalProperties: false, default: {} },
);
export type GateConfig = Static<typeof GateConfig>;

export const TrainingConfig = Type.Object(
  {
    /** maxRejectedShare: training fails when a larger share of an input file's records is invalid. Default 0.01. */
    maxRejectedShare: Type.Number({ minimum: 0, maximum: 1, default: 0.01 }),
  },
  { additionalProperties: false, default: {} },
);
export type TrainingConfig = Static<typeof TrainingConfig>;

export const TandemConfig = Type.Object(
  { engine: EngineConfig, rules: RulesConfig, cache: CacheConfig, auth: AuthConfig, gate: GateConfig, training: TrainingConfig },
  { additionalProperties: false, default: {} },
);
export type TandemConfig = Static<typeof TandemConfig>;

/** Thrown when configuration is invalid; the message names every bad path. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Validates a partial config, fills defaults, and checks cross-field rules. */
export function parseConfig(input: unknown): TandemConfig {
  const withDefaults = Value.Default(TandemConfig, Value.Clone(input ?? {}));
  const errors = [...Value.Errors(TandemConfig, withDefaults)];
  if (errors.length > 0) {
    const lines = errors.slice(0, 10).map((e) => `'${e.path || '/'}' ${e.message}`);
    throw new ConfigError(`invalid config: ${lines.join('; ')}`);
  }
  const cfg = withDefaults as TandemConfig;
  const band = cfg.engine.upsellBand;
  if (band.min > band.max) {
    throw new ConfigError(`invalid config: 'engine.upsellBand.min' (${band.min}) must be ≤ 'engine.upsellBand.max' (${band.max})`);
  }
  for (const p of cfg.rules.promotions) {
    if (p.start && p.end && Date.parse(p.start) > Date.parse(p.end)) {
      throw new ConfigError(`invalid config: promotion '${p.id}' 'start' (${p.start}) must be ≤ 'end' (${p.end})`);
    }
  }
  return cfg;
}

/** Reads a YAML or JSON config file (YAML is a superset of JSON). */
export function loadConfigFile(path: string | undefined): TandemConfig {
  if (!path) return parseConfig({});
  let raw: unknown;
  try {
    raw = YAML.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`failed to read config ${path}: ${(err as Error).message}`);
  }
  return parseConfig(raw);
}
