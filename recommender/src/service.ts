/**
 * The use cases: recommend (candidates → business rules → answer), and ingest catalogue items,
 * inventory and events. Knows nothing of HTTP; the API layer is a thin shell around it.
 */
import { randomUUID } from 'node:crypto';
import { scoredCodec } from './cache/codec.js';
import { candidateKey } from './cache/key.js';
import { TieredCache } from './cache/tiered.js';
import type { SharedTier } from './cache/types.js';
import type { TandemConfig } from './config.js';
import type { MaybePromise } from './maybe-promise.js';
import type { Catalog } from './engine/catalog.js';
import { boughtBy, crossSell, personal, reasonsOf, upSell, type EngineView, type Scored } from './engine/score.js';
import type { ServingModel } from './engine/serving.js';
import { checker, validateBatch } from './data/validate.js';
import type { ModelStore } from './model/store.js';
import { applyRules, type Filtered, type RankedItem, type RuleContext } from './rules/index.js';
import { activePromotionsKey } from './rules/promotions.js';
import {
  CatalogItem,
  ShopEvent,
  type BatchResult,
  type FieldError,
  type Intent,
  type RecommendationResponse,
  type RecommendedItem,
} from './schemas.js';
import { Type } from '@sinclair/typebox';

export interface RecommendRequest {
  intent: Intent;
  /** Basket (cross-sell), the item (up-sell), or nothing (personal). */
  items: string[];
  user?: string;
  limit: number;
}

/**
 * An answer, and what the rules filtered out (for the decision record). `items` and `filtered` may be
 * shared with other answers computed from the same inputs: read them, never mutate them.
 */
export interface Decision extends RecommendationResponse {
  filtered: Filtered[];
  /** Candidates the rules looked at (the items shown, the filtered ones, and those beyond the limit). */
  candidates: number;
}

/** A candidate list as the service keeps it (in the cache): the engine's answer, and what serving it taught. */
export interface CandidateList {
  scored: Scored;
  /** The candidate depth the rules needed last time, valid while stock is unchanged. */
  deeper?: number;
  deeperAtStock?: number;
  /** The rules' outcome (see `serve`). */
  served?: Served;
}

/**
 * The rules' outcome for one candidate list, with the inputs it is valid for (see `serve`). The intent
 * and the catalogue generation are not among them: a list belongs to one request key (intent included)
 * and the cache drops it when the catalogue changes.
 */
interface Served {
  items: readonly RankedItem[];
  filtered: Filtered[];
  /** `items` as answered, formatted on first use. */
  answer?: RecommendedItem[];
  limit: number;
  promotionsKey: string;
  stockGeneration: number;
}

/** The request in the catalogue's terms. */
interface Basket {
  /** Known basket items, without repeats, in id order (the list is a function of the cache key). */
  known: number[];
  /** Their ids, in the same order. */
  ids: string[];
  /** The shopper, when the model knows them (else their history cannot shape the list). */
  user: string | undefined;
  notes: string[];
}

/** A candidate list at the depth that served the answer, and the rules' outcome on it. */
interface Ranked {
  want: number;
  list: CandidateList;
  served: Served;
}

/** Where the search for the candidate depth an answer needs stands (see `rank`). */
interface DepthSearch {
  /** The shallow list (over-fetched at `base`), which remembers the depth found. */
  readonly root: CandidateList;
  readonly base: number;
  /** The depth remembered on the root, while stock is unchanged. */
  readonly hint: number | undefined;
  want: number;
  best: Ranked | undefined;
  readonly promotionsKey: string;
}

/** No model is active yet (the service is not ready). */
export class NotReadyError extends Error {
  override readonly name = 'NotReadyError';
}

const Stock = Type.Integer({ minimum: 0 });
/** Deepest candidate list scored for one answer. */
const MAX_CANDIDATES = 500;

export interface ServiceDeps {
  catalog: Catalog;
  store: ModelStore;
  config: TandemConfig;
  /** The shared cache tier (Redis) behind the in-process one; memory only without it. */
  sharedCache?: SharedTier;
  variant?: string;
  now?: () => number;
}

export class RecommenderService {
  private readonly variant: string;
  private readonly now: () => number;

  /** Candidate lists before business rules (see cache/). */
  readonly cache: TieredCache<CandidateList>;

  constructor(private readonly deps: ServiceDeps) {
    this.variant = deps.variant ?? 'control';
    this.now = deps.now ?? Date.now;
    this.cache = new TieredCache<CandidateList>(deps.config.cache, {
      weigh: (list) => list.scored.candidates.length,
      ...(deps.sharedCache ? { shared: { tier: deps.sharedCache, codec: scoredCodec(deps.catalog, (scored) => ({ scored })) } } : {}),
    });
    deps.store.on('activate', (manifest, previous) => this.cache.activated(manifest.version, previous?.version ?? null));
  }

  get catalog(): Catalog {
    return this.deps.catalog;
  }

  /**
   * Candidates (through the cache), then the business rules, then the answer. Candidates are
   * over-fetched (2×limit + 10) so the rules have room to filter; if they filter so much that the
   * list runs short, it retries with a deeper candidate list. Synchronous while the lists come from
   * memory, a promise once Redis is asked (see maybe-promise.ts); throws NotReadyError without a model.
   */
  recommend(req: RecommendRequest): MaybePromise<Decision> {
    const model = this.deps.store.active;
    if (!model) throw new NotReadyError('no model is loaded yet');
    const basket = this.basket(req, model);
    const ctx: RuleContext = { catalog: this.deps.catalog, rules: this.deps.config.rules, intent: req.intent, now: this.now(), limit: req.limit };
    const ranked = this.rank(req.intent, model, basket, ctx);
    if (ranked instanceof Promise) return ranked.then((r) => this.answer(req.intent, model, basket, r.list, r.served));
    return this.answer(req.intent, model, basket, ranked.list, ranked.served);
  }

  private basket(req: RecommendRequest, model: ServingModel): Basket {
    const { catalog } = this.deps;
    const notes: string[] = [];
    const known: number[] = [];
    for (const id of req.items) {
      const idx = catalog.idx(id);
      if (idx === undefined) notes.push(`unknown_item:${id}`);
      else if (!known.includes(idx)) known.push(idx);
    }
    if (known.length > 1) known.sort((a, b) => (catalog.id(a) < catalog.id(b) ? -1 : 1));
    const user = req.user !== undefined && (model.users.has(req.user) || model.online.histories.has(req.user)) ? req.user : undefined;
    return { known, ids: known.map((i) => catalog.id(i)), user, notes };
  }

  /**
   * Over-fetch; go deeper (×4) while the rules leave the answer short and a deeper list helps. The
   * depth found is remembered on the shallow (cached) list and reused while stock is unchanged.
   * Synchronous while the lists come from memory (nothing is allocated for the steps then); it turns
   * async only when a list must come from Redis.
   */
  private rank(intent: Intent, model: ServingModel, basket: Basket, ctx: RuleContext): MaybePromise<Ranked> {
    const base = Math.min(ctx.limit * 2 + 10, MAX_CANDIDATES);
    const first = this.candidates(intent, model, basket, base);
    if (first instanceof Promise) return first.then((root) => this.deepen(this.depthSearch(root, base, ctx), intent, model, basket, ctx));
    return this.deepen(this.depthSearch(first, base, ctx), intent, model, basket, ctx);
  }

  private depthSearch(root: CandidateList, base: number, ctx: RuleContext): DepthSearch {
    const stock = this.deps.catalog.stockGeneration;
    const hint = root.deeper !== undefined && root.deeperAtStock === stock ? root.deeper : undefined;
    return { root, base, hint, want: hint ?? base, best: undefined, promotionsKey: activePromotionsKey(ctx) };
  }

  private deepen(s: DepthSearch, intent: Intent, model: ServingModel, basket: Basket, ctx: RuleContext): MaybePromise<Ranked> {
    for (;;) {
      const next = s.want === s.base ? s.root : this.candidates(intent, model, basket, s.want);
      if (next instanceof Promise) return next.then((list) => (this.tryDepth(s, list, ctx) ? this.found(s, ctx) : this.deepen(s, intent, model, basket, ctx)));
      if (this.tryDepth(s, next, ctx)) return this.found(s, ctx);
    }
  }

  /** Serves `list` at the current depth; true when the search is over (else `s.want` is the next depth). */
  private tryDepth(s: DepthSearch, list: CandidateList, ctx: RuleContext): boolean {
    const served = this.serve(list, ctx, s.promotionsKey);
    if (s.best && served.items.length <= s.best.served.items.length) return true; // deeper did not help
    s.best = { want: s.want, list, served };
    if (s.hint !== undefined || served.items.length >= ctx.limit || list.scored.candidates.length < s.want || s.want >= MAX_CANDIDATES) return true;
    s.want = Math.min(s.want * 4, MAX_CANDIDATES);
    return false;
  }

  private found(s: DepthSearch, ctx: RuleContext): Ranked {
    const best = s.best!;
    if (s.hint === undefined && (best.want !== s.base || best.served.items.length < ctx.limit)) {
      s.root.deeper = best.want;
      s.root.deeperAtStock = this.deps.catalog.stockGeneration;
    }
    return best;
  }

  private answer(intent: Intent, model: ServingModel, basket: Basket, list: CandidateList, served: Served): Decision {
    const { catalog } = this.deps;
    const notes = list.scored.notes.length > 0 ? [...basket.notes, ...list.scored.notes] : basket.notes;
    const answer: Decision = {
      recommendationId: randomUUID(),
      intent,
      modelVersion: model.version,
      variant: this.variant,
      items: (served.answer ??= served.items.map((c) => ({
        id: catalog.id(c.idx),
        score: Math.round(c.score * 10_000) / 10_000,
        reasons: reasonsOf(c, catalog),
      }))),
      filtered: served.filtered,
      candidates: list.scored.candidates.length,
    };
    if (notes.length > 0) answer.reasons = notes;
    return answer;
  }

  /**
   * The business rules applied to a candidate list. The outcome is remembered on the list (a cached
   * one is shared by many requests) together with what the rules read that can change under it:
   * stock and the active promotions (and the limit); it is recomputed as soon as any of them differs.
   */
  private serve(list: CandidateList, ctx: RuleContext, promotionsKey: string): Served {
    const { catalog } = ctx;
    const m = list.served;
    if (
      m &&
      m.limit === ctx.limit &&
      m.promotionsKey === promotionsKey &&
      m.stockGeneration === catalog.stockGeneration
    ) {
      return m;
    }
    return (list.served = {
      ...applyRules(list.scored.candidates, ctx),
      limit: ctx.limit,
      promotionsKey,
      stockGeneration: catalog.stockGeneration,
    });
  }

  /** Candidate generation for one request, through the cache. */
  private candidates(intent: Intent, model: ServingModel, basket: Basket, want: number): CandidateList | Promise<CandidateList> {
    const { catalog } = this.deps;
    const key = candidateKey({ intent, items: basket.ids, user: basket.user, depth: want });
    return this.cache.get(key, model, catalog.generation, () => ({ scored: this.score(intent, model, basket, want) }));
  }

  private score(intent: Intent, model: ServingModel, basket: Basket, want: number): Scored {
    const { catalog, config } = this.deps;
    const view: EngineView = { catalog, model, cfg: config.engine };
    if (intent === 'personal') return personal(view, basket.user ?? '', new Set(), want);
    if (basket.known.length === 0) return { candidates: [], notes: [] };
    const exclude = boughtBy(model, basket.user);
    const candidates = intent === 'cross-sell' ? crossSell(view, basket.known, exclude, want) : upSell(view, basket.known[0]!, exclude, want);
    const notes = candidates.length > 0 ? [] : [intent === 'cross-sell' ? 'no_complements_known' : 'no_alternative_in_price_band'];
    return { candidates, notes };
  }

  /** Upserts catalogue items; each bad record is rejected with its index and field. */
  upsertItems(records: readonly unknown[]): BatchResult {
    const v = validateBatch(CatalogItem, records);
    for (const { value } of v.valid) this.deps.catalog.upsert(value);
    if (v.valid.length > 0) this.cache.catalogueChanged();
    return { accepted: v.valid.length, rejected: v.rejected, errors: v.errors };
  }

  /** Sets stock levels from `{itemId: stock}`; takes effect on the very next request. */
  patchInventory(body: Record<string, unknown>): BatchResult {
    const errors: FieldError[] = [];
    const apply: [number, number][] = [];
    let rejected = 0;
    Object.entries(body).forEach(([id, stock], index) => {
      const idx = this.deps.catalog.idx(id);
      const field = `/${id.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (idx === undefined) {
        errors.push({ index, field, message: `unknown item '${id}'` });
        rejected++;
      } else if (!checker(Stock).Check(stock)) {
        errors.push({ index, field, message: 'Expected integer stock ≥ 0' });
        rejected++;
      } else apply.push([idx, stock as number]);
    });
    for (const [idx, stock] of apply) this.deps.catalog.setStock(idx, stock);
    return { accepted: apply.length, rejected, errors };
  }

  /** Ingests events into the active model's online counts and shopper histories. */
  ingestEvents(records: readonly unknown[]): BatchResult {
    const model = this.deps.store.active;
    if (!model) throw new NotReadyError('no model is loaded yet; events cannot be applied');
    const { catalog } = this.deps;
    const v = validateBatch(ShopEvent, records, (ev) =>
      catalog.idx(ev.itemId) === undefined ? { field: '/itemId', message: `unknown item '${ev.itemId}'` } : undefined,
    );
    const w = this.deps.config.engine.eventWeights;
    for (const { value: ev } of v.valid) {
      const idx = catalog.idx(ev.itemId)!;
      if (ev.type === 'purchase') {
        model.online.addPurchase(ev.orderId ?? `${ev.userId}@${ev.timestamp}`, idx);
        model.online.addInteraction(ev.userId, idx, w.purchase, true);
      } else {
        model.online.addInteraction(ev.userId, idx, ev.type === 'add_to_cart' ? w.add_to_cart : w.view, false);
      }
    }
    if (v.valid.length > 0) this.cache.onlineChanged();
    return { accepted: v.valid.length, rejected: v.rejected, errors: v.errors };
  }

  /** Stops the cache's background work and connections. */
  close(): Promise<void> {
    return this.cache.close();
  }
}
