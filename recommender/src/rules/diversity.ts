import type { Rule } from './types.js';

/** At most `maxPerCategory` items per category (for the intents in `diversityIntents`), then the result limit. Keeps the order. */
export const diversityAndLimit: Rule = (items, ctx, filtered) => {
  if (!ctx.rules.diversityIntents.includes(ctx.intent)) return items.length > ctx.limit ? items.slice(0, ctx.limit) : items;
  const max = ctx.rules.maxPerCategory;
  const cats = ctx.catalog.categoryOf;
  const seen: number[] = []; // categories taken so far, one entry per item kept (limit ≤ 100)
  const out = [];
  for (const it of items) {
    if (out.length >= ctx.limit) break;
    const cat = cats[it.idx]!;
    let n = 0;
    for (const c of seen) if (c === cat) n++;
    if (n >= max) {
      filtered.push({ idx: it.idx, id: ctx.catalog.id(it.idx), rule: 'diversity' });
      continue;
    }
    seen.push(cat);
    out.push(it);
  }
  return out;
};
