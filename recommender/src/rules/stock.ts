import type { Rule } from './types.js';

/** Stock 0 is never shown; stock at or below the low-stock threshold is demoted. Reads live stock. */
export const stock: Rule = (items, ctx, filtered) => {
  const { lowStockThreshold, lowStockFactor } = ctx.rules;
  const stocks = ctx.catalog.stocks;
  let clean = true;
  for (let i = 0; i < items.length && clean; i++) if (stocks[items[i]!.idx]! <= lowStockThreshold) clean = false;
  if (clean) return items;
  const out = [];
  for (const it of items) {
    const s = stocks[it.idx]!;
    if (s <= 0) {
      filtered.push({ idx: it.idx, id: ctx.catalog.id(it.idx), rule: 'out_of_stock' });
      continue;
    }
    if (s <= lowStockThreshold) {
      const { whyText: _memo, ...rest } = it;
      out.push({ ...rest, score: it.score * lowStockFactor, reasons: [...it.reasons, `low_stock:${s}`] });
    } else out.push(it);
  }
  return out;
};
