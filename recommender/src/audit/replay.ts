/**
 * Replay of a decision, in two stages:
 *   - rules: the recorded candidates (the engine's scores, the stock and category each had then) go
 *     through the business rules again at the recorded time, which fixes the promotion windows. This
 *     stage needs nothing live, so it reproduces an unchanged rule set exactly;
 *   - engine: the caller recomputes the candidates with the recorded model version and request, and
 *     they are compared with the recorded ones.
 * The answer is `{match, diff, notes}`: `diff` holds only what differs, `notes` the likely causes.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { RulesConfig } from '../config.js';
import { Catalog } from '../engine/catalog.js';
import { reasonsOf } from '../engine/score.js';
import { applyRules, type RankedItem } from '../rules/index.js';
import { activePromotionsKey } from '../rules/promotions.js';
import type { RecommendedItem } from '../schemas.js';
import { canonicalJson } from './canonical.js';
import { OPT_OUT, type AuditCandidate, type DecisionView } from './record.js';

/** A candidate as the engine gives it (no stock or category: those are live state, not the engine's). */
export type EngineCandidate = Pick<AuditCandidate, 'id' | 'score' | 'reasons'>;

const Listed = Type.Array(Type.Unknown());
const Change = Type.Object({ recorded: Listed, replayed: Listed }, { additionalProperties: false });

export const ReplayResult = Type.Object(
  {
    match: Type.Boolean({ description: 'The replay gave the recorded answer, candidates included when they could be recomputed.' }),
    stages: Type.Object(
      {
        rules: Type.Boolean({ description: 'The rules, replayed on the recorded candidates, stock and time, give the recorded answer.' }),
        engine: Type.Union([Type.Boolean(), Type.Null()], { description: 'The model recomputes the recorded candidates; null when it could not be run.' }),
      },
      { additionalProperties: false },
    ),
    diff: Type.Object(
      { items: Type.Optional(Change), filtered: Type.Optional(Change), candidates: Type.Optional(Change) },
      { additionalProperties: false },
    ),
    notes: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);
export type ReplayResult = Static<typeof ReplayResult>;

/** Rounds a score as answers show it. */
export function shownScore(score: number): number {
  return Math.round(score * 10_000) / 10_000;
}

/** The business rules applied again to the recorded candidates, with the recorded stock and time. */
export function replayRules(record: Pick<DecisionView, 'candidates' | 'intent' | 'time' | 'context'>, rules: RulesConfig): { items: RecommendedItem[]; filtered: { id: string; reason: string }[]; promotions: string[] } {
  // A catalogue of the recorded candidates only: the rules read ids, categories and stock, nothing else.
  const catalog = Catalog.from(
    record.candidates.map((c) => ({ id: c.id, title: c.id, category: c.category, price: 0, currency: 'EUR', stock: c.stock, attributes: {} })),
  );
  const ranked: RankedItem[] = record.candidates.map((c, idx) => ({ idx, score: c.score, reasons: c.reasons }));
  const ctx = { catalog, rules, intent: record.intent, now: Date.parse(record.time), limit: record.context.limit };
  const out = applyRules(ranked, ctx);
  return {
    items: out.items.map((c) => ({ id: catalog.id(c.idx), score: shownScore(c.score), reasons: reasonsOf(c, catalog) })),
    filtered: out.filtered.map((f) => ({ id: f.id, reason: f.rule })),
    promotions: promotionIds(rules, activePromotionsKey(ctx)),
  };
}

/** Promotion ids from an `activePromotionsKey` (their positions in the config). */
export function promotionIds(rules: RulesConfig, key: string): string[] {
  return key === '' ? [] : key.slice(0, -1).split(',').map((i) => rules.promotions[Number(i)]!.id);
}

/** Equal as data (a record read back from its line has its keys in canonical order). */
const same = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);

type Withheld = { id: string; reason: string };

export interface ReplayContext {
  rules: RulesConfig;
  /** The config version in force now (the record names the one it was made with). */
  configVersion: string;
  /**
   * The recomputed candidates, or why they could not be (model version gone…). For an opted-out shopper,
   * also what their history would have added (`opt_out`), when it could be recomputed (not once redacted).
   */
  engine: { candidates: EngineCandidate[]; withheld?: Withheld[] } | { unavailable: string };
  /** What the caller knows may make the replay differ (e.g. the shopper was redacted). */
  notes?: string[];
}

export function replayDecision(record: DecisionView, ctx: ReplayContext): ReplayResult {
  const notes: string[] = [...(ctx.notes ?? [])];
  const again = replayRules(record, ctx.rules);
  const diff: ReplayResult['diff'] = {};
  // The rules' removals come first, then what the opt-out withheld (the engine stage recomputes those).
  const recordedWithheld = record.filtered.filter((f) => f.reason === OPT_OUT);
  const ruled = record.filtered.filter((f) => f.reason !== OPT_OUT);
  const withheld = 'candidates' in ctx.engine ? ctx.engine.withheld : undefined;
  if (!same(again.items, record.items)) diff.items = { recorded: record.items, replayed: again.items };
  const replayedFiltered = [...again.filtered, ...(withheld ?? recordedWithheld)];
  if (!same(replayedFiltered, record.filtered)) diff.filtered = { recorded: record.filtered, replayed: replayedFiltered };
  const rules = diff.items === undefined && same(again.filtered, ruled);
  if (ctx.configVersion !== record.config.version) notes.push(`the config changed since the decision (${record.config.version} then, ${ctx.configVersion} now)`);
  if (!same(again.promotions, record.promotions)) {
    notes.push(`the promotions active at ${record.time} are now [${again.promotions.join(', ')}], they were [${record.promotions.join(', ')}]`);
  }

  let engine: boolean | null = null;
  if ('unavailable' in ctx.engine) notes.push(`the candidates were not recomputed: ${ctx.engine.unavailable}`);
  else {
    const recorded = record.candidates.map(({ id, score, reasons }) => ({ id, score, reasons }));
    const candidates = same(ctx.engine.candidates, recorded);
    if (withheld === undefined && recordedWithheld.length > 0) {
      notes.push(`the ${recordedWithheld.length} candidates withheld by the opt-out were not recomputed: the shopper's history is not available`);
    }
    engine = candidates && (withheld === undefined || same(withheld, recordedWithheld));
    if (!candidates) diff.candidates = { recorded, replayed: ctx.engine.candidates };
    if (!engine && record.online.generation > 0) {
      notes.push(`${record.online.generation} online updates were applied to the model when the decision was made; a replay recomputes without them`);
    }
  }
  return { match: rules && engine !== false, stages: { rules, engine }, diff, notes };
}
