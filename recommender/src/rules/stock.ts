import type { Rule } from './types.js';

/** Stock 0 is never shown; stock at or below the low-stock threshold is demoted. Reads live stock. */
export const stock: Rule = (items, ctx, filtered) => {
  const { lowStockThreshold, lowStockFactor } = ctx.rules;
  const out = [];
  for (const it of items) {
    const s = ctx.catalog.stock(it.idx);
    if (s <= 0) {
      filtered.push({ id: ctx.catalog.id(it.idx), rule: 'out_of_stock' });
      continue;
    }
    if (s <= lowStockThreshold) out.push({ ...it, score: it.score * lowStockFactor, reasons: [...it.reasons, `low_stock:${s}`] });
    else out.push(it);
  }
  return out;
};
