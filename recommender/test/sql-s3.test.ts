/**
 * `s3://` inputs through the embedded engine's own object-store support (DuckDB's httpfs, installed from PyPI
 * by `npm run tools`), against a real S3-compatible store (SeaweedFS, hack/seaweedfs.ts): a warehouse's
 * nightly export as a prefix of Parquet part files, credentials as the trainer pod mounts them.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSeaweedFs, type SeaweedFs } from '../../hack/seaweedfs.js';
import { parseConfig } from '../src/config.js';
import { writeJsonl } from '../src/data/jsonl.js';
import { DEMO_HMAC_KEY, Privacy } from '../src/privacy/privacy.js';
import { MemorySubjectSet } from '../src/privacy/subject-set.js';
import { trainEmbedded } from '../src/sql/engines.js';
import { modelDiff } from '../src/sql/model-diff.js';
import { jsonlToParquet } from '../src/sql/parquet-files.js';
import { CAMERA_SHOP, ordersToEvents, repeat } from './fixtures.js';

const BUCKET = 'warehouse';
const cfg = parseConfig({});
let s3: SeaweedFs;
let admin: S3Client;
let dir: string;

beforeAll(async () => {
  s3 = await startSeaweedFs({ buckets: [BUCKET] });
  admin = s3.client(s3.admin);
  dir = await mkdtemp(join(tmpdir(), 'tandem-sql-s3-'));
}, 90_000);
afterAll(async () => {
  admin?.destroy();
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
}, 30_000);

describe('Parquet in object storage', () => {
  it('When the events are a prefix of Parquet part files in a bucket, Then the embedded engine reads them in place and trains the model it trains from local files', async () => {
    await writeJsonl(join(dir, 'catalog.jsonl'), CAMERA_SHOP);
    const orders = [...repeat(12, ['cam-1', 'card-1']), ...repeat(8, ['cam-1', 'tri-1']), ...repeat(10, ['mug-1', 'beans-1'])];
    const events = ordersToEvents(orders);
    // Two part files, as an export job writes them; together they are the local file.
    await writeJsonl(join(dir, 'part-0.jsonl'), events.slice(0, 30));
    await writeJsonl(join(dir, 'part-1.jsonl'), events.slice(30));
    await writeJsonl(join(dir, 'events.jsonl'), events);
    for (const part of ['part-0', 'part-1']) {
      await jsonlToParquet('events', join(dir, `${part}.jsonl`), join(dir, `${part}.parquet`), join(dir, `.s-${part}`));
      await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: `exports/2026-11-01/events/${part}.parquet`, Body: await readFile(join(dir, `${part}.parquet`)) }));
    }
    const creds = join(dir, 'creds');
    await mkdir(creds);
    await writeFile(join(creds, 'access-key-id'), `${s3.reader.accessKeyId}\n`);
    await writeFile(join(creds, 'secret-access-key'), `${s3.reader.secretAccessKey}\n`);
    const base = {
      catalog: join(dir, 'catalog.jsonl'),
      engine: cfg.engine,
      privacy: { pseudonymiser: Privacy.inMemory(DEMO_HMAC_KEY).pseudonymiser, erased: new MemorySubjectSet() },
      say: () => undefined,
    };
    const remote = await trainEmbedded({
      ...base,
      events: `s3://${BUCKET}/exports/2026-11-01/events/`,
      s3: { bucket: BUCKET, prefix: '', endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentialsDir: creds },
      scratch: join(dir, 'scratch-remote'),
    });
    expect(remote.staged.files.map((f) => [f.file, f.records])).toEqual([
      [join(dir, 'catalog.jsonl'), CAMERA_SHOP.length],
      [`s3://${BUCKET}/exports/2026-11-01/events/part-0.parquet`, 30],
      [`s3://${BUCKET}/exports/2026-11-01/events/part-1.parquet`, events.length - 30],
    ]);
    const local = await trainEmbedded({ ...base, events: join(dir, 'events.jsonl'), scratch: join(dir, 'scratch-local') });
    expect(remote.data.counts.orders).toBe(orders.length);
    expect(modelDiff(remote.data, local.data, cfg.engine)).toEqual([]);
  }, 120_000);
});
