import { chmod, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { Catalog } from '../src/engine/catalog.js';
import { ArtifactError, readArtifact, writeArtifact } from '../src/model/artifact.js';
import { ModelStore } from '../src/model/store.js';
import { RecommenderService } from '../src/service.js';
import { CAMERA_SHOP, ordersToEvents, repeat, silent, trainModel } from './fixtures.js';

const cfg = parseConfig({});
const v1Orders = [...repeat(6, ['cam-1', 'card-1']), ...repeat(4, ['mug-1', 'beans-1'])];
const v2Orders = [...repeat(6, ['cam-1', 'tri-1']), ...repeat(4, ['mug-1', 'beans-1'])];

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function twoVersions(): Promise<{ dir: string; v1: string; v2: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-models-'));
  dirs.push(dir);
  const m1 = await writeArtifact(dir, trainModel(CAMERA_SHOP, ordersToEvents(v1Orders), cfg), {
    metrics: { hr10: 0.5 }, config: cfg, createdAt: new Date('2026-11-01T00:00:00Z'),
  });
  const m2 = await writeArtifact(dir, trainModel(CAMERA_SHOP, ordersToEvents(v2Orders), cfg), {
    metrics: { hr10: 0.6 }, config: cfg, createdAt: new Date('2026-11-02T00:00:00Z'),
  });
  return { dir, v1: m1.version, v2: m2.version };
}

function serviceFor(dir: string): { store: ModelStore; service: RecommenderService } {
  const catalog = new Catalog();
  const store = new ModelStore({ dir, catalog, engine: cfg.engine, logger: silent });
  return { store, service: new RecommenderService({ catalog, store, config: cfg }) };
}

async function tamper(path: string, at: number): Promise<void> {
  await chmod(path, 0o644);
  const buf = await readFile(path);
  buf[at] = buf[at]! ^ 0xff;
  await writeFile(path, buf);
}

describe('model artifacts', () => {
  it('When a model is written, Then it reads back verified with its version, window, counts and metrics', async () => {
    const { dir, v1 } = await twoVersions();
    const { manifest, data } = await readArtifact(dir, v1);
    expect(manifest.version).toMatch(/^20261101T000000Z-[0-9a-f]{12}$/);
    expect(manifest.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.window.from).toBe('2026-10-01T00:00:00.000Z');
    expect(manifest.counts).toMatchObject({ items: CAMERA_SHOP.length, orders: 10 });
    expect(manifest.metrics).toEqual({ hr10: 0.5 });
    expect(manifest.config).toEqual(cfg);
    expect(data.items).toHaveLength(CAMERA_SHOP.length);
  });

  it('When the newest artifact is tampered with, Then it is refused and the previous one keeps serving', async () => {
    const { dir, v1, v2 } = await twoVersions();
    await tamper(join(dir, v2, 'arrays.bin'), 10);
    const { store, service } = serviceFor(dir);
    const active = await store.activateLatest();
    expect(active?.version).toBe(v1);
    await expect(store.activate(v2)).rejects.toThrow(ArtifactError);
    await expect(store.activate(v2)).rejects.toThrow(/checksum mismatch for arrays.bin/);
    const r = await service.recommend({ intent: 'cross-sell', items: ['cam-1'], limit: 5 });
    expect(r.modelVersion).toBe(v1);
    expect(r.items[0]!.id).toBe('card-1');
    const list = await store.list();
    expect(list.active).toBe(v1);
    expect(list.refused.map((x) => x.version)).toEqual([v2]);
  });

  it('When an artifact has another format or names another version, Then it is refused as mismatched', async () => {
    const { dir, v1, v2 } = await twoVersions();
    const { store } = serviceFor(dir);
    await store.activate(v1);
    const manifestPath = join(dir, v2, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Record<string, unknown>;
    await chmod(manifestPath, 0o644);
    await writeFile(manifestPath, JSON.stringify({ ...manifest, format: 'tandem-model/0' }));
    await expect(store.activate(v2)).rejects.toThrow(/unsupported format 'tandem-model\/0'/);
    await writeFile(manifestPath, JSON.stringify({ ...manifest, version: v1 }));
    await expect(store.activate(v2)).rejects.toThrow(/manifest names version/);
    expect(store.active?.version).toBe(v1);
  });

  it('When versions are written within the same second, Then each id still sorts after the ones before it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-models-'));
    dirs.push(dir);
    const at = new Date('2026-11-05T10:00:00.400Z');
    const ids: string[] = [];
    for (const orders of [v1Orders, v2Orders, [...v1Orders, ...v2Orders]]) {
      ids.push((await writeArtifact(dir, trainModel(CAMERA_SHOP, ordersToEvents(orders), cfg), { metrics: {}, config: cfg, createdAt: at })).version);
    }
    expect(ids.map((v) => v.slice(0, 16))).toEqual(['20261105T100000Z', '20261105T100001Z', '20261105T100002Z']);
    expect([...ids].sort()).toEqual(ids);
  });

  it('When an older version is activated, Then the service rolls back to it', async () => {
    const { dir, v1, v2 } = await twoVersions();
    const { store, service } = serviceFor(dir);
    await store.activateLatest();
    expect((await service.recommend({ intent: 'cross-sell', items: ['cam-1'], limit: 5 })).items[0]!.id).toBe('tri-1');
    await store.activate(v1);
    const r = await service.recommend({ intent: 'cross-sell', items: ['cam-1'], limit: 5 });
    expect(r.modelVersion).toBe(v1);
    expect(r.items[0]!.id).toBe('card-1');
    expect((await store.list()).available.map((a) => [a.version, a.active])).toEqual([[v1, true], [v2, false]]);
  });

  it('When an older version is activated by hand, Then following holds it until a newer version is trained', async () => {
    const { dir, v1, v2 } = await twoVersions();
    const { store } = serviceFor(dir);
    expect((await store.follow())?.version).toBe(v2);
    await store.activateAndHold(v1);
    expect(await store.follow()).toBeNull();
    expect(store.active?.version).toBe(v1);
    const v3 = await writeArtifact(dir, trainModel(CAMERA_SHOP, ordersToEvents(v2Orders), cfg), {
      metrics: {}, config: cfg, createdAt: new Date('2026-11-03T00:00:00Z'),
    });
    expect((await store.follow())?.version).toBe(v3.version);
  });

  it('When a version is pinned, Then it is served though a newer one exists, and the service waits for it until it is written', async () => {
    const { dir, v1 } = await twoVersions();
    const pinned = new ModelStore({ dir, catalog: new Catalog(), engine: cfg.engine, logger: silent, pinned: v1 });
    expect((await pinned.follow())?.version).toBe(v1);
    expect(await pinned.follow()).toBeNull();
    expect(pinned.active?.version).toBe(v1);

    const empty = await mkdtemp(join(tmpdir(), 'tandem-models-'));
    dirs.push(empty);
    const waiting = new ModelStore({ dir: empty, catalog: new Catalog(), engine: cfg.engine, logger: silent, pinned: v1 });
    expect(await waiting.follow()).toBeNull();
    expect(waiting.active).toBeNull();
    await cp(join(dir, v1), join(empty, v1), { recursive: true });
    expect((await waiting.follow())?.version).toBe(v1);
  });

  it('When a model is swapped while the live catalogue has changed, Then live stock wins over the snapshot', async () => {
    const { dir, v1, v2 } = await twoVersions();
    const { store, service } = serviceFor(dir);
    await store.activate(v1);
    service.patchInventory({ 'tri-1': 0 });
    await store.activate(v2);
    const r = await service.recommend({ intent: 'cross-sell', items: ['cam-1'], limit: 5 });
    expect(r.items.map((i) => i.id)).not.toContain('tri-1');
  });
});
