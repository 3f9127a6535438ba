import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, createMetricsApp } from '../src/api/app.js';
import { Authenticator } from '../src/auth/authenticator.js';
import { plainKey, sha256, type ApiKey } from '../src/auth/keys.js';
import { parseConfig } from '../src/config.js';
import { Catalog } from '../src/engine/catalog.js';
import { writeArtifact } from '../src/model/artifact.js';
import { ModelStore } from '../src/model/store.js';
import { startServer, type Running } from '../src/server.js';
import { RecommenderService } from '../src/service.js';
import { at, CAMERA_SHOP, ordersToEvents, repeat, silent, trainModel } from './fixtures.js';

const KEY = 'test-key-123';
/** A storefront's key: recommendations only. */
const READER = 'reader-key-456';
/** A key allowed one request per 1,000 s: its second request is over the limit. */
const SLOW = 'slow-key-789';
/** A feed's key: events only. */
const WRITER = 'writer-key-012';
const keys: ApiKey[] = [
  plainKey(KEY, 'ops'),
  { name: 'feed', digest: sha256(WRITER), scopes: new Set(['events:write']) },
  { name: 'storefront', digest: sha256(READER), scopes: new Set(['recommend:read']) },
  { name: 'slow', digest: sha256(SLOW), scopes: new Set(['recommend:read']), ratePerSecond: 0.001, burst: 1 },
];
const cfg = parseConfig({});
const orders = [...repeat(6, ['cam-1', 'card-1']), ...repeat(3, ['cam-1', 'tri-1']), ...repeat(4, ['mug-1', 'beans-1'])];
const orders2 = [...repeat(6, ['cam-1', 'bag-1']), ...repeat(4, ['mug-1', 'beans-1'])];

let running: Running;
let metricsOnly: Running;
let metricsOf: ReturnType<typeof createApp>['metrics'];
let base: string;
let store: ModelStore;
let openapi: { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>> };
let routes: { method: string; path: string; scope?: string; body?: unknown }[];
let dir: string;
let v1: string;
let v2: string;

const auth = { authorization: `Bearer ${KEY}` };
const get = (path: string, headers: Record<string, string> = auth) => fetch(base + path, { headers });
const send = (method: string, path: string, body: unknown) =>
  fetch(base + path, { method, headers: { ...auth, 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

const ajv = new Ajv2020({ strict: false, validateFormats: false });
/** Validates a real response against the OpenAPI document's schema for that path, method and status. */
async function conforms(res: Response, path: string, method = 'get'): Promise<unknown> {
  const op = openapi.paths[path]?.[method];
  expect(op, `${method} ${path} is documented`).toBeDefined();
  const resp = op!.responses[String(res.status)];
  expect(resp, `${method} ${path} documents status ${res.status}`).toBeDefined();
  const type = res.headers.get('content-type')!.split(';')[0]!;
  const content = resp!.content?.[type];
  expect(content, `${method} ${path} ${res.status} documents ${type}`).toBeDefined();
  const body = type.includes('json') ? await res.json() : await res.text();
  const validate = ajv.compile(content!.schema);
  expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
  return body;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-api-'));
  v1 = (await writeArtifact(dir, trainModel(CAMERA_SHOP, ordersToEvents(orders), cfg), { metrics: {}, config: cfg, createdAt: new Date('2026-11-01T00:00:00Z') })).version;
  v2 = (await writeArtifact(dir, trainModel(CAMERA_SHOP, ordersToEvents(orders2), cfg), { metrics: {}, config: cfg, createdAt: new Date('2026-11-02T00:00:00Z') })).version;
  const catalog = new Catalog();
  store = new ModelStore({ dir, catalog, engine: cfg.engine, logger: silent });
  const service = new RecommenderService({ catalog, store, config: cfg });
  const app = createApp({ service, store, auth: new Authenticator(() => keys, cfg.auth), logger: silent });
  openapi = app.openapi as typeof openapi;
  routes = app.routes;
  running = await startServer(app.app, 0, '127.0.0.1');
  metricsOf = app.metrics;
  metricsOnly = await startServer(createMetricsApp(app.metrics), 0, '127.0.0.1');
  base = `http://127.0.0.1:${running.port}`;
});

afterAll(async () => {
  await running.close();
  await metricsOnly.close();
  await rm(dir, { recursive: true, force: true });
});

describe('before a model is loaded', () => {
  it('When no model is active, Then /readyz and recommendations answer 503 while /healthz is fine', async () => {
    expect((await get('/healthz', {})).status).toBe(200);
    const ready = await get('/readyz', {});
    expect(ready.status).toBe(503);
    expect(ready.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const r = await get('/v1/recommendations/cross-sell?items=cam-1');
    expect(r.status).toBe(503);
    await conforms(r, '/v1/recommendations/cross-sell');
    await store.activate(v1);
    expect((await get('/readyz', {})).status).toBe(200);
  });
});

describe('auth', () => {
  it.each([
    ['no header', {}, 'Bearer'],
    ['another scheme', { authorization: `Basic ${KEY}` }, 'Bearer'],
    ['a wrong key', { authorization: 'Bearer nope-nope-nope' }, 'Bearer error="invalid_token"'],
  ])('When the request has %s, Then it gets 401 problem JSON', async (_name, headers, challenge) => {
    const r = await get('/v1/recommendations/cross-sell?items=cam-1', headers as Record<string, string>);
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe(challenge);
    await conforms(r, '/v1/recommendations/cross-sell');
  });

  it('When a key lacks the scope of the call, Then it gets 403 naming the scope, and its own scope still works', async () => {
    const reader = { authorization: `Bearer ${READER}` };
    expect((await get('/v1/recommendations/cross-sell?items=cam-1', reader)).status).toBe(200);
    const models = await get('/v1/models', reader);
    expect(models.status).toBe(403);
    expect(models.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope", scope="admin"');
    expect(((await conforms(models, '/v1/models')) as { detail: string }).detail).toBe("API key 'storefront' lacks the scope 'admin'");
    const events = await fetch(base + '/v1/events', { method: 'POST', headers: { ...reader, 'content-type': 'application/json' }, body: '[]' });
    expect(events.status).toBe(403);
    await conforms(events, '/v1/events', 'post');
  });

  it('When a key goes over its rate limit, Then it gets 429 with Retry-After, and other keys are unaffected', async () => {
    const slow = { authorization: `Bearer ${SLOW}` };
    expect((await get('/v1/recommendations/up-sell?item=cam-1', slow)).status).toBe(200);
    const r = await get('/v1/recommendations/up-sell?item=cam-1', slow);
    expect(r.status).toBe(429);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(999);
    await conforms(r, '/v1/recommendations/up-sell');
    expect((await get('/v1/recommendations/up-sell?item=cam-1')).status).toBe(200);
  });

  it('When probes and metrics are called without a key, Then they answer', async () => {
    for (const p of ['/healthz', '/readyz', '/metrics', '/openapi.json']) expect((await get(p, {})).status).toBe(200);
  });
});

describe('validation', () => {
  it.each([
    '/v1/recommendations/cross-sell',
    '/v1/recommendations/cross-sell?items=',
    '/v1/recommendations/cross-sell?items=cam-1&limit=0',
    '/v1/recommendations/cross-sell?items=cam-1&limit=101',
    '/v1/recommendations/cross-sell?items=cam-1&limit=ten',
    '/v1/recommendations/cross-sell?items=cam-1&items=card-1',
    '/v1/recommendations/cross-sell?items=cam-1,,card-1',
    '/v1/recommendations/up-sell?item=cam-1&colour=red',
    '/v1/recommendations/personal',
    '/v1/recommendations/personal?user=' + 'x'.repeat(200),
  ])('When GET %s is malformed, Then it gets 400 problem JSON naming the field', async (path) => {
    const r = await get(path);
    expect(r.status).toBe(400);
    const body = (await conforms(r, path.split('?')[0]!)) as { errors: { field: string }[] };
    expect(body.errors.length).toBeGreaterThan(0);
  });

  it('When a body is not JSON, Then it gets 400 problem JSON', async () => {
    const r = await send('POST', '/v1/events', '{"oops":');
    expect(r.status).toBe(400);
    await conforms(r, '/v1/events', 'post');
  });

  it('When a route does not exist, Then it gets 404 problem JSON', async () => {
    const r = await get('/v1/nothing-here');
    expect(r.status).toBe(404);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await r.json()).toMatchObject({ status: 404, title: 'Not Found' });
  });

  it('When the item is unknown, Then the answer is 200 with no items and a reason', async () => {
    const r = await get('/v1/recommendations/up-sell?item=ghost');
    expect(r.status).toBe(200);
    const body = (await conforms(r, '/v1/recommendations/up-sell')) as { items: unknown[]; reasons: string[] };
    expect(body.items).toEqual([]);
    expect(body.reasons).toEqual(['unknown_item:ghost']);
  });
});

describe('OpenAPI', () => {
  it('When the routes are listed, Then the document describes exactly them', () => {
    const documented = Object.entries(openapi.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`)).sort();
    expect(documented).toEqual(routes.map((r) => `${r.method} ${r.path}`).sort());
    expect(documented).toEqual(expect.arrayContaining([
      'get /v1/recommendations/cross-sell', 'get /v1/recommendations/up-sell', 'get /v1/recommendations/personal',
      'post /v1/catalog/items', 'patch /v1/inventory', 'post /v1/events', 'get /healthz', 'get /readyz', 'get /metrics',
    ]));
  });

  it('When each intent is called, Then the real responses conform to the document', async () => {
    const cross = (await conforms(await get('/v1/recommendations/cross-sell?items=cam-1&limit=3'), '/v1/recommendations/cross-sell')) as { items: { id: string; reasons: string[] }[]; intent: string };
    expect(cross.intent).toBe('cross-sell');
    expect(cross.items[0]).toMatchObject({ id: 'card-1' });
    await conforms(await get('/v1/recommendations/up-sell?item=cam-1&user=u1'), '/v1/recommendations/up-sell');
    await conforms(await get('/v1/recommendations/personal?user=u1&limit=2'), '/v1/recommendations/personal');
    await conforms(await get('/v1/models'), '/v1/models');
    await conforms(await get('/healthz', {}), '/healthz');
    await conforms(await get('/readyz', {}), '/readyz');
    await conforms(await send('POST', '/v1/catalog/items', [{ id: 'x' }]), '/v1/catalog/items', 'post');
    await conforms(await send('PATCH', '/v1/inventory', { 'mug-1': 5 }), '/v1/inventory', 'patch');
    await conforms(await send('POST', '/v1/events', [{ type: 'view', userId: 'u1', itemId: 'mug-1', timestamp: at(999) }]), '/v1/events', 'post');
  });
});

describe('the API contract', () => {
  const concrete = (path: string): string => path.replace('{version}', v1);
  const call = (method: string, path: string, headers: Record<string, string>, body?: string) =>
    fetch(base + concrete(path), { method: method.toUpperCase(), headers: { 'content-type': 'application/json', ...headers }, ...(body === undefined ? {} : { body }) });

  it('When every route is called without a key, or with a key lacking its scope, Then it answers the documented 401 or 403', async () => {
    const secured = routes.filter((r) => r.scope);
    expect(secured.length).toBeGreaterThanOrEqual(8);
    for (const r of secured) {
      const body = r.body ? '[]' : undefined;
      const missing = await call(r.method, r.path, {}, body);
      expect(missing.status, `${r.method} ${r.path}`).toBe(401);
      await conforms(missing, r.path, r.method);
      const other = r.scope === 'recommend:read' ? WRITER : READER;
      const wrong = await call(r.method, r.path, { authorization: `Bearer ${other}` }, body);
      expect(wrong.status, `${r.method} ${r.path}`).toBe(403);
      await conforms(wrong, r.path, r.method);
      const op = openapi.paths[r.path]![r.method] as unknown as { security: Record<string, string[]>[] };
      expect(op.security).toEqual([{ bearer: [r.scope] }]);
    }
  });

  it('When a body is over 10 MB, Then every route with a body answers the documented 413', async () => {
    const big = `[${'0,'.repeat(5_500_000)}0]`;
    for (const r of routes.filter((x) => x.body)) {
      const res = await call(r.method, r.path, auth, big);
      expect(res.status, `${r.method} ${r.path}`).toBe(413);
      await conforms(res, r.path, r.method);
    }
  });

  it('When a known path is called with a method it does not declare, Then it gets 405 with Allow; OPTIONS lists them', async () => {
    const r = await call('delete', '/v1/recommendations/cross-sell?items=cam-1', auth);
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('GET, HEAD');
    expect(await r.json()).toMatchObject({ status: 405, title: 'Method Not Allowed' });
    const activate = await call('get', '/v1/models/{version}/activate', auth);
    expect(activate.status).toBe(405);
    expect(activate.headers.get('allow')).toBe('POST');
    const options = await call('options', '/v1/events', {});
    expect(options.status).toBe(204);
    expect(options.headers.get('allow')).toBe('POST, OPTIONS');
    expect((await call('head', '/healthz', {})).status).toBe(200);
  });

  it('When the document is read, Then every operation lists its statuses, and every scoped one its 401, 403 and 429', () => {
    for (const r of routes) {
      const statuses = Object.keys(openapi.paths[r.path]![r.method]!.responses);
      expect(statuses, `${r.method} ${r.path}`).toContain('500');
      if (r.scope) expect(statuses, `${r.method} ${r.path}`).toEqual(expect.arrayContaining(['401', '403', '429']));
    }
  });
});

describe('ingestion over HTTP', () => {
  it('When a batch of events mixes good and bad, Then the answer counts both and names index and field', async () => {
    const r = await send('POST', '/v1/events', [
      { type: 'purchase', userId: 'z', itemId: 'mug-1', orderId: 'zz', timestamp: at(1000) },
      { type: 'purchase', userId: 'z', itemId: 'mug-1', timestamp: 'soon' },
    ]);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ accepted: 1, rejected: 1, errors: [{ index: 1, field: '/timestamp', message: expect.any(String) }] });
  });

  it('When stock is patched to 0, Then the next request no longer shows the item', async () => {
    const before = (await (await get('/v1/recommendations/cross-sell?items=cam-1')).json()) as { items: { id: string }[] };
    expect(before.items.map((i) => i.id)).toContain('tri-1');
    await send('PATCH', '/v1/inventory', { 'tri-1': 0 });
    const after = (await (await get('/v1/recommendations/cross-sell?items=cam-1')).json()) as { items: { id: string }[] };
    expect(after.items.map((i) => i.id)).not.toContain('tri-1');
    await send('PATCH', '/v1/inventory', { 'tri-1': 10 });
  });
});

describe('models over HTTP', () => {
  it('When versions are swapped under concurrent load, Then no request fails', async () => {
    await store.activate(v1);
    const statuses: number[] = [];
    const versions = new Set<string>();
    let swapping = true;
    const load = (async () => {
      while (swapping) {
        const batch = await Promise.all(
          Array.from({ length: 20 }, () => get('/v1/recommendations/cross-sell?items=cam-1&limit=3').then(async (r) => {
            statuses.push(r.status);
            versions.add(((await r.json()) as { modelVersion: string }).modelVersion);
          })),
        );
        expect(batch).toHaveLength(20);
      }
    })();
    for (let i = 0; i < 6; i++) {
      const r = await send('POST', `/v1/models/${i % 2 === 0 ? v2 : v1}/activate`, {});
      expect(r.status).toBe(200);
    }
    swapping = false;
    await load;
    expect(statuses.length).toBeGreaterThanOrEqual(20);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect([...versions].every((v) => v === v1 || v === v2)).toBe(true);
    expect(((await (await get('/v1/models')).json()) as { active: string }).active).toBe(v1);
  });

  it('When a tampered version is activated, Then it gets 409 and the active model keeps serving', async () => {
    const path = join(dir, v2, 'meta.json');
    await chmod(path, 0o644);
    const buf = await readFile(path);
    await writeFile(path, Buffer.concat([buf.subarray(0, buf.length - 2), Buffer.from(' }')]));
    const r = await send('POST', `/v1/models/${v2}/activate`, {});
    expect(r.status).toBe(409);
    expect(((await r.json()) as { detail: string }).detail).toMatch(/checksum mismatch for meta.json/);
    const rec = (await (await get('/v1/recommendations/cross-sell?items=cam-1')).json()) as { modelVersion: string };
    expect(rec.modelVersion).toBe(v1);
    expect(((await (await get('/v1/models')).json()) as { refused: { version: string }[] }).refused.map((x) => x.version)).toContain(v2);
  });

  it('When an unknown version is activated, Then it gets 404', async () => {
    expect((await send('POST', '/v1/models/19990101T000000Z-000000000000/activate', {})).status).toBe(404);
  });
});

describe('metrics', () => {
  it('When requests were served, Then /metrics counts them by route and status and names the model', async () => {
    const text = await (await get('/metrics', {})).text();
    expect(text).toMatch(/tandem_http_request_duration_seconds_count\{route="\/v1\/recommendations\/cross-sell",method="GET",status="200"\} \d+/);
    expect(text).toMatch(/tandem_http_request_duration_seconds_count\{route="\/v1\/recommendations\/cross-sell",method="GET",status="401"\} \d+/);
    expect(text).toMatch(/tandem_http_request_duration_seconds_bucket\{le="0.005",route="\/v1\/recommendations\/cross-sell"/);
    expect(text).toMatch(/process_cpu_user_seconds_total/);
    expect(text).toContain(`tandem_model_info{version="${v1}"} 1`);
  });

  it('When answers, refusals and lookups happened, Then the contract metrics count them by their labels, and never by user or item', async () => {
    const text = await (await get('/metrics', {})).text();
    const value = (series: string): number => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    expect(value('tandem_recommendations_total{intent="cross-sell",variant="control"}')).toBeGreaterThan(20);
    expect(value('tandem_recommended_items_total{intent="cross-sell",source="bought_together"}')).toBeGreaterThan(0);
    expect(value('tandem_candidates_total{intent="cross-sell"}')).toBeGreaterThan(0);
    expect(value('tandem_filtered_items_total{intent="cross-sell",reason="stock"}')).toBeGreaterThanOrEqual(1); // tri-1 at stock 0
    expect(value('tandem_cache_requests_total{tier="memory",result="hit"}')).toBeGreaterThan(0);
    expect(value('tandem_cache_requests_total{tier="memory",result="miss"}')).toBeGreaterThan(0);
    expect(value('tandem_model_refused_total{reason="corrupt"}')).toBe(1);
    expect(value('tandem_auth_failures_total{reason="missing"}')).toBeGreaterThanOrEqual(1);
    expect(value('tandem_auth_failures_total{reason="unknown"}')).toBeGreaterThanOrEqual(1);
    expect(value('tandem_auth_failures_total{reason="scope"}')).toBeGreaterThanOrEqual(1);
    expect(value('tandem_auth_failures_total{reason="rate_limited"}')).toBeGreaterThanOrEqual(1);
    expect(value('tandem_model_age_seconds')).toBeGreaterThan(0);
    expect(text).not.toContain('tandem_cache_up'); // no Redis tier here
    expect(text).not.toMatch(/cam-1|card-1|u1"|storefront/);
  });

  it('When METRICS_PORT is used, Then that port serves /metrics and nothing of the API', async () => {
    const m = `http://127.0.0.1:${metricsOnly.port}`;
    const text = await (await fetch(`${m}/metrics`)).text();
    expect(text).toContain('tandem_http_request_duration_seconds');
    expect(metricsOf.registry).toBeDefined();
    expect((await fetch(`${m}/v1/recommendations/personal?user=u1`, { headers: auth })).status).toBe(404);
  });
});
