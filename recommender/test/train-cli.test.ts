import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { writeJsonl } from '../src/data/jsonl.js';
import { parseConfig } from '../src/config.js';
import { pruneVersions, readArtifact } from '../src/model/artifact.js';
import { modelDiff } from '../src/sql/model-diff.js';
import { jsonlToParquet } from '../src/sql/parquet-files.js';
import { at, CAMERA_SHOP, ordersToEvents, repeat } from './fixtures.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'tandem-train-'));
  dirs.push(d);
  return d;
}

/** `main.ts train` as the retraining CronJob runs it (through tsx here). */
function train(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', join(root, 'recommender/src/main.ts'), 'train', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, TANDEM_KEEP_VERSIONS: '', TANDEM_MODEL_VERSION: '', ...env },
  });
}

describe('model versions kept for rollback', () => {
  it('When old versions are pruned, Then the newest N stay, a protected one stays, and other entries are untouched', async () => {
    const dir = await tempDir();
    const versions = ['20261101T000000Z-aaaaaaaaaaaa', '20261102T000000Z-bbbbbbbbbbbb', '20261103T000000Z-cccccccccccc', '20261104T000000Z-dddddddddddd'];
    for (const v of versions) await mkdir(join(dir, v));
    await mkdir(join(dir, '.tmp-123'));
    await writeFile(join(dir, 'notes.txt'), 'not a model');
    expect(await pruneVersions(dir, 2, [versions[0]!])).toEqual([versions[1]]);
    expect((await readdir(dir)).sort()).toEqual(['.tmp-123', 'notes.txt', versions[0], versions[2], versions[3]].sort());
  });

  it('When the trainer runs with --keep, Then it writes a new version and deletes the oldest beyond N', { timeout: 60_000 }, async () => {
    const data = await tempDir();
    const out = join(data, 'versions');
    const catalog = join(data, 'catalog.jsonl');
    await writeJsonl(catalog, CAMERA_SHOP);
    const written: string[] = [];
    for (let k = 0; k < 3; k++) {
      const events = join(data, `events-${k}.jsonl`);
      await writeJsonl(events, ordersToEvents([...repeat(5 + k, ['cam-1', 'card-1']), ...repeat(4, ['mug-1', 'beans-1'])]));
      const run = train(['--catalog', catalog, '--events', events, '--out', out, '--skip-metrics'], { TANDEM_KEEP_VERSIONS: '2' });
      expect(run.status, run.stderr).toBe(0);
      written.push(/^model (\S+) written/m.exec(run.stdout)![1]!);
    }
    expect((await readdir(out)).sort()).toEqual(written.slice(1));
    const bad = train(['--catalog', catalog, '--events', join(data, 'events-0.jsonl'), '--out', out, '--keep', '0']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain("'--keep' / 'TANDEM_KEEP_VERSIONS' (0) must be an integer ≥ 1");
  });

  it('When the trainer has a history window, Then it trains on the last N days of events only', { timeout: 60_000 }, async () => {
    const data = await tempDir();
    const catalog = join(data, 'catalog.jsonl');
    const events = join(data, 'events.jsonl');
    await writeJsonl(catalog, CAMERA_SHOP);
    // 240 orders an hour apart: ten days of history.
    await writeJsonl(events, ordersToEvents(Array.from({ length: 240 }, (_, k) => (k % 2 ? ['cam-1', 'card-1'] : ['mug-1', 'beans-1']))));
    const run = train(['--catalog', catalog, '--events', events, '--out', join(data, 'versions'), '--skip-metrics'], { TANDEM_HISTORY_WINDOW_DAYS: '3' });
    expect(run.status, run.stderr).toBe(0);
    const version = /^model (\S+) written/m.exec(run.stdout)![1]!;
    const manifest = JSON.parse(await readFile(join(data, 'versions', version, 'manifest.json'), 'utf8')) as { window: { from: string; to: string } };
    expect(manifest.window).toEqual({ from: at(239 - 72), to: at(239) });
    expect(run.stderr).toContain('history window: the last 3 days, 146 of 480 events');
  });
});

describe('the trainer on Parquet (the embedded engine)', () => {
  it('When the catalogue and events are Parquet files, Then it trains the same model as from JSON Lines, with offline metrics, and a version that reads back', { timeout: 120_000 }, async () => {
    const data = await tempDir();
    await writeJsonl(join(data, 'catalog.jsonl'), CAMERA_SHOP);
    await writeJsonl(join(data, 'events.jsonl'), ordersToEvents([...repeat(30, ['cam-1', 'card-1']), ...repeat(20, ['cam-1', 'tri-1']), ...repeat(25, ['mug-1', 'beans-1'])]));
    for (const kind of ['catalog', 'events'] as const) await jsonlToParquet(kind, join(data, `${kind}.jsonl`), join(data, `${kind}.parquet`), join(data, `.scratch-${kind}`));
    const versions: string[] = [];
    for (const [ext, engine] of [['parquet', 'embedded'], ['jsonl', 'memory']] as const) {
      const run = train(['--catalog', join(data, `catalog.${ext}`), '--events', join(data, `events.${ext}`), '--out', join(data, ext), '--engine', engine]);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/^metrics \{"queries":\d+/m);
      versions.push(/^model (\S+) written/m.exec(run.stdout)![1]!);
    }
    const [fromParquet, fromJsonl] = await Promise.all([readArtifact(join(data, 'parquet'), versions[0]!), readArtifact(join(data, 'jsonl'), versions[1]!)]);
    expect(modelDiff(fromParquet.data, fromJsonl.data, parseConfig({}).engine)).toEqual([]);
    expect(fromParquet.manifest.metrics).toEqual(fromJsonl.manifest.metrics);
  });

  it('When the memory engine is given Parquet, Then it refuses and names the engine that reads it', () => {
    const run = train(['--catalog', join(root, 'package.json'), '--events', join(root, 'x.parquet'), '--out', tmpdir(), '--engine', 'memory']);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('the memory engine reads JSON Lines only (use --engine embedded)');
  });
});
