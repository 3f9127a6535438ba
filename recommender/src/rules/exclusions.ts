import type { Rule } from './types.js';

/** Drops blocked items and items of blocked categories. */
export const exclusions: Rule = (items, ctx, filtered) => {
  const { blockedItems, blockedCategories } = ctx.rules;
  if (blockedItems.length === 0 && blockedCategories.length === 0) return items;
  return items.filter((it) => {
    const id = ctx.catalog.id(it.idx);
    const category = ctx.catalog.category(it.idx);
    if (blockedItems.includes(id)) {
      filtered.push({ idx: it.idx, id, rule: 'blocked_item' });
      return false;
    }
    if (blockedCategories.includes(category)) {
      filtered.push({ idx: it.idx, id, rule: `blocked_category:${category}` });
      return false;
    }
    return true;
  });
};
