/**
 * Business rules, applied at serve time after any cache, in this order: exclusions, stock,
 * promotions (boost/pin with a slot cap), diversity and the limit.
 */
import { diversityAndLimit } from './diversity.js';
import { exclusions } from './exclusions.js';
import { promotions } from './promotions.js';
import { stock } from './stock.js';
import type { Filtered, RankedItem, Rule, RuleContext } from './types.js';

export type { Filtered, RankedItem, Rule, RuleContext } from './types.js';

export const RULES: readonly Rule[] = [exclusions, stock, promotions, diversityAndLimit];

export function applyRules(items: readonly RankedItem[], ctx: RuleContext): { items: readonly RankedItem[]; filtered: Filtered[] } {
  const filtered: Filtered[] = [];
  let list = items; // rules never mutate their input (readonly); they return it or a new array
  for (const rule of RULES) list = rule(list, ctx, filtered);
  return { items: list, filtered };
}
