/**
 * Bad training data never reaches production: the trainer refuses inputs it cannot trust (no version is
 * written), and the model gate keeps a worse version from replacing the active one.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/api/app.js';
import { Authenticator } from '../src/auth/authenticator.js';
import { plainKey } from '../src/auth/keys.js';
import { inputProblem } from '../src/cli/input-check.js';
import { parseConfig } from '../src/config.js';
import { writeJsonl } from '../src/data/jsonl.js';
import { mulberry32 } from '../src/prng.js';
import { Catalog } from '../src/engine/catalog.js';
import { writeArtifact } from '../src/model/artifact.js';
import { gateVerdict } from '../src/model/gate.js';
import { ModelStore } from '../src/model/store.js';
import { startServer } from '../src/server.js';
import { RecommenderService } from '../src/service.js';
import { CAMERA_SHOP, capturingLogger, ordersToEvents, repeat, trainModel } from './fixtures.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cfg = parseConfig({});
const orders = [...repeat(30, ['cam-1', 'card-1']), ...repeat(20, ['cam-1', 'tri-1']), ...repeat(20, ['mug-1', 'beans-1'])];
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'tandem-gate-'));
  dirs.push(d);
  return d;
}

/** `main.ts train` as the retraining CronJob runs it (through tsx here). */
function train(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', join(root, 'recommender/src/main.ts'), 'train', '--skip-metrics', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, TANDEM_KEEP_VERSIONS: '', TANDEM_MODEL_VERSION: '', TANDEM_HISTORY_WINDOW_DAYS: '' },
  });
}

describe('the trainer refuses inputs it cannot trust', () => {
  let data: string;
  let out: string;
  let store: ModelStore;
  let active: string;

  beforeAll(async () => {
    data = await tempDir();
    out = join(data, 'versions');
    await writeJsonl(join(data, 'catalog.jsonl'), CAMERA_SHOP);
    active = (await writeArtifact(out, trainModel(CAMERA_SHOP, ordersToEvents(orders), cfg), { metrics: {}, config: cfg, createdAt: new Date('2026-11-01T00:00:00Z') })).version;
    store = new ModelStore({ dir: out, catalog: new Catalog(), engine: cfg.engine, gate: cfg.gate });
    await store.follow();
    expect(store.activeManifest?.version).toBe(active);
  });

  async function trainOn(name: string, content: string | Buffer): Promise<ReturnType<typeof train>> {
    await writeFile(join(data, name), content);
    const r = train(['--catalog', join(data, 'catalog.jsonl'), '--events', join(data, name), '--out', out]);
    expect(await readdir(out)).toEqual([active]);
    await store.follow();
    expect(store.activeManifest?.version).toBe(active);
    return r;
  }

  it('When the events file is a corrupt Parquet file, Then training fails naming it, writes nothing, and the active model keeps serving', async () => {
    const rng = mulberry32(7);
    const noise = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(rng() * 256)));
    const parquet = Buffer.concat([Buffer.from('PAR1'), noise(4096), Buffer.from('\n'), noise(4096), Buffer.from('PAR1')]);
    const r = await trainOn('events.parquet', parquet);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/refusing to train, no model version written: .*events\.parquet cannot be read as Parquet: /);
  });

  it('When 5% of the events are invalid, Then training fails naming the first bad lines and the counts', async () => {
    const events = ordersToEvents(orders).map((e, i) => ((i + 1) % 20 === 0 ? { ...e, timestamp: 'yesterday' } : e));
    const r = await trainOn('events-5pc.jsonl', events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('events-5pc.jsonl: 7 of 140 records rejected (5.0%, more than the 1.0% allowed); first bad lines: 20, 40, 60, 80, 100, 120, 140');
  });

  it('When the share of bad records is under the threshold, Then training goes ahead', () => {
    const files = [{ file: 'e.jsonl', records: 1000, rejected: 5, firstBadLines: [1, 2, 3, 4, 5] }];
    expect(inputProblem(files, 995, 0.01)).toBeUndefined();
    expect(inputProblem(files, 995, 0.001)).toMatch(/5 of 1000 records rejected \(0\.5%, more than the 0\.1% allowed\); first bad lines: 1, 2, 3, 4, 5$/);
    expect(inputProblem([{ file: 'e.jsonl', records: 10, rejected: 0, firstBadLines: [] }], 0, 0.01)).toMatch(/no usable events/);
  });
});

describe('the model gate', () => {
  const good = { metrics: { hr10: 0.45, ndcg10: 0.22, coverage: 0.9 }, counts: { events: 10_000, orders: 3000, users: 900, items: 300, crossPairs: 5000 } };

  it.each([
    ['a metric more than 10% below', { ...good, metrics: { ...good.metrics, hr10: 0.3 } }, /^metrics\.hr10 0\.3 is 33% below the active version's 0\.45 \(at most 10% allowed\)$/],
    ['orders collapsing', { ...good, counts: { ...good.counts, orders: 100 } }, /^counts\.orders 100 is 3% of the active version's 3000 \(at least 50% required\)$/],
  ])('When a new version has %s, Then it is refused with the reason', (_what, candidate, reason) => {
    expect(gateVerdict(candidate, good, cfg.gate)).toMatch(reason);
  });

  it('When a new version is within the margins (or was trained without metrics), Then it passes', () => {
    expect(gateVerdict({ ...good, metrics: { ...good.metrics, hr10: 0.41 } }, good, cfg.gate)).toBeUndefined();
    expect(gateVerdict({ ...good, metrics: {} }, good, cfg.gate)).toBeUndefined();
  });

  it('When a degraded version is trained, Then the service keeps the active one, lists the refusal, counts it, and an operator can still activate it', async () => {
    const dir = await tempDir();
    const v1 = (await writeArtifact(dir, trainModel(CAMERA_SHOP, ordersToEvents(orders), cfg), { metrics: { hr10: 0.5 }, config: cfg, createdAt: new Date('2026-11-01T00:00:00Z') })).version;
    const { logger, records: lines } = capturingLogger();
    const catalog = new Catalog();
    const store = new ModelStore({ dir, catalog, engine: cfg.engine, logger, gate: cfg.gate });
    const service = new RecommenderService({ catalog, store, config: cfg });
    const { app } = createApp({ service, store, auth: new Authenticator(() => [plainKey('gate-test-key')], cfg.auth), logger });
    const running = await startServer(app, 0, '127.0.0.1');
    const base = `http://127.0.0.1:${running.port}`;
    const auth = { authorization: 'Bearer gate-test-key' };
    try {
      await store.follow();
      const degraded = (await writeArtifact(dir, trainModel(CAMERA_SHOP, ordersToEvents(orders.slice(0, 10)), cfg), { metrics: { hr10: 0.2 }, config: cfg, createdAt: new Date('2026-11-02T00:00:00Z') })).version;
      await store.follow();
      const models = (await (await fetch(`${base}/v1/models`, { headers: auth })).json()) as { active: string; refused: { version: string; reason: string }[] };
      expect(models.active).toBe(v1);
      expect(models.refused).toEqual([{ version: degraded, reason: expect.stringMatching(/^gate: counts\.events 20 is 14% of the active version's 140/) }]);
      const rec = (await (await fetch(`${base}/v1/recommendations/cross-sell?items=cam-1`, { headers: auth })).json()) as { modelVersion: string };
      expect(rec.modelVersion).toBe(v1);
      expect(await (await fetch(`${base}/metrics`)).text()).toContain('tandem_model_refused_total{reason="gate"} 1');
      expect(lines().find((l) => l.msg.startsWith('refused model version by the gate'))?.level).toBe(40);

      const byHand = await fetch(`${base}/v1/models/${degraded}/activate`, { method: 'POST', headers: auth });
      expect(byHand.status).toBe(200);
      expect(((await byHand.json()) as { active: string }).active).toBe(degraded);
    } finally {
      await running.close();
    }
  });

  it('When a version that does not exist is activated, Then it is a 404 logged at warn, not an error about a refused artifact', async () => {
    const dir = await tempDir();
    await writeArtifact(dir, trainModel(CAMERA_SHOP, ordersToEvents(orders), cfg), { metrics: {}, config: cfg });
    const { logger, records: lines } = capturingLogger();
    const catalog = new Catalog();
    const store = new ModelStore({ dir, catalog, engine: cfg.engine, logger });
    await store.follow();
    const service = new RecommenderService({ catalog, store, config: cfg });
    const { app } = createApp({ service, store, auth: new Authenticator(() => [plainKey('gate-test-key')], cfg.auth), logger });
    const running = await startServer(app, 0, '127.0.0.1');
    try {
      const r = await fetch(`http://127.0.0.1:${running.port}/v1/models/19990101T000000Z-000000000000/activate`, { method: 'POST', headers: { authorization: 'Bearer gate-test-key' } });
      expect(r.status).toBe(404);
      expect(((await r.json()) as { detail: string }).detail).toBe("model version '19990101T000000Z-000000000000' does not exist");
      const about = lines().filter((l) => JSON.stringify(l).includes('19990101T000000Z'));
      expect(about.map((l) => [l.level, l.msg])).toEqual([[40, 'model version does not exist; keeping the active model']]);
      expect(lines().some((l) => l.level >= 50)).toBe(false);
      expect((await store.list()).refused).toEqual([]);
    } finally {
      await running.close();
    }
  });
});
