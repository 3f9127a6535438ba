import type { RulesConfig } from '../config.js';
import type { Catalog } from '../engine/catalog.js';
import type { Intent } from '../schemas.js';
import type { Why } from '../engine/score.js';

export interface RankedItem {
  idx: number;
  score: number;
  reasons: string[];
  /** The engine's reasons as data (see engine/score.ts), and their memoised text. */
  why?: Why;
  whyText?: string[];
  /** Set while the item holds a promoted slot. */
  pinned?: boolean;
}

export interface RuleContext {
  readonly catalog: Catalog;
  readonly rules: RulesConfig;
  readonly intent: Intent;
  /** Epoch ms at serve time (promotion windows). */
  readonly now: number;
  readonly limit: number;
}

/** An item a rule removed, and why (kept for the decision record). */
export interface Filtered {
  idx: number;
  id: string;
  rule: string;
}

/** A business rule: takes the ranked list, returns the new one, and records what it dropped. */
export type Rule = (items: readonly RankedItem[], ctx: RuleContext, filtered: Filtered[]) => readonly RankedItem[];
