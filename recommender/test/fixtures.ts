/** Small hand-built shops where the right answer is known, and test helpers. */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { parseConfig, type TandemConfig } from '../src/config.js';
import { Catalog } from '../src/engine/catalog.js';
import { EventColumnsBuilder } from '../src/engine/events.js';
import type { ModelData } from '../src/engine/model.js';
import type { DecisionInputs } from '../src/audit/decision.js';
import { train } from '../src/engine/train.js';
import { privatiseEvents } from '../src/privacy/events.js';
import { DEMO_HMAC_KEY } from '../src/privacy/privacy.js';
import { Pseudonymiser } from '../src/privacy/pseudonym.js';
import { MemorySubjectSet } from '../src/privacy/subject-set.js';
import { ModelStore } from '../src/model/store.js';
import type { CatalogItem, ShopEvent } from '../src/schemas.js';
import { RecommenderService, type ServiceDeps } from '../src/service.js';

export const silent = pino({ level: 'silent' });

/** A logger whose JSON lines are kept, to check what is logged (and what is not). */
export function capturingLogger(): { logger: Logger; lines: () => string[]; records: () => { level: number; msg: string }[] } {
  const out: string[] = [];
  const sink = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      out.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines: () => out, records: () => out.map((l) => JSON.parse(l) as { level: number; msg: string }) };
}

/** Waits for `check` to hold (watchers, polls and reconnects run on their own clocks); fails after 10 s. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never happened: ${what}`);
}

export function item(id: string, category: string, price: number, extra: Partial<CatalogItem> = {}): CatalogItem {
  return { id, title: id, category, price, currency: 'EUR', stock: 10, attributes: {}, ...extra };
}

/** A small camera shop: cameras at several prices, and their complements. */
export const CAMERA_SHOP: CatalogItem[] = [
  item('cam-1', 'Cameras', 500, { brand: 'Kanon', attributes: { mount: 'rf' } }),
  item('cam-2', 'Cameras', 650, { brand: 'Kanon', attributes: { mount: 'rf' }, margin: 0.3 }),
  item('cam-3', 'Cameras', 700, { brand: 'Kanon', attributes: { mount: 'rf' }, stock: 0 }),
  item('cam-4', 'Cameras', 450, { brand: 'Kanon', attributes: { mount: 'rf' } }),
  item('cam-5', 'Cameras', 1200, { brand: 'Kanon', attributes: { mount: 'rf' } }),
  item('cam-6', 'Cameras', 560, { brand: 'Nikora', attributes: { mount: 'z' } }),
  item('card-1', 'Memory Cards', 30),
  item('card-2', 'Memory Cards', 45),
  item('tri-1', 'Tripods', 90),
  item('bag-1', 'Camera Bags', 70),
  item('bag-2', 'Camera Bags', 80),
  item('bag-3', 'Camera Bags', 85),
  item('lens-1', 'Lenses', 400),
  item('mug-1', 'Mugs', 10),
  item('beans-1', 'Coffee Beans', 12),
];

export const T0 = Date.parse('2026-10-01T00:00:00Z');

export function at(hours: number): string {
  return new Date(T0 + hours * 3_600_000).toISOString();
}

/** Purchase events for baskets, one order and one shopper each, an hour apart. */
export function ordersToEvents(orders: string[][], start = 0): ShopEvent[] {
  const out: ShopEvent[] = [];
  orders.forEach((basket, k) => {
    for (const id of basket) {
      out.push({ type: 'purchase', userId: `u${start + k}`, itemId: id, orderId: `o${start + k}`, timestamp: at(start + k) });
    }
  });
  return out;
}

export function repeat<T>(n: number, x: T): T[] {
  return Array.from({ length: n }, () => x);
}

export function trainModel(items: CatalogItem[], events: ShopEvent[], cfg: TandemConfig): ModelData {
  const catalog = Catalog.from(items);
  const b = new EventColumnsBuilder();
  for (const e of events) b.add(e, catalog);
  // As the trainer does: the model knows shoppers by pseudonym (here under the key the service defaults to).
  return train(catalog, privatiseEvents(b.build(), { pseudonymiser: Pseudonymiser.fromText(DEMO_HMAC_KEY), erased: new MemorySubjectSet() }).events, cfg.engine);
}

export interface Shop {
  catalog: Catalog;
  store: ModelStore;
  service: RecommenderService;
  config: TandemConfig;
  now: { value: number };
}

/**
 * Trains on `events` (or takes `opts.data`, a model trained elsewhere) and serves the model from memory;
 * `config` overrides the defaults. `opts.catalog` seeds the live catalogue first (other indexes, as on
 * another pod); `opts.sharedCache` puts a shared tier behind the candidate cache; `opts.audit` records every answer.
 */
export async function buildShop(
  items: CatalogItem[],
  events: ShopEvent[],
  config: unknown = {},
  opts: { data?: ModelData; catalog?: CatalogItem[]; sharedCache?: ServiceDeps['sharedCache']; audit?: ServiceDeps['audit'] } = {},
): Promise<Shop> {
  const cfg = parseConfig(config);
  const catalog = new Catalog();
  for (const it of opts.catalog ?? []) catalog.upsert(it);
  const store = new ModelStore({ catalog, engine: cfg.engine, logger: silent });
  const data = opts.data ?? trainModel(items, events, cfg);
  const m = store.addInMemory(data, { metrics: {}, config: cfg, createdAt: new Date('2026-11-01T00:00:00Z') });
  const now = { value: Date.parse('2026-11-01T12:00:00Z') };
  const service = new RecommenderService({
    catalog,
    store,
    config: cfg,
    now: () => now.value,
    ...(opts.sharedCache ? { sharedCache: opts.sharedCache } : {}),
    ...(opts.audit ? { audit: opts.audit } : {}),
  });
  await store.activate(m.version);
  return { catalog, store, service, config: cfg, now };
}

export function ids(r: { items: { id: string }[] }): string[] {
  return r.items.map((i) => i.id);
}

/** What the service queues for a cross-sell answer's decision record (see audit/decision.ts). */
export function decisionInputs(id: string, time: number, user: string | null): DecisionInputs {
  return {
    id,
    time,
    intent: 'cross-sell',
    items: ['cam-1'],
    limit: 3,
    depth: 16,
    user: user ?? undefined,
    keyId: 'k1',
    optedOut: false,
    modelVersion: 'v1',
    modelSha256: 'ab'.repeat(32),
    configVersion: 'c0ffee',
    experiment: undefined,
    variant: 'control',
    onlineGeneration: 0,
    notes: undefined,
  };
}
