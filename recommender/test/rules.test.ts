import { describe, expect, it } from 'vitest';
import { Catalog } from '../src/engine/catalog.js';
import { parseConfig } from '../src/config.js';
import { applyRules, type RankedItem } from '../src/rules/index.js';
import { buildShop, CAMERA_SHOP, ids, item, ordersToEvents, repeat } from './fixtures.js';

const orders = [
  ...repeat(8, ['cam-1', 'card-1']),
  ...repeat(6, ['cam-1', 'tri-1']),
  ...repeat(5, ['cam-1', 'bag-1']),
  ...repeat(4, ['cam-1', 'bag-2']),
  ...repeat(3, ['cam-1', 'bag-3']),
  ...repeat(3, ['cam-1', 'lens-1']),
  ...repeat(10, ['mug-1', 'beans-1']),
];

/** A catalogue of `n` items in `cats` categories, ranked by descending score. */
function ranked(n: number, cats: number, stock = 10): { catalog: Catalog; items: RankedItem[] } {
  const catalog = Catalog.from(Array.from({ length: n }, (_, i) => item(`i${i}`, `c${i % cats}`, 10 + i, { stock })));
  return { catalog, items: Array.from({ length: n }, (_, i) => ({ idx: i, score: n - i, reasons: [] })) };
}

describe('stock', () => {
  it('When stock drops to 0, Then the item disappears on the very next request', async () => {
    const shop = await buildShop(CAMERA_SHOP, ordersToEvents(orders));
    expect(ids(await shop.service.recommend({ intent: 'cross-sell', items: ['cam-1'], limit: 5 }))).toContain('card-1');
    expect(shop.service.patchInventory({ 'card-1': 0 })).toEqual({ accepted: 1, rejected: 0, errors: [] });
    const r = await shop.service.recommend({ intent: 'cross-sell', items: ['cam-1'], limit: 5 });
    expect(ids(r)).not.toContain('card-1');
    expect(r.filtered).toContainEqual({ idx: shop.catalog.idx('card-1'), id: 'card-1', rule: 'out_of_stock' });
    shop.service.patchInventory({ 'card-1': 50 });
    expect(ids(await shop.service.recommend({ intent: 'cross-sell', items: ['cam-1'], limit: 5 }))).toContain('card-1');
  });

  it('When stock is low, Then the item is demoted and says why', async () => {
    const shop = await buildShop(CAMERA_SHOP, ordersToEvents(orders), { rules: { maxPerCategory: 10 } });
    const first = (await shop.service.recommend({ intent: 'cross-sell', items: ['cam-1'], limit: 10 })).items[0]!;
    shop.service.patchInventory({ [first.id]: 2 });
    const r = await shop.service.recommend({ intent: 'cross-sell', items: ['cam-1'], limit: 10 });
    const demoted = r.items.find((i) => i.id === first.id)!;
    expect(demoted.score).toBeCloseTo(first.score * 0.5, 3);
    expect(demoted.reasons).toContain('low_stock:2');
    expect(r.items[0]!.id).not.toBe(first.id);
  });
});

describe('promotions', () => {
  const promo = (extra: object) => ({ rules: { maxPerCategory: 10, promotions: [{ id: 'black-friday', ...extra }] } });

  it('When a promotion boosts an item, Then it rises and carries the promotion reason', async () => {
    const shop = await buildShop(CAMERA_SHOP, ordersToEvents(orders), promo({ itemIds: ['lens-1'], boost: 10 }));
    const r = await shop.service.recommend({ intent: 'cross-sell', items: ['cam-1'], limit: 5 });
    expect(r.items[0]!.id).toBe('lens-1');
    expect(r.items[0]!.reasons).toContain('promotion:black-friday');
  });

  it('When a promotion is outside its date window, Then it has no effect, before and after', async () => {
    const shop = await buildShop(CAMERA_SHOP, ordersToEvents(orders), promo({
      itemIds: ['lens-1'], boost: 10, start: '2026-11-27T00:00:00Z', end: '2026-11-30T00:00:00Z',
    }));
    const before = await shop.service.recommend({ intent: 'cross-sell', items: ['cam-1'], limit: 5 });
    expect(before.items.flatMap((i) => i.reasons)).not.toContain('promotion:black-friday');
    shop.now.value = Date.parse('2026-11-28T12:00:00Z');
    const during = await shop.service.recommend({ intent: 'cross-sell', items: ['cam-1'], limit: 5 });
    expect(during.items[0]!.id).toBe('lens-1');
    shop.now.value = Date.parse('2026-11-30T00:00:01Z');
    const after = await shop.service.recommend({ intent: 'cross-sell', items: ['cam-1'], limit: 5 });
    expect(after.items.map((i) => i.reasons)).toEqual(before.items.map((i) => i.reasons));
  });

  it('When more items are promoted than the cap, Then at most the cap hold promoted slots', async () => {
    const shop = await buildShop(CAMERA_SHOP, ordersToEvents(orders), {
      rules: { maxPerCategory: 10, maxPromotedSlots: 2, promotions: [{ id: 'bags', categories: ['Camera Bags', 'Tripods', 'Lenses'], boost: 5 }] },
    });
    const r = await shop.service.recommend({ intent: 'cross-sell', items: ['cam-1'], limit: 10 });
    const promoted = r.items.filter((i) => i.reasons.includes('promotion:bags'));
    expect(promoted).toHaveLength(2);
    expect(r.items.length).toBeGreaterThan(2);
  });

  it('When an item is pinned, Then it comes first whatever its score', () => {
    const { catalog, items } = ranked(10, 10);
    const rules = parseConfig({ rules: { promotions: [{ id: 'pin', mode: 'pin', itemIds: ['i7'] }] } }).rules;
    const out = applyRules(items, { catalog, rules, intent: 'cross-sell', now: 0, limit: 5 });
    expect(out.items.map((i) => catalog.id(i.idx))).toEqual(['i7', 'i0', 'i1', 'i2', 'i3']);
  });
});

describe('diversity, exclusions and limit', () => {
  it.each([
    [1, 4],
    [2, 8],
    [3, 10],
  ])('When at most %i items per category are allowed, Then no category exceeds it', (max, expected) => {
    const { catalog, items } = ranked(40, 4);
    const rules = parseConfig({ rules: { maxPerCategory: max } }).rules;
    const out = applyRules(items, { catalog, rules, intent: 'cross-sell', now: 0, limit: 10 });
    expect(out.items).toHaveLength(expected);
    const perCat = new Map<number, number>();
    for (const it of out.items) perCat.set(catalog.categoryOf[it.idx]!, (perCat.get(catalog.categoryOf[it.idx]!) ?? 0) + 1);
    expect(Math.max(...perCat.values())).toBeLessThanOrEqual(max);
  });

  it('When items or categories are blocked, Then they never appear and the reason is recorded', () => {
    const { catalog, items } = ranked(10, 5);
    const rules = parseConfig({ rules: { blockedItems: ['i0'], blockedCategories: ['c1'], maxPerCategory: 10 } }).rules;
    const out = applyRules(items, { catalog, rules, intent: 'cross-sell', now: 0, limit: 10 });
    const got = out.items.map((i) => catalog.id(i.idx));
    expect(got).not.toContain('i0');
    expect(got.filter((id) => catalog.items[catalog.idx(id)!]!.category === 'c1')).toEqual([]);
    expect(out.filtered).toContainEqual({ idx: 0, id: 'i0', rule: 'blocked_item' });
    expect(out.filtered).toContainEqual({ idx: 1, id: 'i1', rule: 'blocked_category:c1' });
  });

  it('When the limit is 3, Then three items come back, best first', () => {
    const { catalog, items } = ranked(10, 10);
    const out = applyRules(items, { catalog, rules: parseConfig({}).rules, intent: 'up-sell', now: 0, limit: 3 });
    expect(out.items.map((i) => catalog.id(i.idx))).toEqual(['i0', 'i1', 'i2']);
  });
});

describe('over-fetching', () => {
  it('When the rules filter out most top candidates, Then a deeper candidate list fills the answer', async () => {
    const comps = Array.from({ length: 15 }, (_, k) => item(`comp-${k}`, `C${k}`, 10, { stock: k < 13 ? 0 : 5 }));
    const orders = [...comps.flatMap((c, k) => repeat(20 - k, ['cam-1', c.id])), ...repeat(300, ['mug-1', 'beans-1'])];
    const shop = await buildShop([...CAMERA_SHOP, ...comps], ordersToEvents(orders), { cache: { admitOnRepeat: false } });
    const r = await shop.service.recommend({ intent: 'cross-sell', items: ['cam-1'], limit: 2 });
    expect(ids(r)).toEqual(['comp-13', 'comp-14']);
    expect(r.filtered.filter((f) => f.rule === 'out_of_stock')).toHaveLength(13);
    // The next identical request starts from the deeper list (same answer, one pass).
    const hitsBefore = shop.service.cache.stats.memory.hits;
    expect(ids(await shop.service.recommend({ intent: 'cross-sell', items: ['cam-1'], limit: 2 }))).toEqual(['comp-13', 'comp-14']);
    expect(shop.service.cache.stats.memory.hits - hitsBefore).toBe(2);
  });
});

describe('over-fetching that cannot help', () => {
  it('When a deeper list would not add items (diversity), Then the service stops there and remembers it', async () => {
    const cards = Array.from({ length: 40 }, (_, k) => item(`mc-${k}`, 'Memory Cards', 20 + k));
    const orders = [...cards.flatMap((c, k) => repeat(3 + (k % 5), ['cam-1', c.id])), ...repeat(300, ['mug-1', 'beans-1'])];
    const shop = await buildShop([...CAMERA_SHOP, ...cards], ordersToEvents(orders), {
      rules: { maxPerCategory: 3 },
      cache: { admitOnRepeat: false },
    });
    const q = { intent: 'cross-sell' as const, items: ['cam-1'], limit: 10 };
    expect((await shop.service.recommend(q)).items).toHaveLength(3);
    expect(shop.service.cache.stats.memory.misses).toBe(2); // the 30-deep list, then one 120-deep try that added nothing
    const hits = shop.service.cache.stats.memory.hits;
    expect((await shop.service.recommend(q)).items).toHaveLength(3);
    expect(shop.service.cache.stats.memory.hits - hits).toBe(1);
    expect(shop.service.cache.stats.memory.misses).toBe(2);
  });
});
