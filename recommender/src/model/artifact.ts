/**
 * Model artifacts: an immutable directory per version holding `manifest.json` (version, sha256,
 * training window, counts, offline metrics, config), `meta.json` (catalogue snapshot, shopper
 * ids, array layout) and `arrays.bin` (the typed arrays). The sha256 covers meta.json then
 * arrays.bin; reading recomputes it and refuses any mismatch.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ARRAY_TYPES, checkModel, type ModelArrays, type ModelData } from '../engine/model.js';
import type { CatalogItem } from '../schemas.js';

export const ARTIFACT_FORMAT = 'tandem-model/2';

export interface Manifest {
  format: string;
  version: string;
  createdAt: string;
  sha256: string;
  files: Record<string, { sha256: string; bytes: number }>;
  window: { from: string | null; to: string | null };
  counts: Record<string, number>;
  metrics: Record<string, number>;
  config: unknown;
}

interface Meta {
  items: CatalogItem[];
  userIds: string[];
  basketTotal: number;
  counts: Record<string, number>;
  window: { from: string | null; to: string | null };
  layout: Record<string, { type: 'f32' | 'i32' | 'u8'; offset: number; length: number }>;
}

/** Raised when an artifact is corrupt, tampered with or of another format. */
export class ArtifactError extends Error {
  override readonly name: string = 'ArtifactError';
}

/** Raised when the version asked for is not in the model directory (nor trained in memory). */
export class VersionNotFoundError extends ArtifactError {
  override readonly name = 'VersionNotFoundError';
  constructor(readonly version: string) {
    super(`model version '${version}' does not exist`);
  }
}

const BYTES = { f32: 4, i32: 4, u8: 1 } as const;

export interface Serialized {
  meta: Buffer;
  bin: Buffer;
  sha256: string;
}

export function serialize(data: ModelData): Serialized {
  const layout: Meta['layout'] = {};
  const parts: Buffer[] = [];
  let offset = 0;
  for (const [name, type] of Object.entries(ARRAY_TYPES)) {
    const arr = data.arrays[name as keyof ModelArrays];
    const pad = (8 - (offset % 8)) % 8;
    if (pad) parts.push(Buffer.alloc(pad));
    offset += pad;
    layout[name] = { type, offset, length: arr.length };
    const buf = Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength);
    parts.push(buf);
    offset += buf.length;
  }
  const meta: Meta = {
    items: data.items,
    userIds: data.userIds,
    basketTotal: data.basketTotal,
    counts: data.counts,
    window: data.window,
    layout,
  };
  const metaBuf = Buffer.from(JSON.stringify(meta));
  const bin = Buffer.concat(parts);
  return { meta: metaBuf, bin, sha256: createHash('sha256').update(metaBuf).update(bin).digest('hex') };
}

export function deserialize(metaBuf: Buffer, bin: Buffer): ModelData {
  let meta: Meta;
  try {
    meta = JSON.parse(metaBuf.toString('utf8')) as Meta;
  } catch (err) {
    throw new ArtifactError(`meta.json is not JSON: ${(err as Error).message}`);
  }
  const arrays: Partial<Record<string, ArrayLike<number>>> = {};
  for (const [name, type] of Object.entries(ARRAY_TYPES)) {
    const l = meta.layout?.[name];
    if (!l || l.type !== type) throw new ArtifactError(`array '${name}' is missing or not ${type}`);
    const bytes = l.length * BYTES[type];
    if (l.offset < 0 || l.offset + bytes > bin.length) throw new ArtifactError(`array '${name}' lies outside arrays.bin`);
    const ab = bin.buffer.slice(bin.byteOffset + l.offset, bin.byteOffset + l.offset + bytes);
    arrays[name] = type === 'f32' ? new Float32Array(ab) : type === 'i32' ? new Int32Array(ab) : new Uint8Array(ab);
  }
  const data: ModelData = {
    items: meta.items,
    userIds: meta.userIds,
    basketTotal: meta.basketTotal,
    arrays: arrays as unknown as ModelArrays,
    counts: meta.counts,
    window: meta.window,
  };
  const problem = checkModel(data);
  if (problem) throw new ArtifactError(`model is inconsistent: ${problem}`);
  return data;
}

/** What `versionId` makes: creation time (UTC, to the second), then the first 12 hex digits of the sha256. */
export const VERSION_ID = /^\d{8}T\d{6}Z-[0-9a-f]{12}$/;

export function versionId(createdAt: Date, sha256: string): string {
  const ts = createdAt.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${ts}-${sha256.slice(0, 12)}`;
}

export function buildManifest(
  s: Serialized,
  data: ModelData,
  extra: { metrics: Record<string, number>; config: unknown; createdAt?: Date },
): Manifest {
  const createdAt = extra.createdAt ?? new Date();
  return {
    format: ARTIFACT_FORMAT,
    version: versionId(createdAt, s.sha256),
    createdAt: createdAt.toISOString(),
    sha256: s.sha256,
    files: {
      'meta.json': { sha256: createHash('sha256').update(s.meta).digest('hex'), bytes: s.meta.length },
      'arrays.bin': { sha256: createHash('sha256').update(s.bin).digest('hex'), bytes: s.bin.length },
    },
    window: data.window,
    counts: data.counts,
    metrics: extra.metrics,
    config: extra.config,
  };
}

/**
 * A creation time whose version id sorts after every version in the directory: "newest" is the greatest
 * id (the store follows it, pruning keeps it), so a version written within the same second as an
 * earlier one is dated a second after it.
 */
function afterExisting(createdAt: Date, existing: readonly string[]): Date {
  const newest = existing.filter((v) => VERSION_ID.test(v)).at(-1);
  if (newest === undefined) return createdAt;
  const s = newest.slice(0, 16); // YYYYMMDDTHHMMSSZ
  const newestSecond = Date.UTC(+s.slice(0, 4), +s.slice(4, 6) - 1, +s.slice(6, 8), +s.slice(9, 11), +s.slice(11, 13), +s.slice(13, 15));
  return Math.floor(createdAt.getTime() / 1000) * 1000 > newestSecond ? createdAt : new Date(newestSecond + 1000);
}

/** Writes a new immutable version under `outDir` (written aside, then renamed into place). */
export async function writeArtifact(
  outDir: string,
  data: ModelData,
  extra: { metrics: Record<string, number>; config: unknown; createdAt?: Date },
): Promise<Manifest> {
  const s = serialize(data);
  await mkdir(outDir, { recursive: true });
  const manifest = buildManifest(s, data, { ...extra, createdAt: afterExisting(extra.createdAt ?? new Date(), await listVersions(outDir)) });
  const tmp = join(outDir, `.tmp-${randomBytes(6).toString('hex')}`);
  await mkdir(tmp);
  try {
    await writeFile(join(tmp, 'meta.json'), s.meta);
    await writeFile(join(tmp, 'arrays.bin'), s.bin);
    await writeFile(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    for (const f of ['meta.json', 'arrays.bin', 'manifest.json']) await chmod(join(tmp, f), 0o444);
    const dest = join(outDir, manifest.version);
    if (await exists(dest)) throw new ArtifactError(`version ${manifest.version} already exists in ${outDir}`);
    await rename(tmp, dest);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return manifest;
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

export async function readManifest(dir: string): Promise<Manifest> {
  let m: Manifest;
  try {
    m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  } catch (err) {
    throw new ArtifactError(`failed to read manifest: ${(err as Error).message}`);
  }
  if (m.format !== ARTIFACT_FORMAT) throw new ArtifactError(`unsupported format '${String(m.format)}' (want '${ARTIFACT_FORMAT}')`);
  return m;
}

/** Reads and verifies one version: format, version id, per-file and overall sha256, consistency. */
export async function readArtifact(outDir: string, version: string): Promise<{ manifest: Manifest; data: ModelData }> {
  const dir = join(outDir, version);
  if (!(await exists(dir))) throw new VersionNotFoundError(version);
  const manifest = await readManifest(dir);
  if (manifest.version !== version) throw new ArtifactError(`manifest names version '${manifest.version}', directory is '${version}'`);
  let meta: Buffer;
  let bin: Buffer;
  try {
    meta = await readFile(join(dir, 'meta.json'));
    bin = await readFile(join(dir, 'arrays.bin'));
  } catch (err) {
    throw new ArtifactError(`failed to read model files: ${(err as Error).message}`);
  }
  for (const [name, buf] of [['meta.json', meta], ['arrays.bin', bin]] as const) {
    const got = createHash('sha256').update(buf).digest('hex');
    if (got !== manifest.files[name]?.sha256) throw new ArtifactError(`checksum mismatch for ${name}: got ${got.slice(0, 12)}…`);
  }
  const sha = createHash('sha256').update(meta).update(bin).digest('hex');
  if (sha !== manifest.sha256) throw new ArtifactError(`checksum mismatch: artifact sha256 ${sha.slice(0, 12)}… ≠ manifest`);
  return { manifest, data: deserialize(meta, bin) };
}

/** Version directories under `outDir`, oldest first (version ids sort by time). */
export async function listVersions(outDir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(outDir);
  } catch {
    return [];
  }
  return entries.filter((e) => !e.startsWith('.')).sort();
}

/**
 * Deletes all but the newest `keep` versions in `outDir`, never one listed in `protect` (a pinned
 * version); other entries are left alone. Returns the versions deleted, oldest first.
 */
export async function pruneVersions(outDir: string, keep: number, protect: readonly string[] = []): Promise<string[]> {
  const versions = (await listVersions(outDir)).filter((v) => VERSION_ID.test(v));
  const doomed = versions.slice(0, Math.max(0, versions.length - keep)).filter((v) => !protect.includes(v));
  for (const v of doomed) await rm(join(outDir, v), { recursive: true, force: true });
  return doomed;
}
