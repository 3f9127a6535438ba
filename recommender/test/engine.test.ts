import { describe, expect, it } from 'vitest';
import { buildShop, CAMERA_SHOP, ids, item, ordersToEvents, repeat, at, trainModel } from './fixtures.js';
import { parseConfig } from '../src/config.js';
import { poissonKl } from '../src/engine/complements.js';
import { crossSell, reasonsOf, type Why } from '../src/engine/score.js';
import { Baselines } from '../src/evaluate-baselines.js';
import type { ShopEvent } from '../src/schemas.js';

const NO_RULE_LIMITS = { rules: { maxPerCategory: 10 } };

const cameraOrders = [
  ...repeat(8, ['cam-1', 'card-1']),
  ...repeat(4, ['cam-1', 'tri-1']),
  ...repeat(6, ['cam-1', 'cam-2']), // bought together often, but a substitute
  ...repeat(5, ['lens-1', 'bag-1']),
  ...repeat(3, ['card-1', 'bag-2']),
  ...repeat(10, ['mug-1', 'beans-1']),
  ['cam-6', 'mug-1'],
];

describe('cross-sell', () => {
  it('When a camera is in the basket, Then its complements rank first and other cameras never appear', async () => {
    const shop = await buildShop(CAMERA_SHOP, ordersToEvents(cameraOrders), NO_RULE_LIMITS);
    const r = await shop.service.recommend({ intent: 'cross-sell', items: ['cam-1'], limit: 5 });
    expect(ids(r).slice(0, 2).sort()).toEqual(['card-1', 'tri-1']);
    expect(ids(r).some((id) => id.startsWith('cam-'))).toBe(false);
    expect(r.items[0]!.reasons[0]).toMatch(/^bought_together:cam-1 with=\d+(\.\d+)?% with_similar=\d+(\.\d+)?% base=\d+(\.\d+)?%$/);
  });

  it('When a rare item was bought once with the camera, Then it ranks below a pair seen many times, though its lift is higher', async () => {
    const orders = [...cameraOrders, ['cam-1', 'bag-3']];
    const shop = await buildShop(CAMERA_SHOP, ordersToEvents(orders), NO_RULE_LIMITS);
    const r = await shop.service.recommend({ intent: 'cross-sell', items: ['cam-1'], limit: 5 });
    expect(ids(r)).toContain('bag-3');
    expect(ids(r).indexOf('card-1')).toBeLessThan(ids(r).indexOf('bag-3'));
    // Plain lift c_ab·N/(c_a·c_b) puts the one-off first: the ranking above is the score's doing.
    const idx = (id: string): number => CAMERA_SHOP.findIndex((i) => i.id === id);
    const lift = new Baselines(orders.map((o) => o.map(idx)), CAMERA_SHOP.length);
    expect(lift.score('lift', idx('cam-1'), idx('bag-3'))).toBeGreaterThan(lift.score('lift', idx('cam-1'), idx('card-1'))!);
  });

  it('When a list is scored, Then each reason shows the rates its score is made of: D(with‖base) + λ·(with_similar − base)', async () => {
    const shop = await buildShop(CAMERA_SHOP, ordersToEvents([...cameraOrders, ['cam-1', 'bag-3']]), NO_RULE_LIMITS);
    const model = shop.store.active!;
    const cfg = shop.config.engine;
    const cam = shop.catalog.idx('cam-1')!;
    const list = crossSell({ catalog: shop.catalog, model, cfg }, [cam], new Set(), 10);
    expect(list.length).toBeGreaterThanOrEqual(3);
    for (const c of list) {
      const w = c.why as Extract<Why, { kind: 'together' }>;
      expect(w.src).toEqual([cam]);
      // No significance floor by default, so the own term always counts.
      const d = poissonKl(w.own[0]!, w.base[0]!);
      expect(c.score).toBeCloseTo(d + cfg.neighbourWeight * (w.blend[0]! - w.base[0]!), 6);
      const shown = reasonsOf(c, shop.catalog)[0]!.match(/with=([\d.]+)% with_similar=([\d.]+)% base=([\d.]+)%/)!.slice(1).map(Number);
      [w.own[0]!, w.blend[0]!, w.base[0]!].forEach((x, k) => expect(shown[k]).toBeCloseTo(Number((x * 100).toPrecision(2)), 10));
    }
  });

  it('When an add-on rides along with everything, Then it ranks far below a true complement, and a significance floor drops it', async () => {
    // The add-on is in 11 of 20 camera orders and 9 of 20 mug orders: 50% overall, a hair above that with cameras.
    const orders = [
      ...Array.from({ length: 20 }, (_, k) => (k < 11 ? ['cam-1', 'card-1', 'bag-1'] : ['cam-1', 'card-1'])),
      ...Array.from({ length: 20 }, (_, k) => (k < 9 ? ['mug-1', 'beans-1', 'bag-1'] : ['mug-1', 'beans-1'])),
    ];
    const items = CAMERA_SHOP.map((i) => (i.id === 'bag-1' ? { ...i, category: 'Add-ons' } : i));
    const loose = await buildShop(items, ordersToEvents(orders), NO_RULE_LIMITS);
    const r = await loose.service.recommend({ intent: 'cross-sell', items: ['cam-1'], limit: 5 });
    expect(ids(r)).toEqual(['card-1', 'bag-1']);
    expect(r.items[1]!.score).toBeLessThan(r.items[0]!.score / 5);
    const strict = await buildShop(items, ordersToEvents(orders), { ...NO_RULE_LIMITS, engine: { minSignificance: 2 } });
    expect(ids(await strict.service.recommend({ intent: 'cross-sell', items: ['cam-1'], limit: 5 }))).toEqual(['card-1']);
  });

  it('When the basket holds several items, Then scores aggregate over them and basket items are excluded', async () => {
    const shop = await buildShop(CAMERA_SHOP, ordersToEvents(cameraOrders), NO_RULE_LIMITS);
    const r = await shop.service.recommend({ intent: 'cross-sell', items: ['cam-1', 'card-1'], limit: 10 });
    expect(ids(r)).not.toContain('card-1');
    expect(ids(r)).not.toContain('card-2');
    // bag-2 only goes with card-1, tri-1 only with cam-1: both appear in the aggregated answer.
    expect(ids(r)).toEqual(expect.arrayContaining(['tri-1', 'bag-2']));
  });

  it('When a basket names an item twice, Then it counts once', async () => {
    const shop = await buildShop(CAMERA_SHOP, ordersToEvents(cameraOrders), NO_RULE_LIMITS);
    const once = await shop.service.recommend({ intent: 'cross-sell', items: ['cam-1'], limit: 5 });
    const twice = await shop.service.recommend({ intent: 'cross-sell', items: ['cam-1', 'cam-1'], limit: 5 });
    expect(twice.items).toEqual(once.items);
  });

  it('When the item is unknown, Then the answer is empty with a reason', async () => {
    const shop = await buildShop(CAMERA_SHOP, ordersToEvents(cameraOrders));
    const r = await shop.service.recommend({ intent: 'cross-sell', items: ['nope'], limit: 5 });
    expect(r.items).toEqual([]);
    expect(r.reasons).toEqual(['unknown_item:nope']);
  });

  it('When an item has no history, Then it borrows the complements of its content-nearest item (cold start)', async () => {
    const shop = await buildShop(CAMERA_SHOP, ordersToEvents(cameraOrders), NO_RULE_LIMITS);
    shop.service.upsertItems([{ id: 'cam-new', title: 'new', category: 'Cameras', price: 510, currency: 'EUR', stock: 5, brand: 'Kanon', attributes: { mount: 'rf' } }]);
    const r = await shop.service.recommend({ intent: 'cross-sell', items: ['cam-new'], limit: 5 });
    expect(ids(r)).toContain('card-1');
    expect(r.items[0]!.reasons[0]).toMatch(/^cold_start:similar_to:cam-/);
  });

  it('When purchases are posted online, Then a new pattern appears without a retrain', async () => {
    const shop = await buildShop(CAMERA_SHOP, ordersToEvents(cameraOrders), NO_RULE_LIMITS);
    const before = await shop.service.recommend({ intent: 'cross-sell', items: ['lens-1'], limit: 5 });
    expect(ids(before)).not.toContain('card-2');
    const events: ShopEvent[] = [];
    for (let k = 0; k < 6; k++) {
      events.push({ type: 'purchase', userId: 'x', itemId: 'lens-1', orderId: `live-${k}`, timestamp: at(1000 + k) });
      events.push({ type: 'purchase', userId: 'x', itemId: 'card-2', orderId: `live-${k}`, timestamp: at(1000 + k) });
    }
    expect(shop.service.ingestEvents(events)).toEqual({ accepted: 12, rejected: 0, errors: [] });
    const after = await shop.service.recommend({ intent: 'cross-sell', items: ['lens-1'], limit: 5 });
    expect(ids(after)[0]).toBe('card-2');
  });

  it('When an item was never bought with a complement but its substitutes were, Then it borrows it from them (with_similar)', async () => {
    // cam-1 and cam-2 are viewed together (substitutes; other sessions view the lens alone). Only cam-1 was bought with
    // the tripod; cam-2 (warm: 4 orders) only with a bag.
    const views: ShopEvent[] = [];
    for (let k = 0; k < 6; k++) {
      for (const id of ['cam-1', 'cam-2']) views.push({ type: 'view', userId: `v${k}`, itemId: id, timestamp: at(200 + k) });
      views.push({ type: 'view', userId: `w${k}`, itemId: 'lens-1', timestamp: at(200 + k) });
    }
    const orders = [...repeat(6, ['cam-1', 'tri-1']), ...repeat(4, ['cam-2', 'bag-2']), ...repeat(4, ['mug-1', 'beans-1'])];
    const events = [...ordersToEvents(orders), ...views];
    const shop = await buildShop(CAMERA_SHOP, events, NO_RULE_LIMITS);
    const r = await shop.service.recommend({ intent: 'cross-sell', items: ['cam-2'], limit: 5 });
    expect(ids(r).slice(0, 2)).toEqual(['bag-2', 'tri-1']);
    expect(r.items[1]!.reasons[0]).toMatch(/^bought_together:cam-2 with=\d/);
    const alone = await buildShop(CAMERA_SHOP, events, { ...NO_RULE_LIMITS, engine: { neighbours: 0 } });
    expect(ids(await alone.service.recommend({ intent: 'cross-sell', items: ['cam-2'], limit: 5 }))).toEqual(['bag-2']);
  });
});

describe('up-sell', () => {
  const views: ShopEvent[] = [];
  for (let k = 0; k < 5; k++) {
    for (const id of ['cam-1', 'cam-2', 'cam-3', 'cam-4', 'cam-5', 'cam-6']) {
      views.push({ type: 'view', userId: `v${k}`, itemId: id, timestamp: at(100 + k) });
    }
  }

  it('When asking for alternatives, Then every item is pricier within the band and in stock', async () => {
    const shop = await buildShop(CAMERA_SHOP, [...ordersToEvents(cameraOrders), ...views], NO_RULE_LIMITS);
    const r = await shop.service.recommend({ intent: 'up-sell', items: ['cam-1'], limit: 10 });
    expect(ids(r)).toEqual(expect.arrayContaining(['cam-2', 'cam-6']));
    for (const it of r.items) {
      const idx = shop.catalog.idx(it.id)!;
      expect(shop.catalog.price(idx)).toBeGreaterThanOrEqual(500 * 1.05);
      expect(shop.catalog.price(idx)).toBeLessThanOrEqual(500 * 1.6);
      expect(shop.catalog.stock(idx)).toBeGreaterThan(0);
    }
    expect(ids(r)).not.toContain('cam-3'); // out of stock
    expect(ids(r)).not.toContain('cam-4'); // cheaper
    expect(ids(r)).not.toContain('cam-5'); // above the band
    expect(r.items[0]!.reasons.some((x) => x.startsWith('price:+'))).toBe(true);
  });

  it('When the band is configured wider, Then a pricier alternative qualifies', async () => {
    const shop = await buildShop(CAMERA_SHOP, [...ordersToEvents(cameraOrders), ...views], {
      engine: { upsellBand: { min: 1.05, max: 2.5 } },
      ...NO_RULE_LIMITS,
    });
    const r = await shop.service.recommend({ intent: 'up-sell', items: ['cam-1'], limit: 10 });
    expect(ids(r)).toContain('cam-5');
  });

  it('When up-sell alternatives share a category, Then the diversity cap does not apply to them', async () => {
    const shop = await buildShop(CAMERA_SHOP, [...ordersToEvents(cameraOrders), ...views], { rules: { maxPerCategory: 1 } });
    expect((await shop.service.recommend({ intent: 'up-sell', items: ['cam-1'], limit: 10 })).items.length).toBeGreaterThanOrEqual(2);
    const capped = await buildShop(CAMERA_SHOP, [...ordersToEvents(cameraOrders), ...views], {
      rules: { maxPerCategory: 1, diversityIntents: ['up-sell'] },
    });
    expect((await capped.service.recommend({ intent: 'up-sell', items: ['cam-1'], limit: 10 })).items).toHaveLength(1);
  });

  it('When two alternatives differ only in brand and mount, Then the same brand and mount ranks higher', async () => {
    const shop = await buildShop(CAMERA_SHOP, ordersToEvents(cameraOrders), NO_RULE_LIMITS);
    const r = await shop.service.recommend({ intent: 'up-sell', items: ['cam-1'], limit: 10 });
    expect(ids(r).indexOf('cam-2')).toBeLessThan(ids(r).indexOf('cam-6'));
  });
});

describe('personal', () => {
  const history: ShopEvent[] = [
    { type: 'purchase', userId: 'alice', itemId: 'cam-1', orderId: 'a1', timestamp: at(500) },
    { type: 'view', userId: 'alice', itemId: 'lens-1', timestamp: at(501) },
  ];
  // Other shoppers who bought cam-1 also bought card-1; mug buyers bought beans.
  const others: ShopEvent[] = ordersToEvents(cameraOrders);

  it('When a shopper has a history, Then similar items come first and what they bought is excluded', async () => {
    const shop = await buildShop(CAMERA_SHOP, [...others, ...history], NO_RULE_LIMITS);
    const r = await shop.service.recommend({ intent: 'personal', items: [], user: 'alice', limit: 5 });
    expect(ids(r)).not.toContain('cam-1');
    expect(r.items[0]!.reasons[0]).toMatch(/^similar_to:/);
    expect(ids(r).slice(0, 3)).not.toContain('mug-1');
  });

  it('When purchases weigh more than views, Then the bought item’s neighbours outrank the viewed item’s', async () => {
    const shop = await buildShop(CAMERA_SHOP, [...others, ...history], NO_RULE_LIMITS);
    const r = await shop.service.recommend({ intent: 'personal', items: [], user: 'alice', limit: 10 });
    // card-1 is a neighbour of cam-1 (bought); bag-1 of lens-1 (only viewed).
    expect(ids(r).indexOf('card-1')).toBeLessThan(ids(r).indexOf('bag-1'));
  });

  it('When the shopper only viewed a brand-new item, Then its content-nearest items stand in (cold start)', async () => {
    const shop = await buildShop(CAMERA_SHOP, others, NO_RULE_LIMITS);
    shop.service.upsertItems([{ id: 'cam-new', title: 'new', category: 'Cameras', price: 505, currency: 'EUR', stock: 5, brand: 'Kanon', attributes: { mount: 'rf' } }]);
    shop.service.ingestEvents([{ type: 'view', userId: 'bob', itemId: 'cam-new', timestamp: at(700) }]);
    const r = await shop.service.recommend({ intent: 'personal', items: [], user: 'bob', limit: 5 });
    expect(ids(r)).toContain('card-1');
    expect(r.items.find((i) => i.id === 'card-1')!.reasons[0]).toMatch(/^cold_start:similar_to:cam-new via:cam-\d sim=/);
    expect(r.reasons ?? []).not.toContain('fallback:popularity unknown_user');
  });

  it('When an add-on is in every order, Then it is no item-kNN neighbour, though the plain dot product ranks it first', () => {
    // Ten camera shoppers (six also took a card), ten mug shoppers; every one of them took the gift wrap.
    const items = [...CAMERA_SHOP, item('wrap-1', 'Add-ons', 2)];
    const orders = [...repeat(6, ['cam-1', 'card-1', 'wrap-1']), ...repeat(4, ['cam-1', 'wrap-1']), ...repeat(10, ['mug-1', 'beans-1', 'wrap-1'])];
    const neighbours = (knnChance: number): string[] => {
      const data = trainModel(items, ordersToEvents(orders), parseConfig({ engine: { knnChance } }));
      const a = data.arrays;
      const cam = items.findIndex((i) => i.id === 'cam-1');
      return [...a.knnNbr.subarray(a.knnOff[cam]!, a.knnOff[cam + 1]!)].map((b) => items[b]!.id);
    };
    expect(neighbours(0)).toEqual(['wrap-1', 'card-1']);
    // a·b − φ·E[a·b]: the wrap is with the camera as often as chance has it, the card far more often.
    expect(neighbours(parseConfig({}).engine.knnChance)).toEqual(['card-1']);
  });

  it('When the shopper is unknown, Then popular items stand in, with a reason', async () => {
    const shop = await buildShop(CAMERA_SHOP, others);
    const r = await shop.service.recommend({ intent: 'personal', items: [], user: 'stranger', limit: 3 });
    expect(r.items).toHaveLength(3);
    expect(r.items.every((i) => i.reasons.includes('popular'))).toBe(true);
    expect(r.reasons).toContain('fallback:popularity unknown_user');
  });
});

describe('catalogue', () => {
  it('When items are added or repriced after the price lists are built, Then up-sell sees the change at once', async () => {
    const shop = await buildShop(CAMERA_SHOP, ordersToEvents(cameraOrders), NO_RULE_LIMITS);
    expect(ids(await shop.service.recommend({ intent: 'up-sell', items: ['cam-1'], limit: 10 }))).not.toContain('cam-5');
    shop.service.upsertItems([
      { ...CAMERA_SHOP.find((i) => i.id === 'cam-5')!, price: 600 },
      { id: 'cam-7', title: 'cam-7', category: 'Cameras', price: 700, currency: 'EUR', stock: 3, attributes: {} },
      { ...CAMERA_SHOP.find((i) => i.id === 'cam-2')!, price: 300 },
    ]);
    const r = ids(await shop.service.recommend({ intent: 'up-sell', items: ['cam-1'], limit: 10 }));
    expect(r).toEqual(expect.arrayContaining(['cam-5', 'cam-7']));
    expect(r).not.toContain('cam-2');
    const list = shop.catalog.itemsOfCategory(shop.catalog.categoryIdx('Cameras')!).map((i) => shop.catalog.price(i));
    expect(list).toEqual([...list].sort((a, b) => a - b));
  });
});
