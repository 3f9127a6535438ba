/**
 * The use cases: recommend (score → business rules → answer), and ingest catalogue items,
 * inventory and events. Knows nothing of HTTP; the API layer is a thin shell around it.
 */
import { randomUUID } from 'node:crypto';
import { CandidateCache } from './cache.js';
import type { TandemConfig } from './config.js';
import type { Catalog } from './engine/catalog.js';
import { boughtBy, crossSell, personal, reasonsOf, upSell, type Candidate, type EngineView } from './engine/score.js';
import { checker, validateBatch } from './data/validate.js';
import type { ModelStore } from './model/store.js';
import { applyRules, type Filtered } from './rules/index.js';
import { CatalogItem, ShopEvent, type BatchResult, type FieldError, type Intent, type RecommendationResponse } from './schemas.js';
import { Type } from '@sinclair/typebox';

export interface RecommendRequest {
  intent: Intent;
  /** Basket (cross-sell), the item (up-sell), or nothing (personal). */
  items: string[];
  user?: string;
  limit: number;
}

export interface Decision extends RecommendationResponse {
  filtered: Filtered[];
}

/** No model is active yet (the service is not ready). */
export class NotReadyError extends Error {
  override readonly name = 'NotReadyError';
}

const Stock = Type.Integer({ minimum: 0 });

export interface ServiceDeps {
  catalog: Catalog;
  store: ModelStore;
  config: TandemConfig;
  variant?: string;
  now?: () => number;
}

export class RecommenderService {
  private readonly variant: string;
  private readonly now: () => number;

  /** Candidate lists before business rules (see cache.ts). */
  readonly cache: CandidateCache;

  constructor(private readonly deps: ServiceDeps) {
    this.variant = deps.variant ?? 'control';
    this.now = deps.now ?? Date.now;
    this.cache = new CandidateCache(deps.config.cache);
  }

  get catalog(): Catalog {
    return this.deps.catalog;
  }

  recommend(req: RecommendRequest): Decision {
    const model = this.deps.store.active;
    if (!model) throw new NotReadyError('no model is loaded yet');
    const { catalog, config } = this.deps;
    const view: EngineView = { catalog, model, cfg: config.engine };
    const want = Math.min(req.limit * 4 + 20, 500);
    const notes: string[] = [];
    const known: number[] = [];
    for (const id of req.items) {
      const idx = catalog.idx(id);
      if (idx === undefined) notes.push(`unknown_item:${id}`);
      else known.push(idx);
    }
    const key = `${req.intent}|${req.items.join(',')}|${req.user ?? ''}|${want}`;
    let candidates: Candidate[] = [];
    const cached = this.cache.get(key, model, catalog.generation);
    if (cached) {
      candidates = cached.candidates;
      notes.push(...cached.notes);
    } else {
      const extra: string[] = [];
      if (req.intent === 'personal') {
        const r = personal(view, req.user ?? '', new Set(), want);
        candidates = r.candidates;
        extra.push(...r.notes);
      } else if (known.length > 0) {
        const exclude = boughtBy(model, req.user);
        candidates = req.intent === 'cross-sell' ? crossSell(view, known, exclude, want) : upSell(view, known[0]!, exclude, want);
        if (candidates.length === 0) extra.push(req.intent === 'cross-sell' ? 'no_complements_known' : 'no_alternative_in_price_band');
      }
      this.cache.set(key, model, catalog.generation, candidates, extra);
      notes.push(...extra);
    }
    const { items, filtered } = applyRules(candidates, {
      catalog,
      rules: config.rules,
      intent: req.intent,
      now: this.now(),
      limit: req.limit,
    });
    const answer: Decision = {
      recommendationId: randomUUID(),
      intent: req.intent,
      modelVersion: model.version,
      variant: this.variant,
      items: items.map((c) => ({ id: catalog.id(c.idx), score: Math.round(c.score * 10_000) / 10_000, reasons: reasonsOf(c, catalog) })),
      filtered,
    };
    if (notes.length > 0) answer.reasons = notes;
    return answer;
  }

  /** Upserts catalogue items; each bad record is rejected with its index and field. */
  upsertItems(records: readonly unknown[]): BatchResult {
    const v = validateBatch(CatalogItem, records);
    for (const { value } of v.valid) this.deps.catalog.upsert(value);
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
    return { accepted: v.valid.length, rejected: v.rejected, errors: v.errors };
  }
}
