import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { DEMO_SHOP, generateShop } from '../src/data/demo-shop.js';
import { EVENT_PURCHASE } from '../src/engine/events.js';
import { evaluateSplit, temporalSplit } from '../src/evaluate-core.js';

describe('offline evaluation on the demo shop', () => {
  const cfg = parseConfig({});
  const shop = generateShop(DEMO_SHOP);

  it('When the demo shop is generated twice, Then it is identical (deterministic)', () => {
    const again = generateShop(DEMO_SHOP);
    expect(again.events.length).toBe(shop.events.length);
    expect(Buffer.from(again.events.item.buffer).equals(Buffer.from(shop.events.item.buffer))).toBe(true);
    expect(again.items[17]).toEqual(shop.items[17]);
    expect(shop.items).toHaveLength(3000);
    expect(shop.events.orderCount).toBe(30_000);
  });

  it('When each shopper’s last order is held out, Then its purchases leave the training events', () => {
    const split = temporalSplit(shop.events, cfg.engine.sessionGapMinutes);
    expect(split.queries.length).toBeGreaterThan(1000);
    expect(split.train.length).toBeLessThan(shop.events.length);
    let trainPurchases = 0;
    for (let i = 0; i < split.train.length; i++) if (split.train.type[i] === EVENT_PURCHASE) trainPurchases++;
    let allPurchases = 0;
    for (let i = 0; i < shop.events.length; i++) if (shop.events.type[i] === EVENT_PURCHASE) allPurchases++;
    expect(allPurchases - trainPurchases).toBeGreaterThanOrEqual(split.queries.length * 2);
  });

  it('When cross-sell is compared to popularity, Then its HR@10 is at least twice popularity’s', () => {
    const split = temporalSplit(shop.events, cfg.engine.sessionGapMinutes);
    const e = evaluateSplit(shop.catalog, split, cfg.engine);
    expect(e.crossSell.hr10).toBeGreaterThanOrEqual(2 * e.popularity.hr10);
    expect(e.crossSell.ndcg10).toBeGreaterThan(e.popularity.ndcg10);
    expect(e.crossSell.coverage).toBeGreaterThan(e.popularity.coverage);
  });
});
