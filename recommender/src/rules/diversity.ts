import type { Rule } from './types.js';

/** At most `maxPerCategory` items per category (for the intents in `diversityIntents`), then the result limit. Keeps the order. */
export const diversityAndLimit: Rule = (items, ctx, filtered) => {
  if (!ctx.rules.diversityIntents.includes(ctx.intent)) return items.length > ctx.limit ? items.slice(0, ctx.limit) : items;
  const perCat = new Map<number, number>();
  const out = [];
  for (const it of items) {
    if (out.length >= ctx.limit) break;
    const cat = ctx.catalog.categoryOf[it.idx]!;
    const n = perCat.get(cat) ?? 0;
    if (n >= ctx.rules.maxPerCategory) {
      filtered.push({ id: ctx.catalog.id(it.idx), rule: 'diversity' });
      continue;
    }
    perCat.set(cat, n + 1);
    out.push(it);
  }
  return out;
};
