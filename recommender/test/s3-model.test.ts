/**
 * Models through S3-compatible object storage, against a real SeaweedFS S3 gateway (hack/seaweedfs.ts):
 * the trainer CLI reads its input from the bucket and uploads a version; a scoring pod's store mirrors it into
 * its own directory, checking every file against the manifest, and serves it; a tampered version is refused
 * and the previous one keeps serving. The scoring side uses a read-only identity, from files, as in the pod.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSeaweedFs, type S3Credentials, type SeaweedFs } from '../../hack/seaweedfs.js';
import { parseConfig } from '../src/config.js';
import { Catalog } from '../src/engine/catalog.js';
import { writeJsonl } from '../src/data/jsonl.js';
import { writeArtifact } from '../src/model/artifact.js';
import { uploadVersion } from '../src/model/s3-publish.js';
import { S3_ENV, S3ModelSource, listRemoteVersions, openBucket, s3LocationFromEnv, type Bucket, type S3Location } from '../src/model/s3-source.js';
import { ModelStore } from '../src/model/store.js';
import { RecommenderService } from '../src/service.js';
import { CAMERA_SHOP, ordersToEvents, repeat, silent, trainModel } from './fixtures.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cfg = parseConfig({});
const BUCKET = 'shop-models';
let s3: SeaweedFs;
let admin: S3Client;
const dirs: string[] = [];

beforeAll(async () => {
  s3 = await startSeaweedFs({ buckets: [BUCKET] });
  admin = s3.client(s3.admin);
}, 90_000);
afterAll(async () => {
  admin?.destroy();
  await s3?.stop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
}, 30_000);

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'tandem-s3-'));
  dirs.push(d);
  return d;
}

/** A credentials directory as the pod mounts it from the Secret (a trailing newline, as `--from-file` leaves). */
async function credentialsDir(c: S3Credentials): Promise<string> {
  const d = await tempDir();
  await writeFile(join(d, 'access-key-id'), `${c.accessKeyId}\n`);
  await writeFile(join(d, 'secret-access-key'), `${c.secretAccessKey}\n`);
  return d;
}

const location = (prefix: string, credentials?: string): S3Location => ({
  bucket: BUCKET,
  prefix,
  endpoint: s3.endpoint,
  region: s3.region,
  forcePathStyle: true,
  ...(credentials ? { credentialsDir: credentials } : {}),
});

/** The scoring pod's side: a store over its own directory, mirroring the bucket as the reader. */
async function scoringPod(prefix: string, pinned?: string) {
  const dir = await tempDir();
  const catalog = new Catalog();
  const bucket = openBucket(location(prefix, await credentialsDir(s3.reader)));
  const source = new S3ModelSource({ bucket, dir, ...(pinned ? { pinned } : {}), logger: silent, onRefused: (v, reason) => store.refused.set(v, reason) });
  const store = new ModelStore({ dir, catalog, engine: cfg.engine, logger: silent, source, ...(pinned ? { pinned } : {}) });
  return { dir, store, source, bucket, service: new RecommenderService({ catalog, store, config: cfg }) };
}

/** Trains a small model locally and uploads it as the trainer would; returns its version. */
async function publish(bucket: Bucket, orders: string[][], createdAt: string): Promise<string> {
  const out = await tempDir();
  const m = await writeArtifact(out, trainModel(CAMERA_SHOP, ordersToEvents(orders), cfg), { metrics: {}, config: cfg, createdAt: new Date(createdAt) });
  await uploadVersion(bucket, out, m.version);
  return m.version;
}

const put = (key: string, body: string | Buffer) => admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
const get = async (key: string) => Buffer.from(await (await admin.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToByteArray());
const v1Orders = [...repeat(6, ['cam-1', 'card-1']), ...repeat(4, ['mug-1', 'beans-1'])];
const v2Orders = [...repeat(6, ['cam-1', 'tri-1']), ...repeat(4, ['mug-1', 'beans-1'])];
const adminBucket = (prefix: string) => ({ location: location(prefix), client: admin });

describe('the trainer with models in object storage', () => {
  it('When the retraining job runs with the bucket in its environment, Then it trains on the bucket\'s data, uploads the version and prunes beyond keepVersions', { timeout: 120_000 }, async () => {
    const prefix = 'trainer/';
    await put(`${prefix}data/catalog.jsonl`, CAMERA_SHOP.map((i) => JSON.stringify(i)).join('\n') + '\n');
    const scratch = await tempDir();
    const creds = await credentialsDir(s3.admin);
    const env = {
      ...process.env,
      [S3_ENV.BUCKET]: BUCKET,
      [S3_ENV.PREFIX]: prefix,
      [S3_ENV.ENDPOINT]: s3.endpoint,
      [S3_ENV.FORCE_PATH_STYLE]: 'true',
      [S3_ENV.CREDENTIALS_DIR]: creds,
      TANDEM_KEEP_VERSIONS: '2',
      TANDEM_MODEL_VERSION: '',
    };
    const written: string[] = [];
    for (let k = 0; k < 3; k++) {
      const events = join(scratch, 'events.jsonl');
      await writeJsonl(events, ordersToEvents([...repeat(5 + k, ['cam-1', 'card-1']), ...repeat(4, ['mug-1', 'beans-1'])]));
      await put(`${prefix}data/events.jsonl`, await readFile(events));
      await rm(join(scratch, 'models'), { recursive: true, force: true });
      // The CronJob's arguments, with the scratch volume standing in for /models.
      const args = ['train', '--catalog', join(scratch, 'models/data/catalog.jsonl'), '--events', join(scratch, 'models/data/events.jsonl'), '--out', join(scratch, 'models/versions'), '--skip-metrics'];
      const run = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'recommender/src/main.ts'), ...args], { cwd: root, encoding: 'utf8', env });
      expect(run.status, run.stderr).toBe(0);
      const version = /^model (\S+) written/m.exec(run.stdout)![1]!;
      expect(run.stdout).toContain(`uploaded to s3://${BUCKET}/${prefix}versions/${version}/`);
      written.push(version);
    }
    const pod = await scoringPod(prefix);
    await pod.store.follow();
    expect(pod.store.activeManifest?.version).toBe(written[2]);
    expect((await readdir(pod.dir)).sort()).toEqual(written.slice(1));
    // The third run pruned the first version from the bucket.
    expect(await listRemoteVersions(pod.bucket)).toEqual(written.slice(1));
  });

  it('When the training data is missing from the bucket, Then the job fails naming the object', { timeout: 60_000 }, async () => {
    const scratch = await tempDir();
    const env = { ...process.env, [S3_ENV.BUCKET]: BUCKET, [S3_ENV.PREFIX]: 'nothing-here/', [S3_ENV.ENDPOINT]: s3.endpoint, [S3_ENV.FORCE_PATH_STYLE]: 'true', [S3_ENV.CREDENTIALS_DIR]: await credentialsDir(s3.admin) };
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'recommender/src/main.ts'), 'train', '--catalog', join(scratch, 'data/catalog.jsonl'), '--events', join(scratch, 'data/events.jsonl'), '--out', join(scratch, 'versions')], { cwd: root, encoding: 'utf8', env });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(`s3://${BUCKET}/nothing-here/data/catalog.jsonl`);
  });
});

describe('a scoring pod with models in object storage', () => {
  it('When a version is in the bucket, Then the pod downloads it with read-only credentials, verifies it and serves it', { timeout: 30_000 }, async () => {
    const v1 = await publish(adminBucket('serve/'), v1Orders, '2026-11-01T00:00:00Z');
    const pod = await scoringPod('serve/');
    expect(pod.store.active).toBeNull();
    await pod.store.follow();
    expect(pod.store.activeManifest?.version).toBe(v1);
    expect((await pod.service.recommend({ intent: 'cross-sell', items: ['cam-1'], limit: 3 })).items[0]?.id).toBe('card-1');
  });

  it('When a newer version is uploaded, Then the next poll switches to it without a restart, keeping the previous one for rollback', { timeout: 30_000 }, async () => {
    const v1 = await publish(adminBucket('switch/'), v1Orders, '2026-11-01T00:00:00Z');
    const pod = await scoringPod('switch/');
    await pod.store.follow();
    expect(pod.store.activeManifest?.version).toBe(v1);
    const v2 = await publish(adminBucket('switch/'), v2Orders, '2026-11-02T00:00:00Z');
    await pod.store.follow();
    expect(pod.store.activeManifest?.version).toBe(v2);
    expect((await pod.service.recommend({ intent: 'cross-sell', items: ['cam-1'], limit: 3 })).items[0]?.id).toBe('tri-1');
    expect((await readdir(pod.dir)).sort()).toEqual([v1, v2]);
  });

  it('When a version\'s file does not match its manifest, Then it is refused, never installed nor fetched again, and the old version keeps serving', { timeout: 30_000 }, async () => {
    const prefix = 'tampered/';
    const v1 = await publish(adminBucket(prefix), v1Orders, '2026-11-01T00:00:00Z');
    const pod = await scoringPod(prefix);
    await pod.store.follow();
    const v2 = await publish(adminBucket(prefix), v2Orders, '2026-11-02T00:00:00Z');
    const bin = await get(`${prefix}versions/${v2}/arrays.bin`);
    bin.writeUInt8(bin.readUInt8(bin.length - 1) ^ 0xff, bin.length - 1);
    await put(`${prefix}versions/${v2}/arrays.bin`, bin);

    const first = await pod.source.sync();
    expect(first.refused).toEqual([v2]);
    await pod.store.follow();
    expect(pod.store.activeManifest?.version).toBe(v1);
    expect(await readdir(pod.dir)).toEqual([v1]);
    expect((await pod.store.list()).refused).toEqual([{ version: v2, reason: expect.stringMatching(/arrays\.bin: sha256 .* does not match the manifest's/) }]);
    expect(await pod.source.sync()).toEqual({ downloaded: [], refused: [], removed: [] });
  });

  it('When a version has no manifest yet (its upload is running), Then it is skipped until the manifest arrives', { timeout: 30_000 }, async () => {
    const prefix = 'partial/';
    const out = await tempDir();
    const m = await writeArtifact(out, trainModel(CAMERA_SHOP, ordersToEvents(v1Orders), cfg), { metrics: {}, config: cfg });
    for (const f of ['meta.json', 'arrays.bin']) await put(`${prefix}versions/${m.version}/${f}`, await readFile(join(out, m.version, f)));
    const pod = await scoringPod(prefix);
    expect((await pod.source.sync()).downloaded).toEqual([]);
    await put(`${prefix}versions/${m.version}/manifest.json`, await readFile(join(out, m.version, 'manifest.json')));
    await pod.store.follow();
    expect(pod.store.activeManifest?.version).toBe(m.version);
  });

  it('When a version is pinned, Then only that version is mirrored and served', { timeout: 30_000 }, async () => {
    const prefix = 'pinned/';
    const v1 = await publish(adminBucket(prefix), v1Orders, '2026-11-01T00:00:00Z');
    await publish(adminBucket(prefix), v2Orders, '2026-11-02T00:00:00Z');
    const pod = await scoringPod(prefix, v1);
    await pod.store.follow();
    expect(pod.store.activeManifest?.version).toBe(v1);
    expect(await readdir(pod.dir)).toEqual([v1]);
  });

  it('When the object store cannot be reached, Then the pod keeps serving the model it has', { timeout: 30_000 }, async () => {
    const pod = await scoringPod('serve/');
    await pod.store.follow();
    const active = pod.store.activeManifest?.version;
    const unreachable = new S3ModelSource({ bucket: openBucket({ ...location('serve/'), endpoint: 'http://127.0.0.1:9' }), dir: pod.dir, logger: silent });
    await expect(unreachable.sync()).rejects.toThrow();
    const store = new ModelStore({ dir: pod.dir, catalog: new Catalog(), engine: cfg.engine, logger: silent, source: unreachable });
    await store.follow();
    expect(store.activeManifest?.version).toBe(active);
  });

  it('When the credentials files hold a wrong key, Then the sync fails with the store\'s answer', { timeout: 30_000 }, async () => {
    const bucket = openBucket(location('serve/', await credentialsDir({ accessKeyId: 'tandem-reader', secretAccessKey: 'wrong' })));
    await expect(new S3ModelSource({ bucket, dir: await tempDir() }).sync()).rejects.toThrow(/signature|denied|SignatureDoesNotMatch/i);
  });

  it('When the local directory holds other entries, Then the mirror leaves them alone', { timeout: 30_000 }, async () => {
    const pod = await scoringPod('serve/');
    await mkdir(join(pod.dir, '.cache'));
    await pod.source.sync();
    expect(await readdir(pod.dir)).toContain('.cache');
  });

  it('When the reader tries to write, Then the store refuses: scoring pods need read access only', { timeout: 30_000 }, async () => {
    const reader = s3.client(s3.reader);
    try {
      await expect(reader.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'serve/versions/x/manifest.json', Body: '{}' }))).rejects.toThrow(/denied/i);
    } finally {
      reader.destroy();
    }
  });
});

describe('s3LocationFromEnv', () => {
  it('When no bucket is set, Then the volume is used', () => {
    expect(s3LocationFromEnv({})).toBeUndefined();
  });

  it('When the render\'s variables are set, Then they are read with their defaults', () => {
    expect(s3LocationFromEnv({ [S3_ENV.BUCKET]: 'b', [S3_ENV.PREFIX]: 'p/', [S3_ENV.FORCE_PATH_STYLE]: 'true', [S3_ENV.CREDENTIALS_DIR]: '/run/secrets/tandem-s3' })).toEqual({
      bucket: 'b',
      prefix: 'p/',
      region: 'us-east-1',
      forcePathStyle: true,
      credentialsDir: '/run/secrets/tandem-s3',
    });
  });

  it.each([
    [{ [S3_ENV.PREFIX]: 'shop' }, "'TANDEM_MODEL_S3_PREFIX' (shop) must be empty or end in '/'"],
    [{ [S3_ENV.ENDPOINT]: 'seaweedfs:8333' }, "'TANDEM_MODEL_S3_ENDPOINT' (seaweedfs:8333) must be an http(s) URL"],
    [{ [S3_ENV.FORCE_PATH_STYLE]: 'yes' }, "'TANDEM_MODEL_S3_FORCE_PATH_STYLE' (yes) must be true or false"],
  ])('When %j, Then startup fails with: %s', (extra, message) => {
    expect(() => s3LocationFromEnv({ [S3_ENV.BUCKET]: 'b', ...extra })).toThrow(message);
  });
});

