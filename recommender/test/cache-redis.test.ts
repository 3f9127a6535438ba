/**
 * The Redis tier against a real redis-server (test/redis-server.ts): sharing between pods, invalidation,
 * TTL, single flight, credentials, and Redis dying, hanging and coming back under load.
 */
import autocannon from 'autocannon';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/api/app.js';
import { createMetrics } from '../src/api/metrics.js';
import { observeComponents } from '../src/api/observe.js';
import { Authenticator } from '../src/auth/authenticator.js';
import { plainKey } from '../src/auth/keys.js';
import { RedisTier } from '../src/cache/redis.js';
import { parseConfig } from '../src/config.js';
import { DEMO_HMAC_KEY } from '../src/privacy/privacy.js';
import { Pseudonymiser } from '../src/privacy/pseudonym.js';
import { startServer } from '../src/server.js';
import { CAMERA_SHOP, buildShop, capturingLogger, eventually, ids, ordersToEvents, repeat, silent, trainModel, type Shop } from './fixtures.js';
import { startRedisServer, type RedisServer } from '../../hack/redis-server.js';

const orders = [...repeat(6, ['cam-1', 'card-1']), ...repeat(4, ['cam-1', 'tri-1']), ...repeat(3, ['cam-2', 'bag-1']), ...repeat(4, ['mug-1', 'beans-1'])];
const events = ordersToEvents(orders);
/** Every request is stored at once (no doorkeeper), so one request is enough to share a list. */
// maxStaleMs 0: what a pod was just told shows on its next request (the default lets lists lag by 5 s).
const config = { cache: { admitOnRepeat: false, ttlSeconds: 60, maxStaleMs: 0 } };
/**
 * Redis call timeouts: generous where a test counts hits and misses (a busy test machine must not turn a
 * slow answer into an error), short where Redis is made to hang.
 */
const PATIENT_MS = 2000;
const HANG_TIMEOUT_MS = 200;
const cfg = parseConfig(config);
const data = trainModel(CAMERA_SHOP, events, cfg);
const q = { intent: 'cross-sell' as const, items: ['cam-1'], limit: 5 };

const tiers: RedisTier[] = [];
function tier(url: string, extra: Partial<ConstructorParameters<typeof RedisTier>[0]> = {}): RedisTier {
  const t = new RedisTier({ url: new URL(url), timeoutMs: PATIENT_MS, backoffMs: 50, logger: silent, ...extra });
  tiers.push(t);
  t.connect();
  return t;
}

/** A scoring pod: the shared model on a catalogue whose indexes are in the order given. */
async function pod(redis: RedisTier, catalogOrder = CAMERA_SHOP): Promise<Shop> {
  await eventually(() => redis.up, 'the Redis tier is connected');
  return buildShop(CAMERA_SHOP, events, config, { data, catalog: catalogOrder, sharedCache: redis });
}

afterAll(async () => {
  await Promise.all(tiers.map((t) => t.close()));
});

describe('the Redis tier', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server.close();
  });
  afterEach(async () => {
    await server.cli('flushall');
  });

  it('When one pod computes a list, Then another pod (other catalogue indexes) gets it from Redis and answers the same', async () => {
    const a = await pod(tier(server.url));
    const b = await pod(tier(server.url), [...CAMERA_SHOP].reverse());
    expect(a.catalog.idx('cam-1')).not.toBe(b.catalog.idx('cam-1'));
    const first = await a.service.recommend(q);
    expect(a.service.cache.stats.redis).toMatchObject({ hits: 0, misses: 1, errors: 0 });
    await eventually(async () => (await server.cli('dbsize')).trim() === '1', 'the list is written');
    const fromB = await b.service.recommend(q);
    expect(b.service.cache.stats.redis).toMatchObject({ hits: 1, misses: 0 });
    expect(fromB.items).toEqual(first.items);
    // …and B's next request is served from its own memory, without asking Redis.
    await b.service.recommend(q);
    expect(b.service.cache.stats.redis!.hits).toBe(1);
    expect(b.service.cache.stats.memory.hits).toBe(1);
  });

  it('When the Redis tier is on, Then /metrics says it is up and counts its lookups by result', async () => {
    const t = tier(server.url);
    const a = await pod(t);
    const metrics = createMetrics();
    observeComponents(metrics, { store: a.store, cache: a.service.cache.stats });
    await a.service.recommend(q);
    await a.service.recommend({ ...q, items: ['mug-1'] });
    const text = await metrics.registry.metrics();
    expect(text).toContain('tandem_cache_up 1');
    expect(text).toContain('tandem_cache_requests_total{tier="redis",result="miss"} 2');
    expect(text).toContain('tandem_cache_requests_total{tier="memory",result="miss"} 2');
  });

  it('When lists are written, Then their keys name the model version and the context, and expire with the TTL', async () => {
    const a = await pod(tier(server.url));
    await a.service.recommend({ intent: 'cross-sell', items: ['tri-1', 'cam-1'], limit: 5 });
    await a.service.recommend({ intent: 'up-sell', items: ['cam-1'], user: 'u0', limit: 5 });
    await eventually(async () => (await server.cli('dbsize')).trim() === '2', 'both lists are written');
    const keys = (await server.cli('--scan', '--pattern', 'tandem:cand:*')).trim().split('\n').sort();
    const version = a.store.activeManifest!.version;
    // The shopper is in a key as their pseudonym, never as their id.
    const u0 = Pseudonymiser.fromText(DEMO_HMAC_KEY).pseudonym('u0');
    expect(keys).toEqual([`tandem:cand:${version}:cross-sell:20:cam-1,tri-1`, `tandem:cand:${version}:up-sell:20:cam-1 ${u0}`]);
    const ttl = Number(await server.cli('pttl', keys[0]!));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it("When a shopper is erased, Then their lists go from Redis too, and everyone else's stay", async () => {
    const a = await pod(tier(server.url));
    await a.service.recommend({ intent: 'up-sell', items: ['cam-1'], user: 'u0', limit: 5 });
    await a.service.recommend({ intent: 'up-sell', items: ['cam-1'], user: 'u1', limit: 5 });
    await a.service.recommend(q);
    await eventually(async () => (await server.cli('dbsize')).trim() === '3', 'the three lists are written');
    const reached = await a.service.eraseUser('u0');
    expect(reached.reached.cacheEntries).toBe(1);
    await eventually(async () => (await server.cli('dbsize')).trim() === '2', "the erased shopper's list is deleted");
    const keys = (await server.cli('--scan', '--pattern', 'tandem:cand:*')).trim().split('\n');
    const p = Pseudonymiser.fromText(DEMO_HMAC_KEY);
    expect(keys.some((k) => k.endsWith(` ${p.pseudonym('u1')}`))).toBe(true);
    expect(keys.some((k) => k.endsWith(` ${p.pseudonym('u0')}`))).toBe(false);
  });

  it('When many requests for one key miss at once, Then Redis is asked once and the list computed once', async () => {
    const a = await pod(tier(server.url));
    const answers = await Promise.all(Array.from({ length: 20 }, () => a.service.recommend(q)));
    expect(new Set(answers.map((x) => JSON.stringify(x.items))).size).toBe(1);
    expect(a.service.cache.stats.redis).toMatchObject({ hits: 0, misses: 1, errors: 0 });
  });

  it('When a new model version activates, Then the previous version’s keys are dropped', async () => {
    const a = await pod(tier(server.url));
    const old = a.store.activeManifest!.version;
    await a.service.recommend(q);
    await eventually(async () => (await server.cli('--scan', '--pattern', `tandem:cand:${old}:*`)).trim() !== '', 'the list is written');
    const next = a.store.addInMemory(trainModel(CAMERA_SHOP, ordersToEvents([...orders, ...repeat(5, ['cam-1', 'lens-1'])]), cfg), { metrics: {}, config: cfg });
    await a.store.activate(next.version);
    await eventually(async () => (await server.cli('--scan', '--pattern', `tandem:cand:${old}:*`)).trim() === '', 'the old keys are gone');
    await a.service.recommend(q);
    expect(a.service.cache.stats.redis!.misses).toBe(2);
  });

  it('When a pod ingests events or changes its catalogue, Then it stops using lists computed before (another pod’s included)', async () => {
    const a = await pod(tier(server.url));
    const b = await pod(tier(server.url));
    await a.service.recommend(q);
    await eventually(async () => (await server.cli('dbsize')).trim() === '1', 'the list is written');
    await new Promise((r) => setTimeout(r, 5)); // the wall clock moves past the list's time
    b.service.ingestEvents(repeat(8, 0).flatMap((_, k) => [
      { type: 'purchase' as const, userId: `n${k}`, itemId: 'cam-1', orderId: `n${k}`, timestamp: '2026-10-20T00:00:00Z' },
      { type: 'purchase' as const, userId: `n${k}`, itemId: 'lens-1', orderId: `n${k}`, timestamp: '2026-10-20T00:00:00Z' },
    ]));
    const r = await b.service.recommend(q);
    expect(b.service.cache.stats.redis).toMatchObject({ hits: 0, misses: 1 });
    expect(ids(r)).toContain('lens-1');
  });
});

describe('Redis credentials', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer({ password: 'default-pw', users: [['alice', 'on', '>alice-pw', '~tandem:*', '+@all']] });
  });
  afterAll(async () => {
    await server.close();
  });

  it.each([
    ['the password in the URL', () => ({ url: `redis://:default-pw@127.0.0.1:${server.port}` })],
    ['REDIS_PASSWORD', () => ({ url: server.url, password: () => 'default-pw' })],
    ['an ACL user in the URL and its password', () => ({ url: `redis://alice@127.0.0.1:${server.port}`, password: () => 'alice-pw' })],
  ])('When the tier authenticates with %s, Then lists are shared', async (_how, creds) => {
    const { url, password } = creds() as { url: string; password?: () => string };
    const a = await pod(tier(url, password ? { password } : {}));
    await a.service.recommend({ ...q, limit: 3 });
    await eventually(async () => (await server.cli('dbsize')).trim() !== '0', 'the list is written');
  });

  it('When the password is wrong, Then the service serves without Redis, counts it, and logs it once without the password', async () => {
    const { logger, lines } = capturingLogger();
    const t = tier(`redis://alice@127.0.0.1:${server.port}`, { password: () => 'wrong-pw', logger });
    await eventually(() => lines().length > 0, 'the failure is logged');
    const a = await buildShop(CAMERA_SHOP, events, config, { data, sharedCache: t });
    expect(ids(await a.service.recommend(q))).toContain('card-1');
    expect(a.service.cache.stats.redis).toMatchObject({ errors: 1, up: false });
    await new Promise((r) => setTimeout(r, 300)); // reconnect attempts meanwhile: still one line
    expect(lines().filter((l) => l.includes('Redis cache unavailable'))).toHaveLength(1);
    expect(lines().join('')).not.toContain('wrong-pw');
  });
});

describe('Redis dying under load', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('When redis-server is killed, then paused, mid-load, Then no request fails, and the tier recovers by itself', async () => {
    const { logger, lines } = capturingLogger();
    const t = tier(server.url, { logger, timeoutMs: HANG_TIMEOUT_MS });
    const shop = await pod(t);
    const KEY = 'load-test-key';
    const { app } = createApp({ service: shop.service, store: shop.store, auth: new Authenticator(() => [plainKey(KEY)], cfg.auth), logger });
    const running = await startServer(app, 0, '127.0.0.1');
    try {
      const baskets = ['cam-1', 'cam-2', 'tri-1', 'card-1', 'mug-1', 'bag-1', 'cam-1,tri-1', 'mug-1,beans-1'];
      const paths = baskets.flatMap((b) => [1, 2, 3, 4, 5, 6, 7, 8].map((limit) => `/v1/recommendations/cross-sell?items=${b}&limit=${limit}`));
      let i = 0;
      const load = autocannon({
        url: `http://127.0.0.1:${running.port}`,
        connections: 8,
        duration: 4,
        headers: { authorization: `Bearer ${KEY}` },
        requests: [{ setupRequest: (req) => ({ ...req, path: paths[i++ % paths.length]! }) }],
      });
      await new Promise((r) => setTimeout(r, 700));
      await server.stop('SIGKILL');
      await eventually(() => !t.up, 'the outage is noticed');
      const erroredDuringOutage = shop.service.cache.stats.redis!.errors;
      // New lists meanwhile are computed here (a fresh model invalidates memory, so every key asks again).
      shop.service.cache.memory.clear();
      await new Promise((r) => setTimeout(r, 600));
      await server.start();
      await eventually(() => t.up, 'the tier reconnects');
      server.pause(); // hangs: calls now time out
      shop.service.cache.memory.clear();
      await new Promise((r) => setTimeout(r, 600));
      server.resume();
      const result = await load;
      expect(result.errors + result.timeouts).toBe(0);
      expect(result.non2xx).toBe(0);
      expect(result.requests.total).toBeGreaterThan(100);
      expect(shop.service.cache.stats.redis!.errors).toBeGreaterThan(erroredDuringOutage);
      await eventually(() => t.up, 'the tier answers again');
      shop.service.cache.memory.clear();
      const errors = shop.service.cache.stats.redis!.errors;
      const lookups = shop.service.cache.stats.redis!.hits + shop.service.cache.stats.redis!.misses;
      await shop.service.recommend(q);
      await shop.service.recommend({ ...q, items: ['mug-1'] });
      expect(shop.service.cache.stats.redis!.errors).toBe(errors);
      expect(shop.service.cache.stats.redis!.hits + shop.service.cache.stats.redis!.misses).toBeGreaterThanOrEqual(lookups + 2);
      // One line when an outage began (the kill, the hang: at least these two) and one when it ended, not one per request.
      const warnings = lines().filter((l) => l.includes('Redis cache unavailable'));
      const backs = lines().filter((l) => l.includes('Redis cache is back'));
      expect(warnings.length).toBeGreaterThanOrEqual(2);
      expect(backs).toHaveLength(warnings.length);
      expect(warnings.length * 10).toBeLessThan(shop.service.cache.stats.redis!.errors);
    } finally {
      await running.close();
    }
  }, 30_000);
});
