/**
 * The use cases: recommend (experiment arm → candidates → business rules → answer → decision record),
 * ingest catalogue items, inventory and events (with attribution to experiments), and the shopper's
 * rights (export, erasure, opt-out), decisions and their replay, experiment reports. Knows nothing of
 * HTTP; the API layer is a thin shell around it.
 */
import { configVersion } from './audit/decision.js';
import { Outcome } from './audit/outcome.js';
import { FilteredJson, packCandidates } from './audit/packed.js';
import { AUDIT_FORMAT, OPT_OUT, subjectDigest, type DecisionView } from './audit/record.js';
import { promotionIds, replayDecision, type EngineCandidate, type ReplayResult } from './audit/replay.js';
import type { AuditTrail } from './audit/trail.js';
import { scoredCodec } from './cache/codec.js';
import { candidateKey } from './cache/key.js';
import { TieredCache } from './cache/tiered.js';
import type { SharedTier } from './cache/types.js';
import type { EngineConfig, TandemConfig } from './config.js';
import type { MaybePromise } from './maybe-promise.js';
import type { Catalog } from './engine/catalog.js';
import { OnlineState } from './engine/online.js';
import { boughtBy, crossSell, personal, reasonsOf, upSell, type EngineView, type Scored } from './engine/score.js';
import type { ServingModel } from './engine/serving.js';
import { checker, validateBatch } from './data/validate.js';
import { experimentFor, fingerprintOf, variantFor } from './experiments/assign.js';
import type { Experiment, Variant } from './experiments/config.js';
import { ExperimentCounters, type Credit } from './experiments/counters.js';
import type { ModelVersions } from './experiments/model-versions.js';
import { buildReport, type ExperimentReport } from './experiments/report.js';
import { ArtifactError } from './model/artifact.js';
import type { ModelStore } from './model/store.js';
import { admitEvent } from './privacy/events.js';
import { DEMO_HMAC_KEY, Privacy, type Subject } from './privacy/privacy.js';
import type { ErasureResult, UserExport } from './privacy/schemas.js';
import { itemsJson } from './items-json.js';
import { newRecommendationId, tagOf } from './recommendation-id.js';
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
  /** Assigns a shopper without a user id to an experiment variant. */
  session?: string;
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
  /** The decision records' outcome, shared by every answer from this list and stock (see audit/outcome.ts). */
  audit?: Outcome;
}

/** The experiment variant an answer is served under. */
interface Arm {
  name: string;
  experiment?: Experiment;
  variant?: Variant;
  index?: number;
  /** Counted in the experiment (a shopper or session was assigned, and the variant's model was at hand). */
  counted: boolean;
}

/** The engine an answer is computed with: the variant's model version and parameters, or the defaults. */
interface Engine {
  model: ServingModel;
  sha256: string;
  cfg: EngineConfig;
  /** Names non-default parameters in the cache key ('' for the defaults). */
  name: string;
  notes: string[];
}

/** What the service reports as it goes, for metrics (kept out of the use cases). */
export interface ServiceObserver {
  /** An impression, click, conversion or revenue (`amount`) credited to a variant. */
  experiment?(kind: 'impression' | Credit | 'add_to_cart' | 'revenue', experiment: string, variant: string, amount: number): void;
  /** Events that were valid but not used: their shopper is erased, or they are past retention. */
  eventsDropped?(reason: 'erased' | 'expired', n: number): void;
  erased?(): void;
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
  /** Pseudonymisation and the erased and opted-out shoppers; in memory with the demo key by default. */
  privacy?: Privacy;
  /** Decision records; none without. */
  audit?: AuditTrail;
  experiments?: readonly Experiment[];
  counters?: ExperimentCounters;
  /** Model versions besides the active one (variants, replays). */
  versions?: ModelVersions;
  observer?: ServiceObserver;
  /** The answers' variant when no experiment applies. */
  variant?: string;
  now?: () => number;
}

export class RecommenderService {
  private readonly variant: string;
  private readonly now: () => number;
  readonly privacy: Privacy;
  private readonly experiments: readonly Experiment[];
  private readonly byFingerprint: Map<number, Experiment>;
  private readonly counters: ExperimentCounters;
  private readonly configVersion: string;

  /** Candidate lists before business rules (see cache/). */
  readonly cache: TieredCache<CandidateList>;

  constructor(private readonly deps: ServiceDeps) {
    this.variant = deps.variant ?? 'control';
    this.now = deps.now ?? Date.now;
    this.privacy = deps.privacy ?? Privacy.inMemory(DEMO_HMAC_KEY);
    this.experiments = deps.experiments ?? [];
    this.byFingerprint = new Map(this.experiments.map((e) => [fingerprintOf(e), e]));
    this.counters = deps.counters ?? new ExperimentCounters();
    this.configVersion = configVersion(deps.config);
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
  recommend(req: RecommendRequest, opts: { record?: boolean } = {}): MaybePromise<Decision> {
    if (!this.deps.store.active) throw new NotReadyError('no model is loaded yet');
    const now = this.now();
    const subject = req.user === undefined ? undefined : this.privacy.subject(req.user);
    const arm = this.arm(req, subject);
    const engine = this.engineFor(arm);
    if (engine.notes.length > 0) arm.counted = false; // served with another model than the variant's: not a fair sample
    const basket = this.basket(req, engine.model, subject);
    const ctx: RuleContext = { catalog: this.deps.catalog, rules: this.deps.config.rules, intent: req.intent, now, limit: req.limit };
    const ranked = this.rank(req.intent, engine, basket, ctx);
    if (ranked instanceof Promise) return ranked.then((r) => this.decide(req, opts, now, subject, arm, engine, basket, r));
    return this.decide(req, opts, now, subject, arm, engine, basket, ranked);
  }

  /** The answer from the ranked list, counted in its experiment and recorded (unless `record: false`). */
  private decide(
    req: RecommendRequest,
    opts: { record?: boolean },
    now: number,
    subject: Subject | undefined,
    arm: Arm,
    engine: Engine,
    basket: Basket,
    { list, served, want }: Ranked,
  ): Decision {
    const tag = arm.counted ? { fingerprint: fingerprintOf(arm.experiment!), variant: arm.index! } : undefined;
    const answer = this.answer(newRecommendationId(now, tag), req.intent, engine, basket, list, served, arm.name);
    if (opts.record === false) return answer;
    if (arm.counted) {
      this.counters.impression(arm.experiment!.name, arm.name);
      this.deps.observer?.experiment?.('impression', arm.experiment!.name, arm.name, 1);
    }
    if (this.deps.audit) this.recordDecision(this.deps.audit, answer, req, subject, arm, engine, list, served, want, now);
    return answer;
  }

  /** The experiment variant for this request: by the shopper's pseudonym, else the session, else the control (uncounted). */
  private arm(req: RecommendRequest, subject: Subject | undefined): Arm {
    const experiment = experimentFor(this.experiments, req.intent);
    if (!experiment) return { name: this.variant, counted: false };
    const who = subject?.pseudonym ?? (req.session === undefined ? undefined : this.privacy.pseudonymiser.pseudonym(`session:${req.session}`));
    if (who === undefined) return { name: experiment.variants[0]!.name, experiment, variant: experiment.variants[0]!, index: 0, counted: false };
    const { variant, index } = variantFor(experiment, who);
    return { name: variant.name, experiment, variant, index, counted: true };
  }

  private engineFor(arm: Arm): Engine {
    const { store, config, versions } = this.deps;
    const notes: string[] = [];
    let model = store.active!;
    let sha256 = store.activeManifest?.sha256 ?? '';
    const version = arm.variant?.modelVersion;
    if (version !== undefined && version !== model.version) {
      const loaded = versions?.peek(version);
      if (loaded) ({ model, sha256 } = loaded);
      else notes.push(`variant_model_unavailable:${version}`);
    }
    const overrides = arm.variant?.engine;
    if (!overrides || Object.keys(overrides).length === 0) return { model, sha256, cfg: config.engine, name: '', notes };
    return { model, sha256, cfg: { ...config.engine, ...overrides }, name: `${arm.experiment!.name}_${arm.name}`, notes };
  }

  private recordDecision(
    audit: AuditTrail,
    answer: Decision,
    req: RecommendRequest,
    subject: Subject | undefined,
    arm: Arm,
    engine: Engine,
    list: CandidateList,
    served: Served,
    want: number,
    now: number,
  ): void {
    const withheld = subject?.optedOut && !subject.erased ? this.withheld(req, engine.model, engine.cfg, subject, want, list.scored.candidates) : [];
    // An opted-out shopper's outcome names what their history would have added: it is theirs, not the list's.
    const outcome = withheld.length > 0 ? this.outcomeOf(list, served, answer, withheld) : (served.audit ??= this.outcomeOf(list, served, answer));
    audit.decision(
      {
        id: answer.recommendationId,
        time: now,
        intent: req.intent,
        items: req.items,
        limit: req.limit,
        depth: want,
        // An erased shopper is nobody in particular now: nothing about them is recorded again.
        user: subject && !subject.erased ? subject.pseudonym : undefined,
        keyId: this.privacy.pseudonymiser.keyId,
        optedOut: subject?.optedOut ?? false,
        modelVersion: engine.model.version,
        modelSha256: engine.sha256,
        configVersion: this.configVersion,
        experiment: arm.experiment?.name,
        variant: arm.name,
        onlineGeneration: engine.model.online.generation,
        notes: answer.reasons,
      },
      outcome,
    );
  }

  /**
   * The outcome of a candidate list under the current stock: stock and categories are read now (they may
   * change before the audit flush), and the scores and evidence packed now too (a few µs while the engine's
   * objects are fresh in the cache, where reading them in the flush costs several times more); the JSON is
   * written with the outcome, in the background.
   */
  private outcomeOf(list: CandidateList, served: Served, answer: Decision, withheld: readonly Filtered[] = []): Outcome {
    const { catalog, config } = this.deps;
    // Read now, while the engine's objects are fresh in the cache: their stock and category, scores and evidence.
    const candidates = packCandidates(list.scored.candidates, catalog.stocks, catalog.categoryOf, catalog, true);
    const items = answer.items;
    const filtered = withheld.length > 0 ? [...served.filtered, ...withheld] : served.filtered;
    return new Outcome(() => ({
      candidates,
      filtered: new FilteredJson(filtered, catalog),
      items: itemsJson(items),
      promotions: JSON.stringify(promotionIds(config.rules, served.promotionsKey)),
    }));
  }

  /**
   * For the decision record of an opted-out shopper: the candidates their history would have brought
   * (scored as if they had not opted out, at the same depth, and kept nowhere) that the answer's candidates
   * lack, each with the reason `opt_out`. Empty when there is no history to withhold.
   */
  private withheld(req: { intent: Intent; items: readonly string[] }, model: ServingModel, cfg: EngineConfig, subject: Subject, want: number, served: readonly { idx: number }[]): Filtered[] {
    const basket = this.basket(req, model, { ...subject, optedOut: false });
    if (basket.user === undefined) return [];
    const { catalog } = this.deps;
    const have = new Set(served.map((c) => c.idx));
    const out: Filtered[] = [];
    for (const c of this.score(req.intent, model, basket, want, cfg).candidates) {
      if (!have.has(c.idx)) out.push({ idx: c.idx, id: catalog.id(c.idx), rule: OPT_OUT });
    }
    return out;
  }

  private basket(req: { items: readonly string[] }, model: ServingModel, subject: Subject | undefined): Basket {
    const { catalog } = this.deps;
    const notes: string[] = [];
    const known: number[] = [];
    for (const id of req.items) {
      const idx = catalog.idx(id);
      if (idx === undefined) notes.push(`unknown_item:${id}`);
      else if (!known.includes(idx)) known.push(idx);
    }
    if (known.length > 1) known.sort((a, b) => (catalog.id(a) < catalog.id(b) ? -1 : 1));
    // The shopper's history is read only with their consent, under whichever key it was stored.
    const user =
      subject && !subject.optedOut && !subject.erased ? subject.all.find((p) => model.users.has(p) || model.online.histories.has(p)) : undefined;
    return { known, ids: known.map((i) => catalog.id(i)), user, notes };
  }

  /**
   * Over-fetch; go deeper (×4) while the rules leave the answer short and a deeper list helps. The
   * depth found is remembered on the shallow (cached) list and reused while stock is unchanged.
   * Synchronous while the lists come from memory (nothing is allocated for the steps then); it turns
   * async only when a list must come from Redis.
   */
  private rank(intent: Intent, engine: Engine, basket: Basket, ctx: RuleContext): MaybePromise<Ranked> {
    const base = Math.min(ctx.limit * 2 + 10, MAX_CANDIDATES);
    const first = this.candidates(intent, engine, basket, base);
    if (first instanceof Promise) return first.then((root) => this.deepen(this.depthSearch(root, base, ctx), intent, engine, basket, ctx));
    return this.deepen(this.depthSearch(first, base, ctx), intent, engine, basket, ctx);
  }

  private depthSearch(root: CandidateList, base: number, ctx: RuleContext): DepthSearch {
    const stock = this.deps.catalog.stockGeneration;
    const hint = root.deeper !== undefined && root.deeperAtStock === stock ? root.deeper : undefined;
    return { root, base, hint, want: hint ?? base, best: undefined, promotionsKey: activePromotionsKey(ctx) };
  }

  private deepen(s: DepthSearch, intent: Intent, engine: Engine, basket: Basket, ctx: RuleContext): MaybePromise<Ranked> {
    for (;;) {
      const next = s.want === s.base ? s.root : this.candidates(intent, engine, basket, s.want);
      if (next instanceof Promise) return next.then((list) => (this.tryDepth(s, list, ctx) ? this.found(s, ctx) : this.deepen(s, intent, engine, basket, ctx)));
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

  private answer(id: string, intent: Intent, engine: Engine, basket: Basket, list: CandidateList, served: Served, variant: string): Decision {
    const { catalog } = this.deps;
    const extra = [...list.scored.notes, ...engine.notes];
    const notes = extra.length > 0 ? [...basket.notes, ...extra] : basket.notes;
    const answer: Decision = {
      recommendationId: id,
      intent,
      modelVersion: engine.model.version,
      variant,
      // Keys in canonical order: the audit outcome reuses the answer's items text (see items-json.ts).
      items: (served.answer ??= served.items.map((c) => ({
        id: catalog.id(c.idx),
        reasons: reasonsOf(c, catalog),
        score: Math.round(c.score * 10_000) / 10_000,
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
  private candidates(intent: Intent, engine: Engine, basket: Basket, want: number): CandidateList | Promise<CandidateList> {
    const { catalog } = this.deps;
    const key = candidateKey({ intent, items: basket.ids, user: basket.user, depth: want, engine: engine.name });
    return this.cache.get(key, engine.model, catalog.generation, () => ({ scored: this.score(intent, engine.model, basket, want, engine.cfg) }));
  }

  private score(intent: Intent, model: ServingModel, basket: Basket, want: number, cfg: EngineConfig): Scored {
    const { catalog } = this.deps;
    const view: EngineView = { catalog, model, cfg };
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

  /**
   * Ingests events into the online counts and shopper histories of the active model (and of the versions
   * experiment variants serve). Shoppers are pseudonymised first; an erased shopper's events and events
   * past retention are dropped. An event that carries a recommendationId is credited to its variant.
   */
  ingestEvents(records: readonly unknown[]): BatchResult {
    const active = this.deps.store.active;
    if (!active) throw new NotReadyError('no model is loaded yet; events cannot be applied');
    const { catalog } = this.deps;
    const v = validateBatch(ShopEvent, records, (ev) =>
      catalog.idx(ev.itemId) === undefined ? { field: '/itemId', message: `unknown item '${ev.itemId}'` } : undefined,
    );
    const w = this.deps.config.engine.eventWeights;
    const models = [active, ...(this.deps.versions?.others() ?? [])];
    const policy = { pseudonymiser: this.privacy.pseudonymiser, erased: this.privacy.erased, retentionDays: this.privacy.retentionDays, now: this.now };
    const dropped = { erased: 0, expired: 0 };
    let applied = 0;
    for (const { value } of v.valid) {
      const ev = admitEvent(value, policy);
      if (typeof ev === 'string') {
        dropped[ev]++;
        continue;
      }
      applied++;
      const idx = catalog.idx(ev.itemId)!;
      for (const model of models) {
        if (ev.type === 'purchase') {
          model.online.addPurchase(ev.orderId ?? `${ev.userId}@${ev.timestamp}`, idx);
          model.online.addInteraction(ev.userId, idx, w.purchase, true);
        } else {
          model.online.addInteraction(ev.userId, idx, ev.type === 'add_to_cart' ? w.add_to_cart : w.view, false);
        }
      }
      if (ev.recommendationId !== undefined) this.attribute(ev, idx);
    }
    if (applied > 0) this.cache.onlineChanged();
    for (const reason of ['erased', 'expired'] as const) if (dropped[reason] > 0) this.deps.observer?.eventsDropped?.(reason, dropped[reason]);
    return { accepted: v.valid.length, rejected: v.rejected, errors: v.errors };
  }

  /** Credits an event to the experiment variant its recommendation id names (see recommendation-id.ts). */
  private attribute(ev: ShopEvent, idx: number): void {
    const tag = tagOf(ev.recommendationId!);
    const experiment = tag && this.byFingerprint.get(tag.fingerprint);
    const variant = experiment?.variants[tag!.variant];
    if (!experiment || !variant) return; // no experiment, or one whose set-up has changed since
    const outcome: Credit = ev.type === 'purchase' ? 'conversion' : 'click';
    const revenue = ev.type === 'purchase' ? (ev.price ?? this.deps.catalog.prices[idx]!) * (ev.quantity ?? 1) : 0;
    const observer = this.deps.observer;
    if (this.counters.credit(experiment.name, variant.name, ev.recommendationId!, outcome, revenue)) observer?.experiment?.(outcome, experiment.name, variant.name, 1);
    if (ev.type === 'add_to_cart') observer?.experiment?.('add_to_cart', experiment.name, variant.name, 1);
    if (revenue > 0) observer?.experiment?.('revenue', experiment.name, variant.name, revenue);
  }

  // ── The shopper's rights ────────────────────────────────────────────────────────────────────────

  /** Everything held about a shopper, as JSON. */
  async exportUser(userId: string): Promise<UserExport> {
    const s = this.privacy.subject(userId);
    const model = this.deps.store.active;
    const { catalog } = this.deps;
    const trained: UserExport['history']['trained'] = [];
    const online: UserExport['history']['online'] = [];
    for (const p of s.all) {
      const u = model?.users.get(p);
      if (model && u !== undefined) {
        for (let q = model.a.histOff[u]!; q < model.a.histOff[u + 1]!; q++) {
          trained.push({ itemId: catalog.id(model.a.histItem[q]!), weight: model.a.histWeight[q]!, bought: model.a.histBought[q] === 1 });
        }
      }
      for (const e of model?.online.histories.get(p) ?? []) online.push({ itemId: catalog.id(e.item), weight: e.weight, bought: e.bought });
    }
    const since = s.all.map((p) => this.privacy.optedOut.since(p)).find((d) => d !== undefined);
    const decisions = this.deps.audit ? await this.deps.audit.decisionsOf(s.all) : { lines: [], truncated: false };
    return {
      user: { pseudonyms: [...s.all], keyId: this.privacy.pseudonymiser.keyId },
      erased: s.erased,
      optedOut: s.optedOut && since ? { since: since.toISOString() } : null,
      history: { modelVersion: model?.version ?? null, trained, online },
      experiments: this.experiments.map((e) => ({ experiment: e.name, variant: variantFor(e, s.pseudonym).variant.name })),
      decisions: decisions.lines,
      decisionsTruncated: decisions.truncated,
      notes: [
        'Only pseudonyms are stored: the shopper id itself is never written, and IP addresses are never kept.',
        "The raw events (with the shop's own ids) are the shop's events file, which the trainer reads and prunes.",
        ...(this.deps.audit ? [] : ['This service keeps no decision records (audit is off).']),
      ],
    };
  }

  /**
   * Erases a shopper: remembered as erased (so ingestion and the next training drop them), their online
   * histories and this pod's cached lists go, every audit record about them is redacted, their opt-out
   * entry goes, and the erasure itself is recorded.
   */
  async eraseUser(userId: string): Promise<ErasureResult> {
    const s = this.privacy.subject(userId);
    const now = this.now();
    for (const p of s.all) await this.privacy.erased.add(p, new Date(now));
    const optOut = await this.privacy.optedOut.delete(s.all);
    const { histories, cacheEntries } = this.forget(s.all);
    const auditRecords = this.deps.audit ? await this.deps.audit.redact(s.all) : 0;
    const erasureId = newRecommendationId(now);
    const reached = { histories, cacheEntries, auditRecords, optOut };
    this.deps.audit?.record(
      { type: 'erasure', v: AUDIT_FORMAT, id: erasureId, time: new Date(now).toISOString(), subject: { digest: subjectDigest(erasureId, s.pseudonym), keyId: this.privacy.pseudonymiser.keyId }, reached },
      null,
    );
    this.deps.observer?.erased?.();
    return {
      erasureId,
      erasedAt: new Date(now).toISOString(),
      reached,
      pending: [
        'The next retraining drops their events and prunes them from the events file; until then the model in memory no longer reads their history.',
        'The other scoring pods forget their online history and cached lists within seconds (they watch the shared erasure list).',
      ],
    };
  }

  /** Forgets shoppers: online histories (every model held) and cached lists (this pod's, and Redis's in the background). */
  private forget(pseudonyms: readonly string[]): { histories: number; cacheEntries: number } {
    let histories = 0;
    let cacheEntries = 0;
    const models = [this.deps.store.active, ...(this.deps.versions?.others() ?? [])];
    for (const p of pseudonyms) {
      for (const m of models) {
        if (m?.online.histories.delete(p)) {
          histories++;
          m.online.generation++;
        }
      }
      cacheEntries += this.cache.forgetUser(p);
    }
    return { histories, cacheEntries };
  }

  /**
   * Picks up erasures and opt-outs made by other pods: a shopper erased elsewhere is forgotten here too,
   * and this pod's own audit records about them are redacted (they may have been written since).
   */
  async syncPrivacy(): Promise<number> {
    const erased = await this.privacy.refresh();
    if (erased.length === 0) return 0;
    this.forget(erased);
    await this.deps.audit?.redact(erased, { own: true });
    return erased.length;
  }

  /** Opts a shopper out of (`out` false: back into) personalisation; their history is then not read. */
  async setOptOut(userId: string, out: boolean): Promise<{ optedOut: boolean }> {
    const s = this.privacy.subject(userId);
    if (out) await this.privacy.optedOut.add(s.pseudonym, new Date(this.now()));
    else await this.privacy.optedOut.delete(s.all);
    return { optedOut: out };
  }

  // ── Decisions and experiments ───────────────────────────────────────────────────────────────────

  async decision(id: string): Promise<DecisionView | undefined> {
    return this.deps.audit?.find(id);
  }

  /** Recomputes a recorded decision (see audit/replay.ts); undefined when there is no such record. */
  async replay(id: string): Promise<ReplayResult | undefined> {
    const rec = await this.decision(id);
    if (!rec) return undefined;
    const notes: string[] = [];
    let engine: { candidates: EngineCandidate[] } | { unavailable: string };
    try {
      const loaded = await this.loadVersion(rec.model.version);
      if (loaded.sha256 !== rec.model.sha256) throw new ArtifactError(`model ${rec.model.version} is now a different artifact (sha256 ${loaded.sha256})`);
      // Without online updates: they cannot be replayed (see the note the replay adds when they mattered).
      const model: ServingModel = { ...loaded.model, online: new OnlineState(this.deps.config.engine.historySize) };
      const variant = rec.experiment && this.experiments.find((e) => e.name === rec.experiment!.name)?.variants.find((v) => v.name === rec.experiment!.variant);
      if (rec.experiment && !variant) notes.push(`variant ${rec.experiment.name}/${rec.experiment.variant} is no longer configured: the default engine parameters are used`);
      const cfg = variant?.engine ? { ...this.deps.config.engine, ...variant.engine } : this.deps.config.engine;
      if (rec.subject && rec.user === null) notes.push('the shopper was erased and redacted: the candidates are recomputed as for an anonymous shopper');
      const subject = rec.user === null ? undefined : { pseudonym: rec.user, all: [rec.user], erased: false, optedOut: rec.optedOut };
      const basket = this.basket({ items: rec.context.items }, model, subject);
      const { catalog } = this.deps;
      const scored = this.score(rec.intent, model, basket, rec.context.depth, cfg).candidates;
      const withheld = subject?.optedOut ? this.withheld({ intent: rec.intent, items: rec.context.items }, model, cfg, subject, rec.context.depth, scored) : rec.optedOut ? undefined : [];
      engine = {
        candidates: scored.map((c) => ({ id: catalog.id(c.idx), score: c.score, reasons: reasonsOf(c, catalog) })),
        ...(withheld ? { withheld: withheld.map((f) => ({ id: f.id, reason: f.rule })) } : {}),
      };
    } catch (err) {
      if (!(err instanceof ArtifactError)) throw err;
      engine = { unavailable: err.message };
    }
    return replayDecision(rec, { rules: this.deps.config.rules, configVersion: this.configVersion, engine, notes });
  }

  private loadVersion(version: string): Promise<{ model: ServingModel; sha256: string }> {
    const active = this.deps.store.active;
    if (active?.version === version) return Promise.resolve({ model: active, sha256: this.deps.store.activeManifest?.sha256 ?? '' });
    if (!this.deps.versions) return Promise.reject(new ArtifactError(`model version '${version}' is not loaded and there is no model directory`));
    return this.deps.versions.get(version);
  }

  /** The report of an experiment, every pod's counts added up; undefined for an unknown experiment. */
  async experimentReport(name: string): Promise<ExperimentReport | undefined> {
    const experiment = this.experiments.find((e) => e.name === name);
    if (!experiment) return undefined;
    return buildReport(experiment, await this.counters.total(name));
  }

  /** Saves the experiment counts (the caller does it every few seconds and at shutdown). */
  saveCounters(): Promise<void> {
    return this.counters.save();
  }

  /** Stops the cache's background work and connections. */
  close(): Promise<void> {
    return this.cache.close();
  }
}
