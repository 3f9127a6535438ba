import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config.js';
import { readJsonl } from '../src/data/jsonl.js';
import { CatalogItem } from '../src/schemas.js';
import { at, buildShop, CAMERA_SHOP, item, ordersToEvents, repeat } from './fixtures.js';

const orders = [...repeat(5, ['cam-1', 'card-1']), ...repeat(5, ['mug-1', 'beans-1'])];

describe('catalogue upserts', () => {
  it('When a batch mixes good and bad items, Then good ones are kept and each bad one names its index and field', async () => {
    const shop = await buildShop(CAMERA_SHOP, ordersToEvents(orders));
    const r = shop.service.upsertItems([
      item('new-1', 'Mugs', 12),
      { ...item('new-2', 'Mugs', 12), price: -1 },
      { ...item('new-3', 'Mugs', 12), currency: 'euro' },
      item('cam-1', 'Cameras', 520),
      { id: 'new-4' },
    ]);
    expect(r.accepted).toBe(2);
    expect(r.rejected).toBe(3);
    expect(r.errors).toContainEqual(expect.objectContaining({ index: 1, field: '/price' }));
    expect(r.errors).toContainEqual(expect.objectContaining({ index: 2, field: '/currency' }));
    expect(r.errors).toContainEqual(expect.objectContaining({ index: 4, field: '/title' }));
    expect(shop.catalog.idx('new-1')).toBeDefined();
    expect(shop.catalog.idx('new-2')).toBeUndefined();
    expect(shop.catalog.price(shop.catalog.idx('cam-1')!)).toBe(520);
  });
});

describe('inventory', () => {
  it('When a patch names an unknown item or a bad stock, Then only the valid entries apply', async () => {
    const shop = await buildShop(CAMERA_SHOP, ordersToEvents(orders));
    const r = shop.service.patchInventory({ 'card-1': 7, nope: 3, 'mug-1': -2, 'beans-1': 1.5 });
    expect(r).toEqual({
      accepted: 1,
      rejected: 3,
      errors: [
        { index: 1, field: '/nope', message: "unknown item 'nope'" },
        { index: 2, field: '/mug-1', message: 'Expected integer stock ≥ 0' },
        { index: 3, field: '/beans-1', message: 'Expected integer stock ≥ 0' },
      ],
    });
    expect(shop.catalog.stock(shop.catalog.idx('card-1')!)).toBe(7);
    expect(shop.catalog.stock(shop.catalog.idx('mug-1')!)).toBe(10);
  });
});

describe('events', () => {
  it('When an event is invalid, Then it is rejected whole and changes nothing', async () => {
    const shop = await buildShop(CAMERA_SHOP, ordersToEvents(orders));
    const before = shop.store.active!.online.generation;
    const r = shop.service.ingestEvents([
      { type: 'purchase', userId: 'x', itemId: 'lens-1', orderId: 'o-x', timestamp: at(900) },
      { type: 'purchase', userId: 'x', itemId: 'nope', orderId: 'o-x', timestamp: at(900) },
      { type: 'refund', userId: 'x', itemId: 'lens-1', timestamp: at(900) },
      { type: 'view', userId: 'x', itemId: 'lens-1', timestamp: 'yesterday' },
    ]);
    expect(r.accepted).toBe(1);
    expect(r.rejected).toBe(3);
    expect(r.errors).toContainEqual(expect.objectContaining({ index: 1, field: '/itemId', message: "unknown item 'nope'" }));
    expect(r.errors).toContainEqual(expect.objectContaining({ index: 2, field: '/type' }));
    expect(r.errors).toContainEqual(expect.objectContaining({ index: 3, field: '/timestamp' }));
    const online = shop.store.active!.online;
    expect(online.generation).toBe(before + 2); // one purchase: the pair counts and the history
    expect(online.baskets).toBe(1);
    expect(online.pairs.size).toBe(0); // the second item of o-x was rejected: no half-applied pair
  });
});

describe('JSON Lines', () => {
  it('When a file has bad lines, Then good records are read and errors name the line and field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-jsonl-'));
    const path = join(dir, 'catalog.jsonl');
    await writeFile(
      path,
      [JSON.stringify(item('a', 'Mugs', 5)), '{not json', '', JSON.stringify({ ...item('b', 'Mugs', 5), stock: 'many' }), JSON.stringify(item('c', 'Mugs', 6))].join('\n'),
    );
    const r = await readJsonl(path, CatalogItem);
    expect(r.records.map((x) => x.id)).toEqual(['a', 'c']);
    expect(r.errors).toHaveLength(2);
    expect(r.errors[0]).toMatchObject({ line: 2, field: '/' });
    expect(r.errors[0]!.message).toMatch(/^invalid JSON/);
    expect(r.errors[1]).toMatchObject({ line: 4, field: '/stock' });
    await rm(dir, { recursive: true, force: true });
  });
});

describe('config', () => {
  it('When the config is empty, Then every default is filled', () => {
    const c = parseConfig({});
    expect(c.engine.upsellBand).toEqual({ min: 1.05, max: 1.6 });
    expect(c.engine.eventWeights).toEqual({ view: 1, add_to_cart: 3, purchase: 5 });
    expect(c.rules.maxPerCategory).toBe(3);
  });

  it.each([
    [{ engine: { topK: 0 } }, "'/engine/topK'"],
    [{ engine: { upsellBand: { min: 1.5, max: 1.2 } } }, "'engine.upsellBand.min' (1.5) must be ≤ 'engine.upsellBand.max' (1.2)"],
    [{ rules: { promotions: [{ id: 'p', start: '2026-12-01T00:00:00Z', end: '2026-11-01T00:00:00Z' }] } }, "promotion 'p' 'start'"],
    [{ engine: { surprise: 1 } }, "'/engine/surprise'"],
  ])('When the config is %j, Then startup fails naming the field', (input, message) => {
    expect(() => parseConfig(input)).toThrow(ConfigError);
    expect(() => parseConfig(input)).toThrow(message);
  });
});
