import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shopSpec, writeShopFiles } from '../src/data/demo-files.js';
import { DEMO_CATEGORIES, DEMO_SHOP, NOISY_SHOP, generateShop, type ShopSpec } from '../src/data/demo-shop.js';
import { EVENT_PURCHASE, type EventColumns } from '../src/engine/events.js';

function fingerprint(ev: EventColumns, items: unknown): string {
  const h = createHash('sha256');
  for (const a of [ev.type, ev.user, ev.item, ev.order, ev.ts]) h.update(Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  return h.update(JSON.stringify(items)).digest('hex');
}

/** Orders as item lists, with the order's time. */
function orders(ev: EventColumns): { items: number[]; ts: number }[] {
  const out: { items: number[]; ts: number }[] = [];
  for (let i = 0; i < ev.length; i++) {
    if (ev.type[i] !== EVENT_PURCHASE) continue;
    const o = (out[ev.order[i]!] ??= { items: [], ts: ev.ts[i]! });
    o.items.push(ev.item[i]!);
  }
  return out;
}

const small: ShopSpec = { ...NOISY_SHOP, orders: 8000, users: 2000 };
const noisy = generateShop(small);
const noisyOrders = orders(noisy.events);
const share = (pred: (o: { items: number[] }) => boolean): number => noisyOrders.filter(pred).length / noisyOrders.length;

describe('the demo-shop generator', () => {
  it('When every noise knob is off, Then the demo shop is the shop it always was (pinned fingerprint)', () => {
    const demo = generateShop(DEMO_SHOP);
    expect(demo.events.length).toBe(325_566);
    expect(fingerprint(demo.events, demo.items)).toBe('9493af7162819b27317a1261dc852f3b85e753c6596a144ee6e9d59b2295929f');
    expect(demo.truth).toEqual({ planted: new Map(), impulse: [], generic: [] });
  });

  it('When the noisy shop is generated, Then it has 2,565 items (40 impulse, 25 add-ons) and 23,000 orders', () => {
    const shop = generateShop(NOISY_SHOP);
    expect(shop.items).toHaveLength(2565);
    expect(shop.events.orderCount).toBe(23_000);
    expect(shop.truth.impulse).toHaveLength(40);
    expect(shop.truth.generic).toHaveLength(25);
    expect(new Set(shop.truth.impulse.map((i) => shop.items[i]!.category))).toEqual(new Set(['Impulse Buys']));
    expect(new Set(shop.truth.generic.map((i) => shop.items[i]!.category))).toEqual(new Set(['Add-ons']));
    expect(fingerprint(generateShop(NOISY_SHOP).events, [])).toBe(fingerprint(shop.events, []));
  });

  it('When accessories are planted, Then every primary item has two, in stock, in two different complement categories of its own', () => {
    const primary = new Set(DEMO_CATEGORIES.filter((c) => c.primary).map((c) => c.name));
    const primaries = noisy.items.flatMap((it, i) => (primary.has(it.category) ? [i] : []));
    expect(primaries.length).toBeGreaterThan(300);
    expect([...noisy.truth.planted.keys()].sort((a, b) => a - b)).toEqual(primaries);
    for (const [p, acc] of noisy.truth.planted) {
      const spec = DEMO_CATEGORIES.find((c) => c.name === noisy.items[p]!.category)!;
      const cats = acc.map((a) => noisy.items[a]!.category);
      expect(cats[0]).not.toBe(cats[1]);
      for (const [k, a] of acc.entries()) {
        expect(spec.complements).toContain(cats[k]);
        expect(noisy.items[a]!.stock).toBeGreaterThan(0);
      }
    }
  });

  it('When a primary item anchors an order, Then each planted accessory joins it at about the planted rate (0.4)', () => {
    let anchored = 0;
    let joined = 0;
    for (const o of noisyOrders) {
      const acc = noisy.truth.planted.get(o.items[0]!);
      if (!acc) continue;
      anchored += 2;
      for (const a of acc) if (o.items.includes(a)) joined++;
    }
    expect(anchored).toBeGreaterThan(3000);
    // The rate, plus the few times an accessory is picked as an ordinary complement anyway.
    expect(joined / anchored).toBeGreaterThan(0.37);
    expect(joined / anchored).toBeLessThan(0.45);
  });

  it('When impulse items and add-ons ride along, Then they are in about 30% and 35% of orders, whatever the basket', () => {
    const impulse = new Set(noisy.truth.impulse);
    const generic = new Set(noisy.truth.generic);
    expect(share((o) => o.items.some((i) => impulse.has(i)))).toBeCloseTo(0.3, 1);
    expect(share((o) => o.items.some((i) => generic.has(i)))).toBeCloseTo(0.35, 1);
    // Add-ons are steeper: the first one alone rides in more orders than any impulse item.
    const count = (i: number): number => share((o) => o.items.includes(i));
    expect(count(noisy.truth.generic[0]!)).toBeGreaterThan(Math.max(...noisy.truth.impulse.map(count)));
  });

  it('When substitutes are co-bought, Then about 10% of orders hold two items of the anchor’s category', () => {
    const cat = (i: number): string => noisy.items[i]!.category;
    const s = share((o) => o.items.slice(1).some((i) => cat(i) === cat(o.items[0]!)));
    expect(s).toBeGreaterThan(0.07);
    expect(s).toBeLessThan(0.14);
    const clean = orders(generateShop({ ...small, noise: { ...small.noise, substituteRate: 0 } }).events);
    const cleanCat = (i: number): string => noisy.items[i]!.category;
    expect(clean.filter((o) => o.items.slice(1).some((i) => cleanCat(i) === cleanCat(o.items[0]!))).length / clean.length).toBeLessThan(0.03);
  });

  it('When demand is seasonal, Then a sector’s share of orders is higher where its cycle is high than where it is low', () => {
    // Sector 0 (computing) has the cycle sin(2πt / year), t in epoch milliseconds.
    const sector0 = new Set(DEMO_CATEGORIES.filter((c) => c.sector === 'computing').map((c) => c.name));
    const cycle = (t: number): number => Math.sin((2 * Math.PI * t) / (365 * 86_400_000));
    const shareAt = (keep: (c: number) => boolean): number => {
      const at = noisyOrders.filter((o) => keep(cycle(o.ts)));
      return at.filter((o) => sector0.has(noisy.items[o.items[0]!]!.category)).length / at.length;
    };
    expect(shareAt((c) => c > 0.5)).toBeGreaterThan(1.5 * shareAt((c) => c < -0.5));
  });

  it('When popularity drifts, Then the items bought sit further down each category’s initial ranking as time goes on', () => {
    /** Mean position (0 = most popular at the start, 1 = least) of the anchors bought in a slice of the window. */
    const meanRank = (shop: typeof noisy, from: number, to: number): number => {
      const rank = new Map<number, number>();
      for (const list of shop.byCategory) list.forEach((i, r) => rank.set(i, r / list.length));
      const os = orders(shop.events);
      const t0 = Math.min(...os.map((o) => o.ts));
      const span = Math.max(...os.map((o) => o.ts)) - t0;
      const anchors = os.filter((o) => (o.ts - t0) / span >= from && (o.ts - t0) / span < to).map((o) => rank.get(o.items[0]!)!);
      return anchors.reduce((x, y) => x + y, 0) / anchors.length;
    };
    expect(meanRank(noisy, 2 / 3, 1) - meanRank(noisy, 0, 1 / 3)).toBeGreaterThan(0.06);
    const steady = generateShop({ ...small, noise: { ...small.noise, drift: 0 } });
    expect(Math.abs(meanRank(steady, 2 / 3, 1) - meanRank(steady, 0, 1 / 3))).toBeLessThan(0.02);
  });

  it('When the shop is written as files, Then the ground truth beside it names the planted accessories and the noise items by id', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-shop-'));
    try {
      const spec = { ...small, orders: 500, users: 200 };
      const w = await writeShopFiles(dir, spec);
      expect(w.files.map((f) => f.slice(dir.length + 1))).toEqual(['catalog.jsonl', 'events.jsonl', 'ground-truth.json']);
      const truth = JSON.parse(await readFile(join(dir, 'ground-truth.json'), 'utf8')) as { planted: Record<string, string[]>; impulse: string[]; generic: string[]; spec: { seed: number } };
      const shop = generateShop(spec);
      expect(truth.spec.seed).toBe(1);
      expect(truth.impulse).toEqual(shop.truth.impulse.map((i) => shop.items[i]!.id));
      expect(truth.generic).toHaveLength(25);
      const [p, acc] = [...shop.truth.planted][0]!;
      expect(truth.planted[shop.items[p]!.id]).toEqual(acc.map((a) => shop.items[a]!.id));
      const catalog = (await readFile(join(dir, 'catalog.jsonl'), 'utf8')).trim().split('\n');
      expect(catalog).toHaveLength(2565);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('When a preset or seed is asked for by name, Then unknown names and bad seeds are refused', () => {
    expect(shopSpec('noisy', 3).seed).toBe(3);
    expect(shopSpec('demo')).toBe(DEMO_SHOP);
    expect(() => shopSpec('tiny')).toThrow(/unknown shop 'tiny'/);
    expect(() => shopSpec('noisy', 1.5)).toThrow(/'--seed' \(1.5\)/);
  });
});
