import type { Promotion } from '../config.js';
import type { RankedItem, Rule, RuleContext } from './types.js';

/** Promotion windows as epoch ms, parsed once per promotion (config objects live as long as the process). */
const windows = new WeakMap<Promotion, { start: number; end: number }>();

export function isActive(p: Promotion, ctx: Pick<RuleContext, 'now' | 'intent'>): boolean {
  let w = windows.get(p);
  if (!w) {
    w = { start: p.start ? Date.parse(p.start) : -Infinity, end: p.end ? Date.parse(p.end) : Infinity };
    windows.set(p, w);
  }
  if (w.start > ctx.now || w.end < ctx.now) return false;
  if (p.intents && !p.intents.includes(ctx.intent)) return false;
  return true;
}

/**
 * The promotions active now for this intent, as a key (their positions in the config): the only input
 * of the rules that changes with the clock. Equal keys mean the promotions rule sees the same promotions.
 */
export function activePromotionsKey(ctx: Pick<RuleContext, 'now' | 'intent' | 'rules'>): string {
  let key = '';
  const all = ctx.rules.promotions;
  for (let i = 0; i < all.length; i++) if (isActive(all[i]!, ctx)) key += `${i},`;
  return key;
}

function promotionOf(active: Promotion[], ctx: RuleContext, idx: number): Promotion | undefined {
  const id = ctx.catalog.id(idx);
  const category = ctx.catalog.category(idx);
  return active.find((p) => p.itemIds?.includes(id) || p.categories?.includes(category));
}

/**
 * The list ordered by score, best first, ties by index (a total order, so the result is the same as any sort's).
 * Without promotions the list is out of order only where the stock rule demoted a few items, so an
 * insertion sort moves just those, where Array.prototype.sort would call a comparator for every pair it visits.
 */
function nearlySorted(items: readonly RankedItem[]): RankedItem[] {
  const out = [...items];
  for (let i = 1; i < out.length; i++) {
    const it = out[i]!;
    let j = i - 1;
    while (j >= 0 && (out[j]!.score < it.score || (out[j]!.score === it.score && out[j]!.idx > it.idx))) {
      out[j + 1] = out[j]!;
      j--;
    }
    out[j + 1] = it;
  }
  return out;
}

/**
 * Boosts or pins candidates under an active promotion (date window, intent), and caps the
 * promoted slots at `maxPromotedSlots`: beyond the cap an item keeps its organic score.
 * Pins move an eligible candidate to the top; they never bring in an unrelated item.
 */
export const promotions: Rule = (items, ctx) => {
  const active = ctx.rules.promotions.length === 0 ? ctx.rules.promotions : ctx.rules.promotions.filter((p) => isActive(p, ctx));
  if (active.length === 0) {
    let sorted = true;
    for (let i = 1; i < items.length && sorted; i++) if (items[i]!.score > items[i - 1]!.score) sorted = false;
    return sorted ? items : nearlySorted(items);
  }
  const offers: { item: RankedItem; promo: Promotion; boosted: number }[] = [];
  const organic: RankedItem[] = [];
  for (const it of items) {
    const promo = promotionOf(active, ctx, it.idx);
    if (promo) offers.push({ item: it, promo, boosted: promo.mode === 'boost' ? it.score * promo.boost : it.score });
    else organic.push(it);
  }
  offers.sort(
    (a, b) =>
      Number(b.promo.mode === 'pin') - Number(a.promo.mode === 'pin') || b.boosted - a.boosted || a.item.idx - b.item.idx,
  );
  const pinned: RankedItem[] = [];
  offers.forEach((o, rank) => {
    if (rank >= ctx.rules.maxPromotedSlots) {
      organic.push(o.item);
      return;
    }
    const promoted: RankedItem = { ...o.item, score: o.boosted, reasons: [...o.item.reasons, `promotion:${o.promo.id}`] };
    if (o.promo.mode === 'pin') pinned.push({ ...promoted, pinned: true });
    else organic.push(promoted);
  });
  organic.sort((a, b) => b.score - a.score || a.idx - b.idx);
  return [...pinned, ...organic];
};
