/**
 * Privacy, the audit trail and experiments through the real HTTP API: the express app on a free port,
 * wired as `serve` wires it (openServeTrust), with the audit files, erasures, opt-outs and experiment
 * counts in a real state directory shared by two "pods".
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/api/app.js';
import { createMetrics } from '../src/api/metrics.js';
import type { DecisionView } from '../src/audit/record.js';
import type { ReplayResult } from '../src/audit/replay.js';
import { verifyFiles } from '../src/audit/verify.js';
import { Authenticator } from '../src/auth/authenticator.js';
import { plainKey, sha256, type ApiKey } from '../src/auth/keys.js';
import { parseConfig } from '../src/config.js';
import { Catalog } from '../src/engine/catalog.js';
import { readServiceEnv } from '../src/env.js';
import type { ExperimentReport } from '../src/experiments/report.js';
import { readArtifact, writeArtifact } from '../src/model/artifact.js';
import { ModelStore } from '../src/model/store.js';
import { Pseudonymiser } from '../src/privacy/pseudonym.js';
import type { ErasureResult, UserExport } from '../src/privacy/schemas.js';
import { startServer, type Running } from '../src/server.js';
import { RecommenderService } from '../src/service.js';
import { openServeTrust, type ServeTrust } from '../src/trust.js';
import { CAMERA_SHOP, ordersToEvents, repeat, silent, T0 } from './fixtures.js';
import { train } from '../src/engine/train.js';
import { EventColumnsBuilder } from '../src/engine/events.js';
import { privatiseEvents } from '../src/privacy/events.js';
import { MemorySubjectSet } from '../src/privacy/subject-set.js';
import type { RecommendationResponse, ShopEvent } from '../src/schemas.js';

const ADMIN = 'admin-key-0123';
const READER = 'reader-key-4567';
const keys: ApiKey[] = [plainKey(ADMIN, 'ops'), { name: 'storefront', digest: sha256(READER), scopes: new Set(['recommend:read', 'events:write']) }];
const HMAC = 'trust-test-hmac-key-0123456789';
const pseudonymiser = Pseudonymiser.fromText(HMAC);
const cfg = parseConfig({});
const orders = [...repeat(6, ['cam-1', 'card-1']), ...repeat(3, ['cam-1', 'tri-1']), ...repeat(4, ['mug-1', 'beans-1']), ['cam-1', 'bag-1', 'lens-1']];

interface Pod {
  running: Running;
  base: string;
  service: RecommenderService;
  trust: ServeTrust;
  metrics: ReturnType<typeof createMetrics>;
}

let work: string;
let modelDir: string;
let stateDir: string;
let auditDir: string;
let eventsFile: string;
let sha: string;
let podA: Pod;
let podB: Pod;
let openapi: { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>> };

const ajv = new Ajv2020({ strict: false, validateFormats: false });
/** The response body, checked against the OpenAPI document's schema for its path, method and status. */
async function conforms<T>(res: Response, path: string, method = 'get'): Promise<T> {
  const resp = openapi.paths[path]?.[method]?.responses[String(res.status)];
  expect(resp, `${method} ${path} documents status ${res.status}`).toBeDefined();
  const type = res.headers.get('content-type')!.split(';')[0]!;
  const schema = resp!.content?.[type]?.schema;
  expect(schema, `${method} ${path} ${res.status} documents ${type}`).toBeDefined();
  const body: unknown = await res.json();
  const validate = ajv.compile(schema!);
  expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
  return body as T;
}

const call = (pod: Pod, method: string, path: string, body?: unknown, key = ADMIN) =>
  fetch(pod.base + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
const recommend = async (pod: Pod, path: string): Promise<RecommendationResponse> => {
  const res = await call(pod, 'GET', path, undefined, READER);
  expect(res.status).toBe(200);
  return (await res.json()) as RecommendationResponse;
};

/** A scoring pod as `serve` wires it; `vars` replaces the shared-state variables. */
async function openPod(writer: string, vars?: Record<string, string>): Promise<Pod> {
  const env = readServiceEnv({
    TANDEM_HMAC_KEY: HMAC,
    ...(vars ?? {
      TANDEM_STATE_DIR: stateDir,
      TANDEM_AUDIT_DIR: auditDir,
      TANDEM_EXPERIMENTS_FILE: join(work, 'experiments.json'),
      TANDEM_EVENT_RETENTION_DAYS: '3650',
    }),
  });
  const catalog = new Catalog();
  const store = new ModelStore({ dir: modelDir, catalog, engine: cfg.engine, logger: silent });
  const metrics = createMetrics();
  const trust = await openServeTrust({ env, logger: silent, registry: metrics.registry, ingested: metrics.ingested, store, catalog, historySize: cfg.engine.historySize, modelDir, writer });
  const service = new RecommenderService({ catalog, store, config: cfg, now: () => T0 + 40 * 86_400_000, ...trust.deps });
  await store.follow();
  const app = createApp({ service, store, auth: new Authenticator(() => keys, cfg.auth), logger: silent, metrics });
  openapi = app.openapi as typeof openapi;
  const running = await startServer(app.app, 0, '127.0.0.1');
  return { running, base: `http://127.0.0.1:${running.port}`, service, trust, metrics };
}

/** Every audit line of every pod, as text. */
async function auditText(): Promise<string> {
  await podA.trust.deps.audit!.flush();
  await podB.trust.deps.audit!.flush();
  let text = '';
  for (const w of await readdir(auditDir)) for (const f of await readdir(join(auditDir, w))) text += await readFile(join(auditDir, w, f), 'utf8');
  return text;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tandem-trust-'));
  modelDir = join(work, 'models');
  stateDir = join(work, 'state');
  auditDir = join(stateDir, 'audit');
  await mkdir(join(work, 'data'));
  eventsFile = join(work, 'data', 'events.jsonl');
  const events = ordersToEvents(orders);
  await writeFile(join(work, 'data', 'catalog.jsonl'), CAMERA_SHOP.map((i) => JSON.stringify(i)).join('\n') + '\n');
  await writeFile(eventsFile, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  await writeFile(
    join(work, 'experiments.json'),
    JSON.stringify({ experiments: [{ name: 'ranking', variants: [{ name: 'control', weight: 50 }, { name: 'sharp', weight: 50, engine: { shrinkage: 1 } }] }] }),
  );
  // Trained as the trainer does: under the pods' key.
  const catalog = Catalog.from(CAMERA_SHOP);
  const b = new EventColumnsBuilder();
  for (const e of events) b.add(e, catalog);
  const data = train(catalog, privatiseEvents(b.build(), { pseudonymiser, erased: new MemorySubjectSet() }).events, cfg.engine);
  sha = (await writeArtifact(modelDir, data, { metrics: {}, config: cfg, createdAt: new Date('2026-11-01T00:00:00Z') })).sha256;
  podA = await openPod('pod-a');
  podB = await openPod('pod-b');
});

async function closePod(pod: Pod): Promise<void> {
  await pod.running.close();
  await pod.trust.close();
  await pod.service.close();
}

afterAll(async () => {
  await closePod(podA);
  await closePod(podB);
  await rm(work, { recursive: true, force: true });
});

describe('decision records', () => {
  let answer: RecommendationResponse;
  let rec: DecisionView;

  beforeAll(async () => {
    expect((await call(podA, 'PATCH', '/v1/inventory', { 'tri-1': 0 })).status).toBe(200);
    answer = await recommend(podA, '/v1/recommendations/cross-sell?items=cam-1&user=u0&limit=3');
    rec = await conforms<DecisionView>(await call(podA, 'GET', `/v1/decisions/${answer.recommendationId}`), '/v1/decisions/{id}');
  });

  it('When a shopper gets an answer, Then it names its variant, and its record holds the request, model, experiment, candidates, what was filtered and why, and the answer', () => {
    expect(['control', 'sharp']).toContain(answer.variant);
    expect(rec).toMatchObject({
      type: 'decision',
      id: answer.recommendationId,
      intent: 'cross-sell',
      context: { items: ['cam-1'], limit: 3 },
      model: { version: answer.modelVersion, sha256: sha },
      experiment: { name: 'ranking', variant: answer.variant },
      variant: answer.variant,
      optedOut: false,
    });
    expect(rec.items).toEqual(answer.items);
    expect(rec.filtered).toContainEqual({ id: 'tri-1', reason: 'out_of_stock' });
    expect(rec.candidates.find((c) => c.id === 'tri-1')).toMatchObject({ stock: 0, category: 'Tripods', reasons: [expect.stringMatching(/^bought_together:cam-1/)] });
  });

  it('When the record names the shopper, Then it is their pseudonym, and the shopper id is written nowhere', async () => {
    expect(rec.user).toBe(pseudonymiser.pseudonym('u0'));
    expect(rec.subject?.keyId).toBe(pseudonymiser.keyId);
    expect(await auditText()).not.toContain('"u0"');
  });

  it('When the decision is replayed after the stock changed, Then it matches: the replay uses the recorded inventory', async () => {
    expect((await call(podA, 'PATCH', '/v1/inventory', { 'tri-1': 5 })).status).toBe(200);
    const replay = await conforms<ReplayResult>(await call(podA, 'POST', `/v1/decisions/${answer.recommendationId}/replay`), '/v1/decisions/{id}/replay', 'post');
    expect(replay).toEqual({ match: true, stages: { rules: true, engine: true }, diff: {}, notes: [] });
    const now = await recommend(podA, '/v1/recommendations/cross-sell?items=cam-1&user=u0&limit=3');
    expect(now.items.map((i) => i.id)).toContain('tri-1');
  });

  it('When another pod is asked for the decision, Then it finds it on the shared volume', async () => {
    await podA.trust.deps.audit!.flush();
    const res = await call(podB, 'GET', `/v1/decisions/${answer.recommendationId}`);
    expect(((await res.json()) as DecisionView).id).toBe(answer.recommendationId);
  });

  it('When the decision does not exist, or the key lacks the admin scope, Then 404 and 403', async () => {
    expect((await call(podA, 'GET', '/v1/decisions/0190aaaa-0000-7000-8000-000000000000')).status).toBe(404);
    expect((await call(podA, 'POST', '/v1/decisions/0190aaaa-0000-7000-8000-000000000000/replay')).status).toBe(404);
    expect((await call(podA, 'GET', `/v1/decisions/${answer.recommendationId}`, undefined, READER)).status).toBe(403);
    expect((await call(podA, 'GET', '/v1/decisions/not-a-uuid')).status).toBe(400);
  });
});

describe('experiments', () => {
  it('When shoppers see answers and buy from them, Then each is credited to its variant, on any pod, and the report adds up every pod', async () => {
    const before = new Map((await podA.service.experimentReport('ranking'))!.variants.map((v) => [v.name, v]));
    const seen = { control: 0, sharp: 0 } as Record<string, number>;
    const bought = { control: 0, sharp: 0 } as Record<string, number>;
    const events: ShopEvent[] = [];
    for (let i = 0; i < 40; i++) {
      const pod = i % 2 ? podA : podB;
      const a = await recommend(pod, `/v1/recommendations/cross-sell?items=mug-1&session=s-${i}&limit=2`);
      seen[a.variant]!++;
      events.push({ type: 'view', userId: `s-${i}`, itemId: 'beans-1', timestamp: new Date(T0).toISOString(), recommendationId: a.recommendationId });
      if (i % 4 === 0) {
        bought[a.variant]!++;
        events.push({ type: 'purchase', userId: `s-${i}`, itemId: 'beans-1', price: 12, quantity: 2, timestamp: new Date(T0).toISOString(), recommendationId: a.recommendationId });
      }
    }
    expect(seen.control! + seen.sharp!).toBe(40);
    expect(seen.control).toBeGreaterThan(0);
    expect(seen.sharp).toBeGreaterThan(0);
    // The events go to the other pod: attribution needs no look-up of the answer.
    expect((await call(podA, 'POST', '/v1/events', events, READER)).status).toBe(200);
    await podA.service.saveCounters();
    await podB.service.saveCounters();
    const report = await conforms<ExperimentReport>(await call(podB, 'GET', '/v1/experiments/ranking/report'), '/v1/experiments/{name}/report');
    for (const v of report.variants) {
      const b = before.get(v.name)!;
      expect(v.impressions - b.impressions).toBe(seen[v.name]);
      expect(v.clicks - b.clicks).toBe(seen[v.name]);
      expect(v.conversions - b.conversions).toBe(bought[v.name]);
      expect(v.revenue - b.revenue).toBe(bought[v.name]! * 24);
    }
    expect(report.verdict).toMatch(/^not enough data yet/);
    const text = await podA.metrics.registry.metrics();
    expect(text).toMatch(/tandem_experiment_conversions_total\{experiment="ranking",variant="(control|sharp)"\} [1-9]/);
    expect(text).toMatch(/tandem_experiment_revenue_total\{experiment="ranking",variant="(control|sharp)"\} [1-9]/);
    expect((await call(podA, 'GET', '/v1/experiments/nope/report')).status).toBe(404);
  });

  it('When a request has neither shopper nor session, Then it gets the control and is not counted', async () => {
    const before = (await podA.service.experimentReport('ranking'))!.variants[0]!.impressions;
    const a = await recommend(podA, '/v1/recommendations/cross-sell?items=mug-1&limit=2');
    expect(a.variant).toBe('control');
    expect((await podA.service.experimentReport('ranking'))!.variants[0]!.impressions).toBe(before);
  });
});

describe("the shopper's rights", () => {
  const personal = (pod: Pod, user: string) => recommend(pod, `/v1/recommendations/personal?user=${user}&limit=3`);

  it('When a shopper opts out, Then they get the non-personal answer on every pod, and back when they opt in again', async () => {
    const own = await personal(podA, 'u1');
    expect(own.reasons ?? []).not.toContain('fallback:popularity unknown_user');
    const out = await conforms<{ optedOut: boolean }>(await call(podA, 'POST', '/v1/users/u1/opt-out'), '/v1/users/{id}/opt-out', 'post');
    expect(out).toEqual({ optedOut: true });
    expect((await personal(podA, 'u1')).reasons).toContain('fallback:popularity unknown_user');
    await podB.service.syncPrivacy();
    const elsewhere = await personal(podB, 'u1');
    expect(elsewhere.reasons).toContain('fallback:popularity unknown_user');
    expect((await podB.service.decision(elsewhere.recommendationId))?.optedOut).toBe(true);
    expect((await call(podA, 'DELETE', '/v1/users/u1/opt-out')).status).toBe(200);
    expect((await personal(podA, 'u1')).reasons ?? []).not.toContain('fallback:popularity unknown_user');
  });

  it('When a shopper asks for their data, Then the export holds their pseudonyms, history, variants and decisions', async () => {
    await personal(podA, 'u2');
    const data = await conforms<UserExport>(await call(podA, 'GET', '/v1/users/u2/export'), '/v1/users/{id}/export');
    expect(data.user.pseudonyms).toEqual([pseudonymiser.pseudonym('u2')]);
    expect(data.history.trained.map((h) => h.itemId).sort()).toEqual(['cam-1', 'card-1']);
    expect(data.experiments).toEqual([{ experiment: 'ranking', variant: expect.stringMatching(/^(control|sharp)$/) }]);
    expect(data.decisions.length).toBeGreaterThanOrEqual(1);
    expect(data.decisions.every((d) => d.user === pseudonymiser.pseudonym('u2'))).toBe(true);
    expect(data).toMatchObject({ erased: false, optedOut: null });
  });

  describe('When a shopper is erased', () => {
    let erasure: ErasureResult;
    const who = pseudonymiser.pseudonym('u0');

    beforeAll(async () => {
      // Pod B learns of u0 online and answers them before the erasure; its record is still queued.
      await call(podB, 'POST', '/v1/events', [{ type: 'view', userId: 'u0', itemId: 'lens-1', timestamp: new Date(T0).toISOString() }], READER);
      await personal(podB, 'u0');
      erasure = await conforms<ErasureResult>(await call(podA, 'DELETE', '/v1/users/u0'), '/v1/users/{id}', 'delete');
    });

    it('Then the erasure reports what it reached, redacts the records every pod had written, and records itself', async () => {
      expect(erasure.reached).toMatchObject({ auditRecords: expect.any(Number), optOut: 0 });
      expect(erasure.reached.auditRecords).toBeGreaterThanOrEqual(2); // pod A's answers for u0 in the decision tests
      expect(await auditText()).toContain(`"id":"${erasure.erasureId}"`);
    });

    it('Then every pod answers them as a stranger, forgets their online history, redacts what it wrote since, and keeps nothing new about them', async () => {
      expect((await personal(podA, 'u0')).reasons).toContain('fallback:popularity unknown_user');
      expect(await podB.service.syncPrivacy()).toBe(1);
      expect(await auditText()).not.toContain(who);
      const verified = await verifyFiles([auditDir]);
      expect(verified.problems).toEqual([]);
      expect(verified.redacted).toBeGreaterThanOrEqual(3); // pod A's two decisions for u0, and pod B's
      expect((await personal(podB, 'u0')).reasons).toContain('fallback:popularity unknown_user');
      await call(podB, 'POST', '/v1/events', [{ type: 'purchase', userId: 'u0', itemId: 'bag-2', orderId: 'late', timestamp: new Date(T0).toISOString() }], READER);
      const data = (await (await call(podB, 'GET', '/v1/users/u0/export')).json()) as UserExport;
      expect(data).toMatchObject({ erased: true, decisions: [], history: { online: [] } });
      expect(await auditText()).not.toContain(who);
      expect(await podB.metrics.registry.metrics()).toMatch(/tandem_ingested_records_total\{kind="event",outcome="erased"\} 1/);
      expect(await podA.metrics.registry.metrics()).toMatch(/tandem_user_erasures_total 1/);
    });

    it('Then the next retraining leaves them out of the model and prunes their events from the events file', async () => {
      const out = join(work, 'retrained');
      const run = spawnSync(
        process.execPath,
        ['node_modules/tsx/dist/cli.mjs', 'recommender/src/main.ts', 'train', '--catalog', join(work, 'data', 'catalog.jsonl'), '--events', eventsFile, '--out', out, '--skip-metrics', '--prune-events'],
        { encoding: 'utf8', env: { ...process.env, TANDEM_HMAC_KEY: HMAC, TANDEM_STATE_DIR: stateDir, TANDEM_AUDIT_DIR: auditDir, TANDEM_AUDIT_RETENTION_DAYS: '30' } },
      );
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/dropped 2 events of erased shoppers/);
      const [version] = await readdir(out);
      const { data } = await readArtifact(out, version!);
      expect(data.userIds).not.toContain(who);
      expect(data.userIds).toContain(pseudonymiser.pseudonym('u1'));
      expect(data.userIds.every((u) => u.startsWith(`${pseudonymiser.keyId}.`))).toBe(true);
      const events = await readFile(eventsFile, 'utf8');
      expect(events).not.toContain('"userId":"u0"');
      expect(events).toContain('"userId":"u1"');
    });
  });
});

describe('when the audit trail cannot be written', () => {
  it('Then answers are still served, the drops and the failure are counted for the alert, and writing resumes with a gap record', async () => {
    const dir = join(work, 'audit-c');
    const pod = await openPod('pod-c', { TANDEM_AUDIT_DIR: dir, TANDEM_AUDIT_ROTATE_SECONDS: '1' });
    const { trust, metrics } = pod;
    try {
      await recommend(pod, '/v1/recommendations/cross-sell?items=cam-1&limit=3');
      await trust.deps.audit!.flush();
      // The pod's directory becomes a file: the next rotation (due after a second) cannot open a new file.
      await rm(join(dir, 'pod-c'), { recursive: true });
      await writeFile(join(dir, 'pod-c'), 'in the way');
      await new Promise((r) => setTimeout(r, 1100));
      for (let i = 0; i < 3; i++) expect((await recommend(pod, `/v1/recommendations/cross-sell?items=cam-1&limit=${3 + i}`)).items.length).toBeGreaterThan(0);
      await trust.deps.audit!.flush();
      const text = await metrics.registry.metrics();
      expect(text).toMatch(/tandem_audit_sink_errors_total\{sink="file"\} [1-9]/);
      expect(text).toMatch(/tandem_audit_records_total\{outcome="dropped"\} 3/);
      await rm(join(dir, 'pod-c'));
      await recommend(pod, '/v1/recommendations/cross-sell?items=cam-1&limit=3');
      await trust.deps.audit!.flush();
      const verified = await verifyFiles([dir]);
      expect(verified.problems).toEqual([]);
      expect(await readFile(join(dir, 'pod-c', (await readdir(join(dir, 'pod-c')))[0]!), 'utf8')).toMatch(/"dropped":3,"reason":"queue full or write failed","time":"[^"]+","type":"gap"/);
    } finally {
      await closePod(pod);
    }
  });
});
