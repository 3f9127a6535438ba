/**
 * Model versions in S3-compatible object storage (`spec.model.storage.type: s3`), for clusters without a
 * ReadWriteMany volume. The bucket holds, under its key prefix:
 *
 *   versions/<version>/meta.json, arrays.bin, manifest.json   (manifest last: a version is complete once it has one)
 *   data/catalog.jsonl, data/events.jsonl                     (the trainer's input, written by the shop's pipeline)
 *
 * `S3ModelSource` is the scoring side: before each look at the model directory, the store's watcher asks it to
 * mirror the versions it may serve into that (local) directory. Every file is checked against the manifest's
 * sha256 and size as it streams in; a version that fails is never installed, is reported as refused, and is not
 * fetched again. The store then verifies the artifact once more when it activates it, as for a local volume.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import { ConfigError } from '../config.js';
import { ARTIFACT_FORMAT, listVersions, type Manifest } from './artifact.js';

/** The environment the render sets in s3 mode (cdk8s/constants.ts `Env.MODEL_S3_*`); the bucket switches it on. */
export const S3_ENV = {
  BUCKET: 'TANDEM_MODEL_S3_BUCKET',
  PREFIX: 'TANDEM_MODEL_S3_PREFIX',
  ENDPOINT: 'TANDEM_MODEL_S3_ENDPOINT',
  REGION: 'TANDEM_MODEL_S3_REGION',
  FORCE_PATH_STYLE: 'TANDEM_MODEL_S3_FORCE_PATH_STYLE',
  /** A directory with the files `access-key-id` and `secret-access-key` (the mounted Secret). */
  CREDENTIALS_DIR: 'TANDEM_MODEL_S3_CREDENTIALS_DIR',
} as const;

export interface S3Location {
  readonly bucket: string;
  /** Empty, or ending in `/`. */
  readonly prefix: string;
  /** Unset for AWS S3. */
  readonly endpoint?: string;
  readonly region: string;
  readonly forcePathStyle: boolean;
  /** Without it, the SDK's default credential chain. */
  readonly credentialsDir?: string;
}

/** The object store named by the environment, or undefined when TANDEM_MODEL_S3_BUCKET is unset. */
export function s3LocationFromEnv(env: NodeJS.ProcessEnv): S3Location | undefined {
  const bucket = env[S3_ENV.BUCKET];
  if (!bucket) return undefined;
  const prefix = env[S3_ENV.PREFIX] ?? '';
  if (prefix !== '' && (!prefix.endsWith('/') || prefix.startsWith('/'))) {
    throw new ConfigError(`invalid config: '${S3_ENV.PREFIX}' (${prefix}) must be empty or end in '/', and not start with one`);
  }
  const endpoint = env[S3_ENV.ENDPOINT] || undefined;
  if (endpoint !== undefined && !/^https?:\/\/\S+$/.test(endpoint)) throw new ConfigError(`invalid config: '${S3_ENV.ENDPOINT}' (${endpoint}) must be an http(s) URL`);
  const pathStyle = env[S3_ENV.FORCE_PATH_STYLE] ?? 'false';
  if (pathStyle !== 'true' && pathStyle !== 'false') throw new ConfigError(`invalid config: '${S3_ENV.FORCE_PATH_STYLE}' (${pathStyle}) must be true or false`);
  return {
    bucket,
    prefix,
    ...(endpoint ? { endpoint } : {}),
    region: env[S3_ENV.REGION] || 'us-east-1',
    forcePathStyle: pathStyle === 'true',
    ...(env[S3_ENV.CREDENTIALS_DIR] ? { credentialsDir: env[S3_ENV.CREDENTIALS_DIR] } : {}),
  };
}

/** How often mounted credentials are read again, so a rotated Secret is used without a restart. */
const CREDENTIALS_REFRESH_MS = 60_000;

/** A bucket location with its client: what every object-store function takes. */
export interface Bucket {
  readonly location: S3Location;
  readonly client: S3Client;
}

/** The bucket at `location`, with a client made for it. */
export function openBucket(location: S3Location): Bucket {
  return { location, client: s3Client(location) };
}

/**
 * An S3 client for the location. Checksums are computed only where the S3 API requires them: the SDK's
 * default (a CRC32 on every upload) is refused by some S3-compatible stores.
 */
export function s3Client(location: S3Location): S3Client {
  const dir = location.credentialsDir;
  return new S3Client({
    region: location.region,
    forcePathStyle: location.forcePathStyle,
    ...(location.endpoint ? { endpoint: location.endpoint } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // A store that stops answering must not hold the model watcher forever (idle socket, not total, time).
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
    ...(dir
      ? {
          credentials: async () => {
            const read = async (file: string) => {
              try {
                return (await readFile(join(dir, file), 'utf8')).trim();
              } catch (err) {
                throw new Error(`failed to read the object store credentials ${join(dir, file)}: ${(err as Error).message}`, { cause: err });
              }
            };
            return { accessKeyId: await read('access-key-id'), secretAccessKey: await read('secret-access-key'), expiration: new Date(Date.now() + CREDENTIALS_REFRESH_MS) };
          },
        }
      : {}),
  });
}

/** Object keys of the layout above. */
export const keys = {
  versions: (l: S3Location) => `${l.prefix}versions/`,
  file: (l: S3Location, version: string, file: string) => `${l.prefix}versions/${version}/${file}`,
  data: (l: S3Location, file: string) => `${l.prefix}data/${file}`,
};

/** Where an object is, for messages. */
export const where = (l: S3Location, key: string) => `s3://${l.bucket}/${key}`;

/** A version or file name that is safe as a path segment (no `/`, no `..`). */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** The files of an artifact besides its manifest (artifact.ts writes exactly these). */
const ARTIFACT_FILES = ['meta.json', 'arrays.bin'] as const;

/**
 * Every complete version in the bucket (one with a manifest: the trainer uploads it last) that has a safe name,
 * oldest first (version ids sort by creation time). Objects are listed, not "folders": some stores keep an
 * emptied prefix listed after its objects are deleted.
 */
export async function listRemoteVersions({ client, location }: Bucket): Promise<string[]> {
  const prefix = keys.versions(location);
  const versions: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: location.bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      const [name, file, ...rest] = (o.Key ?? '').slice(prefix.length).split('/');
      if (name && file === 'manifest.json' && rest.length === 0 && SAFE_NAME.test(name)) versions.push(name);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return versions.sort();
}

/** Raised for a version whose files do not match its manifest; it is refused, never installed. */
export class RemoteArtifactError extends Error {
  override readonly name = 'RemoteArtifactError';
}

/** The object's body, or undefined when there is no such key. */
async function getObject({ client, location }: Bucket, key: string): Promise<Readable | undefined> {
  try {
    const res = await client.send(new GetObjectCommand({ Bucket: location.bucket, Key: key }));
    return res.Body as Readable;
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchKey') return undefined;
    throw new Error(`failed to get ${where(location, key)}: ${(err as Error).message}`, { cause: err });
  }
}

/** Streams an object to `path`; returns its sha256 and size. Throws when the key does not exist. */
export async function downloadObject(bucket: Bucket, key: string, path: string): Promise<{ sha256: string; bytes: number }> {
  const { location } = bucket;
  const body = await getObject(bucket, key);
  if (!body) throw new Error(`failed to get ${where(location, key)}: no such key`);
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  try {
    await pipeline(body, tap, createWriteStream(path));
  } catch (err) {
    throw new Error(`failed to download ${where(location, key)} to ${path}: ${(err as Error).message}`, { cause: err });
  }
  return { sha256: hash.digest('hex'), bytes };
}

export interface S3ModelSourceOptions {
  readonly bucket: Bucket;
  /** The local model directory the store reads (`serve --model-dir`). */
  readonly dir: string;
  /** `TANDEM_MODEL_VERSION`: mirror only this version; `latest` or unset mirrors the newest. */
  readonly pinned?: string;
  /** Newest versions kept in the local directory (the active one and a rollback). Default 2. */
  readonly keep?: number;
  readonly logger?: Logger;
  /** Told about each version refused at download, once. */
  readonly onRefused?: (version: string, reason: string) => void;
}

/** What one sync did. */
export interface SyncResult {
  readonly downloaded: string[];
  readonly refused: string[];
  readonly removed: string[];
}

/** The scoring pod's mirror of the bucket (see the module comment). */
export class S3ModelSource {
  private readonly refused = new Map<string, string>();
  private running: Promise<SyncResult> | undefined;

  constructor(private readonly opts: S3ModelSourceOptions) {}

  /** Mirrors the versions to serve; concurrent calls share one run. Throws (with the bucket named) when the store is unreachable. */
  sync(): Promise<SyncResult> {
    this.running ??= this.doSync().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async doSync(): Promise<SyncResult> {
    const { bucket, dir, pinned } = this.opts;
    const { location } = bucket;
    const remote = await listRemoteVersions(bucket);
    const candidates = remote.filter((v) => !this.refused.has(v));
    const wanted = pinned && pinned !== 'latest' ? candidates.filter((v) => v === pinned) : candidates.slice(-(this.opts.keep ?? 2));
    const local = new Set(await listVersions(dir));
    const result: SyncResult = { downloaded: [], refused: [], removed: [] };
    // Newest first, so the version to serve arrives before older ones.
    for (const version of [...wanted].reverse()) {
      if (local.has(version)) continue;
      try {
        if (await this.download(version)) result.downloaded.push(version);
      } catch (err) {
        if (!(err instanceof RemoteArtifactError)) throw err;
        this.refused.set(version, err.message);
        result.refused.push(version);
        this.opts.logger?.error({ version, reason: err.message, bucket: location.bucket }, 'refused model artifact from the object store; keeping the active model');
        this.opts.onRefused?.(version, err.message);
      }
    }
    for (const version of local) {
      if (wanted.includes(version) || !SAFE_NAME.test(version)) continue;
      await rm(join(dir, version), { recursive: true, force: true });
      result.removed.push(version);
    }
    if (result.downloaded.length > 0 || result.removed.length > 0) this.opts.logger?.info({ ...result, bucket: location.bucket }, 'synced model versions from the object store');
    return result;
  }

  /**
   * Downloads one version into a hidden directory, checking each file against the manifest, then renames it
   * into place. False when the version has no manifest yet (its upload is still running).
   */
  private async download(version: string): Promise<boolean> {
    const { bucket, dir } = this.opts;
    const { location } = bucket;
    const manifestKey = keys.file(location, version, 'manifest.json');
    const body = await getObject(bucket, manifestKey);
    if (!body) return false;
    const text = Buffer.concat(await body.toArray()).toString('utf8');
    const manifest = parseManifest(text, where(location, manifestKey), version);
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `.download-${version}`);
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp);
    try {
      for (const file of ARTIFACT_FILES) {
        const expected = manifest.files[file]!;
        const got = await downloadObject(bucket, keys.file(location, version, file), join(tmp, file));
        if (got.sha256 !== expected.sha256 || got.bytes !== expected.bytes) {
          throw new RemoteArtifactError(
            `${where(location, keys.file(location, version, file))}: sha256 ${got.sha256.slice(0, 12)}… (${got.bytes} bytes) does not match the manifest's ${expected.sha256.slice(0, 12)}… (${expected.bytes} bytes)`,
          );
        }
      }
      await writeFile(join(tmp, 'manifest.json'), text);
      await rename(tmp, join(dir, version));
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
    return true;
  }
}

/** The manifest of `version`, checked enough to trust its file list; RemoteArtifactError otherwise. */
function parseManifest(text: string, at: string, version: string): Manifest {
  let m: Manifest;
  try {
    m = JSON.parse(text) as Manifest;
  } catch (err) {
    throw new RemoteArtifactError(`${at} is not JSON: ${(err as Error).message}`);
  }
  if (m.format !== ARTIFACT_FORMAT) throw new RemoteArtifactError(`${at}: unsupported format '${String(m.format)}' (want '${ARTIFACT_FORMAT}')`);
  if (m.version !== version) throw new RemoteArtifactError(`${at}: manifest is for version '${String(m.version)}'`);
  for (const file of ARTIFACT_FILES) {
    const f = m.files?.[file];
    if (!f || !/^[0-9a-f]{64}$/.test(f.sha256) || !Number.isInteger(f.bytes) || f.bytes < 0) throw new RemoteArtifactError(`${at}: no sha256 and size for ${file}`);
  }
  return m;
}
