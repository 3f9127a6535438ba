/**
 * One training job, three engines: the TypeScript trainer (engine/train.ts), the embedded engine (DuckDB)
 * and Spark (a real spark-submit in local[2] mode, PyPI pyspark from `npm run tools`), on the same small
 * noisy shop, compared item by item; and what ingestion guarantees in front of both SQL engines (Parquet
 * and JSON Lines alike, bad rows reported, privacy applied); and a Spark run's packed artifact, served.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/api/app.js';
import { Authenticator } from '../src/auth/authenticator.js';
import { plainKey } from '../src/auth/keys.js';
import { loadInputs } from '../src/cli/inputs.js';
import { parseConfig } from '../src/config.js';
import { writeShopFiles } from '../src/data/demo-files.js';
import { NOISY_SHOP, type ShopSpec } from '../src/data/demo-shop.js';
import { writeJsonl } from '../src/data/jsonl.js';
import { Catalog } from '../src/engine/catalog.js';
import type { ModelData } from '../src/engine/model.js';
import { train } from '../src/engine/train.js';
import { writeArtifact } from '../src/model/artifact.js';
import { ModelStore } from '../src/model/store.js';
import { DEMO_HMAC_KEY, Privacy } from '../src/privacy/privacy.js';
import { PSEUDONYM_PATTERN } from '../src/privacy/pseudonym.js';
import { MemorySubjectSet } from '../src/privacy/subject-set.js';
import { startServer } from '../src/server.js';
import { RecommenderService } from '../src/service.js';
import { Duck } from '../src/sql/duckdb.js';
import { trainEmbedded, trainSparkLocal, type SqlTrainOptions } from '../src/sql/engines.js';
import { modelDiff } from '../src/sql/model-diff.js';
import { jsonlToParquet } from '../src/sql/parquet-files.js';
import { privatiseInputs } from '../src/trust.js';
import { silent } from './fixtures.js';

/** The noisy shop's phenomena (impulse items, add-ons, substitutes, planted accessories, drift) at a test's size. */
const SMALL_NOISY: ShopSpec = { ...NOISY_SHOP, seed: 11, items: 520, users: 600, orders: 2500, noise: { ...NOISY_SHOP.noise, impulse: { items: 12, rate: 0.3 }, generic: { items: 8, rate: 0.35 } } };
const cfg = parseConfig({});

let dir: string;
const files = (name: string) => ({ catalog: join(dir, `catalog.${name}`), events: join(dir, `events.${name}`) });
const said: string[] = [];

function options(input: { catalog: string; events: string }, extra: Partial<SqlTrainOptions> = {}): SqlTrainOptions {
  return {
    ...input,
    engine: cfg.engine,
    privacy: { pseudonymiser: Privacy.inMemory(DEMO_HMAC_KEY).pseudonymiser, erased: new MemorySubjectSet() },
    scratch: join(dir, `scratch-${Math.random().toString(36).slice(2)}`),
    say: (line) => said.push(line),
    ...extra,
  };
}

/** Today's trainer on the JSON Lines files, as `train --engine memory` runs it. */
async function inMemory(privacy = Privacy.inMemory(DEMO_HMAC_KEY)): Promise<ModelData> {
  const inputs = await loadInputs(files('jsonl'));
  privatiseInputs(inputs, privacy);
  return train(Catalog.from(inputs.catalog.items), inputs.events, cfg.engine);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-sql-'));
  await writeShopFiles(dir, SMALL_NOISY, { parquet: true });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('one job, three engines', () => {
  let ts: ModelData;
  let embedded: ModelData;
  let spark: ModelData;

  beforeAll(async () => {
    ts = await inMemory();
    embedded = (await trainEmbedded(options(files('parquet')))).data;
    spark = (await trainSparkLocal({ ...options(files('parquet')), jobDir: join(dir, 'spark-job'), spark: { master: 'local[2]' } })).data;
  }, 300_000);

  it('When the small shop is trained by Spark and by the embedded engine, Then they give the same model, item by item', () => {
    expect(embedded.counts.crossPairs).toBeGreaterThan(1000);
    expect(embedded.counts.knnPairs).toBeGreaterThan(1000);
    expect(embedded.counts.substitutePairs).toBeGreaterThan(1000);
    expect(modelDiff(spark, embedded, cfg.engine)).toEqual([]);
  });

  it('When the TypeScript trainer trains the same shop, Then its model is the same as the SQL engines\' within float tolerance', () => {
    expect(modelDiff(ts, embedded, cfg.engine)).toEqual([]);
    expect(modelDiff(ts, spark, cfg.engine)).toEqual([]);
  });

  it('When the model Spark trained is packed into a version, Then the service loads it, checksums verified, and answers with it', async () => {
    const models = join(dir, 'models');
    const { version } = await writeArtifact(models, spark, { metrics: {}, config: cfg });
    const catalog = new Catalog();
    const store = new ModelStore({ dir: models, catalog, engine: cfg.engine, logger: silent });
    await store.follow();
    expect(store.activeManifest?.version).toBe(version);
    const service = new RecommenderService({ catalog, store, config: cfg });
    const app = createApp({ service, store, auth: new Authenticator(() => [plainKey('spark-test-key')], cfg.auth), logger: silent });
    const running = await startServer(app.app, 0, '127.0.0.1');
    try {
      const top = spark.items[spark.arrays.popular[0]!]!.id;
      const res = await fetch(`http://127.0.0.1:${running.port}/v1/recommendations/cross-sell?items=${top}&limit=5`, { headers: { authorization: 'Bearer spark-test-key' } });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { modelVersion: string; items: { id: string; reasons: string[] }[] };
      expect(body.modelVersion).toBe(version);
      expect(body.items.length).toBeGreaterThan(0);
      expect(body.items[0]!.reasons.join(' ')).toMatch(new RegExp(`bought_together:${top}`));
    } finally {
      await running.close();
      await service.close();
    }
  });

  it('When one number of a model differs, Then the comparison names the item and the value', () => {
    const changed = structuredClone(embedded);
    const q = changed.arrays.crossOff[10]!;
    changed.arrays.crossCo[q] = changed.arrays.crossCo[q]! * 1.01;
    const item = changed.items[10]!.id;
    expect(modelDiff(changed, embedded, cfg.engine).join('\n')).toContain(`cross-sell of ${item}`);
  });
});

describe('ingestion in front of the SQL engines', () => {
  it('When the events arrive as JSON Lines instead of Parquet, Then the embedded engine trains the same model', async () => {
    const [fromJsonl, fromParquet] = [await trainEmbedded(options(files('jsonl'))), await trainEmbedded(options(files('parquet')))];
    expect(fromJsonl.staged.files.map((f) => f.records)).toEqual(fromParquet.staged.files.map((f) => f.records));
    expect(modelDiff(fromJsonl.data, fromParquet.data, cfg.engine)).toEqual([]);
  }, 60_000);

  it('When the export stores the timestamp as a Parquet TIMESTAMP instead of text, Then the embedded engine trains the same model', async () => {
    const duck = await Duck.open({ dir: join(dir, 'ts-scratch'), preserveOrder: true });
    try {
      await duck.run(`COPY (SELECT * REPLACE (CAST(CAST("timestamp" AS TIMESTAMPTZ) AS TIMESTAMP) AS "timestamp") FROM read_parquet('${files('parquet').events}')) TO '${join(dir, 'events-ts.parquet')}' (FORMAT parquet)`);
    } finally {
      duck.close();
    }
    const [text, typed] = [await trainEmbedded(options(files('parquet'))), await trainEmbedded(options({ ...files('parquet'), events: join(dir, 'events-ts.parquet') }))];
    expect(modelDiff(text.data, typed.data, cfg.engine)).toEqual([]);
  }, 60_000);

  it('When Parquet rows break the event schema, Then each is reported with its row and field in the words a JSON Lines line gets, and counted', async () => {
    const good = { type: 'view', userId: 'u-1', itemId: 'sku-001', timestamp: '2026-10-01T10:00:00Z' };
    const rows = [good, { ...good, type: 'click' }, good, { ...good, userId: '' }, { ...good, timestamp: 'yesterday' }, { ...good, type: 'purchase', price: -3 }, good];
    await writeJsonl(join(dir, 'bad.jsonl'), rows);
    await jsonlToParquet('events', join(dir, 'bad.jsonl'), join(dir, 'bad.parquet'), join(dir, 'bad-scratch'));
    const report = async (events: string) => {
      said.length = 0;
      const r = await trainEmbedded(options({ catalog: files('jsonl').catalog, events }, { accept: () => { throw new Error('stop after ingestion'); } })).catch((e: Error) => e);
      expect(String(r)).toContain('stop after ingestion');
      return said.filter((l) => / (line|row) \d+: /.test(l)).map((l) => l.replace(/^.*?: (line|row) /, ''));
    };
    const fromParquet = await report(join(dir, 'bad.parquet'));
    expect(fromParquet).toEqual(await report(join(dir, 'bad.jsonl')));
    expect(fromParquet).toEqual(['2: /type Expected union value', '4: /userId Expected string length greater or equal to 1', "5: /timestamp Expected string to match 'date-time' format", '6: /price Expected number to be greater or equal to 0']);
  }, 60_000);

  it('When a shopper is erased and events are past retention, Then neither reaches the model, and every shopper id in it is a pseudonym', async () => {
    const privacy = Privacy.inMemory(DEMO_HMAC_KEY, 60);
    await privacy.erased.add(privacy.pseudonymiser.pseudonym('u-1'), new Date());
    const now = Date.parse('2026-11-01T00:00:00Z');
    const sql = await trainEmbedded(options(files('parquet'), { privacy: { pseudonymiser: privacy.pseudonymiser, erased: privacy.erased, retentionDays: 60, now: () => now } }));
    expect(sql.staged.dropped.erased).toBeGreaterThan(0);
    expect(sql.staged.dropped.expired).toBeGreaterThan(0);
    expect(sql.data.userIds).not.toContain(privacy.pseudonymiser.pseudonym('u-1'));
    expect(sql.data.userIds.every((id) => PSEUDONYM_PATTERN.test(id))).toBe(true);
    expect(new Date(sql.data.window.from!).getTime()).toBeGreaterThanOrEqual(now - 60 * 86_400_000);
    // privatiseEvents measures the retention from Date.now(): the same cut for the in-memory trainer.
    const realNow = Date.now;
    Date.now = () => now;
    try {
      expect(modelDiff(await inMemory(privacy), sql.data, cfg.engine)).toEqual([]);
    } finally {
      Date.now = realNow;
    }
  }, 60_000);
});
