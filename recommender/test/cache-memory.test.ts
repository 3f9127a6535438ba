import { describe, expect, it } from 'vitest';
import { MemoryTier } from '../src/cache/memory.js';
import type { Scored } from '../src/engine/score.js';
import type { ServingModel } from '../src/engine/serving.js';
import { OnlineState } from '../src/engine/online.js';
import { at, buildShop, CAMERA_SHOP, ids, ordersToEvents, repeat } from './fixtures.js';

const weigh = (s: Scored): number => s.candidates.length;
const orders = [...repeat(6, ['cam-1', 'card-1']), ...repeat(4, ['cam-1', 'tri-1']), ...repeat(4, ['mug-1', 'beans-1'])];

describe('the in-process candidate cache', () => {
  it('When a request repeats, Then it is served from the cache and a stock change still applies', async () => {
    const shop = await buildShop(CAMERA_SHOP, ordersToEvents(orders), { cache: { admitOnRepeat: false } });
    const q = { intent: 'cross-sell' as const, items: ['cam-1'], limit: 5 };
    const first = await shop.service.recommend(q);
    const second = await shop.service.recommend(q);
    expect(shop.service.cache.stats.memory.hits).toBe(1);
    expect(ids(second)).toEqual(ids(first));
    shop.service.patchInventory({ 'card-1': 0 });
    const third = await shop.service.recommend(q);
    expect(shop.service.cache.stats.memory.hits).toBe(2);
    expect(ids(third)).not.toContain('card-1');
  });

  it('When a request comes a second time, Then only then is its list stored, and one-off requests evict nothing', async () => {
    const shop = await buildShop(CAMERA_SHOP, ordersToEvents(orders), { cache: { maxEntries: 2 } });
    const q = { intent: 'cross-sell' as const, items: ['cam-1'], limit: 5 };
    await shop.service.recommend(q);
    expect(shop.service.cache.memory.size).toBe(0);
    await shop.service.recommend(q);
    expect(shop.service.cache.memory.size).toBe(1);
    for (let limit = 6; limit <= 100; limit++) await shop.service.recommend({ ...q, limit }); // each its own depth, so its own key
    expect(shop.service.cache.memory.size).toBe(1);
    const hits = shop.service.cache.stats.memory.hits;
    expect(ids(await shop.service.recommend(q))).toContain('card-1');
    expect(shop.service.cache.stats.memory.hits).toBe(hits + 1);
  });

  it('By default, When an online purchase arrives, Then the cached list keeps serving (an event shows within maxStaleMs, not on the next request)', async () => {
    const shop = await buildShop(CAMERA_SHOP, ordersToEvents(orders), { cache: { admitOnRepeat: false } });
    expect(shop.config.cache.maxStaleMs).toBe(5000);
    const q = { intent: 'cross-sell' as const, items: ['cam-1'], limit: 5 };
    await shop.service.recommend(q);
    shop.service.ingestEvents([{ type: 'purchase', userId: 'x', itemId: 'lens-1', orderId: 'z', timestamp: at(900) }]);
    await shop.service.recommend(q);
    expect(shop.service.cache.stats.memory.hits).toBe(1);
  });

  it('When maxStaleMs is 0 and an online purchase or a catalogue change arrives, Then the cached list is recomputed at once', async () => {
    const shop = await buildShop(CAMERA_SHOP, ordersToEvents(orders), { cache: { admitOnRepeat: false, maxStaleMs: 0 } });
    const q = { intent: 'cross-sell' as const, items: ['cam-1'], limit: 5 };
    await shop.service.recommend(q);
    shop.service.ingestEvents([{ type: 'purchase', userId: 'x', itemId: 'lens-1', orderId: 'z', timestamp: at(900) }]);
    await shop.service.recommend(q);
    expect(shop.service.cache.stats.memory.hits).toBe(0);
    await shop.service.recommend(q);
    expect(shop.service.cache.stats.memory.hits).toBe(1);
    shop.service.upsertItems([{ ...CAMERA_SHOP.find((i) => i.id === 'tri-1')!, category: 'Cameras' }]);
    const r = await shop.service.recommend(q);
    expect(shop.service.cache.stats.memory.hits).toBe(1);
    expect(ids(r)).not.toContain('tri-1'); // now a camera: a substitute, not a complement
  });

  it('When a basket comes in another order, with repeats or unknown items, or for a shopper the model does not know, Then it shares one cached list', async () => {
    const shop = await buildShop(CAMERA_SHOP, ordersToEvents(orders), { cache: { admitOnRepeat: false } });
    const first = await shop.service.recommend({ intent: 'cross-sell', items: ['cam-1', 'tri-1'], limit: 5 });
    for (const items of [['tri-1', 'cam-1'], ['cam-1', 'tri-1', 'cam-1'], ['ghost', 'tri-1', 'cam-1']]) {
      expect(ids(await shop.service.recommend({ intent: 'cross-sell', items, user: 'stranger', limit: 5 }))).toEqual(ids(first));
    }
    expect(shop.service.cache.stats.memory.hits).toBe(3);
    await shop.service.recommend({ intent: 'cross-sell', items: ['cam-1', 'tri-1'], user: 'u0', limit: 5 }); // u0 bought cam-1 and card-1
    expect(shop.service.cache.stats.memory.hits).toBe(3);
  });

  it('When entries may lag online updates, Then they are reused until maxStaleMs passes', () => {
    let now = 0;
    const cache = new MemoryTier<Scored>({ ttlSeconds: 300, maxEntries: 2, maxCandidates: 100, admitOnRepeat: false, maxStaleMs: 1000 }, weigh, () => now);
    const model = { version: 'v1', online: new OnlineState() } as unknown as ServingModel;
    cache.set('a', model, 0, { candidates: [{ idx: 1, score: 1, reasons: [] }], notes: [] });
    model.online.addPurchase('o', 3);
    now = 999;
    expect(cache.get('a', model, 0)?.candidates[0]!.idx).toBe(1);
    now = 1000;
    expect(cache.get('a', model, 0)).toBeUndefined();
  });

  it('When more keys than maxEntries are stored, Then the least recently used goes', () => {
    const cache = new MemoryTier<Scored>({ ttlSeconds: 300, maxEntries: 2, maxCandidates: 100, admitOnRepeat: false, maxStaleMs: 0 }, weigh);
    const model = { version: 'v1', online: new OnlineState() } as unknown as ServingModel;
    cache.set('a', model, 0, { candidates: [], notes: [] });
    cache.set('b', model, 0, { candidates: [], notes: [] });
    cache.get('a', model, 0);
    cache.set('c', model, 0, { candidates: [], notes: [] });
    expect(cache.get('b', model, 0)).toBeUndefined();
    expect(cache.get('a', model, 0)).toBeDefined();
    expect(cache.size).toBe(2);
  });

  it('When the entries hold more candidates than maxCandidates, Then the least recently used go until they fit', () => {
    const cache = new MemoryTier<Scored>({ ttlSeconds: 300, maxEntries: 100, maxCandidates: 10, admitOnRepeat: false, maxStaleMs: 0 }, weigh);
    const model = { version: 'v1', online: new OnlineState() } as unknown as ServingModel;
    const list = (n: number) => ({ candidates: Array.from({ length: n }, (_, idx) => ({ idx, score: 1, reasons: [] })), notes: [] });
    cache.set('a', model, 0, list(4));
    cache.set('b', model, 0, list(4));
    cache.get('a', model, 0);
    cache.set('c', model, 0, list(4));
    expect(cache.get('b', model, 0)).toBeUndefined();
    expect(cache.get('a', model, 0)).toBeDefined();
    expect(cache.weight).toBe(8);
    cache.set('a', model, 0, list(1)); // replacing an entry releases its old weight
    expect(cache.weight).toBe(5);
    cache.set('d', model, 0, list(10));
    expect([cache.size, cache.weight]).toEqual([1, 10]);
  });
});
