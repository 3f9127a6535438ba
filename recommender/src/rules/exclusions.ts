import type { Rule } from './types.js';

/** Drops blocked items and items of blocked categories. */
export const exclusions: Rule = (items, ctx, filtered) => {
  const { blockedItems, blockedCategories } = ctx.rules;
  if (blockedItems.length === 0 && blockedCategories.length === 0) return items;
  return items.filter((it) => {
    const rec = ctx.catalog.items[it.idx]!;
    if (blockedItems.includes(rec.id)) {
      filtered.push({ id: rec.id, rule: 'blocked_item' });
      return false;
    }
    if (blockedCategories.includes(rec.category)) {
      filtered.push({ id: rec.id, rule: `blocked_category:${rec.category}` });
      return false;
    }
    return true;
  });
};
