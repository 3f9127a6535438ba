/**
 * The trainer's side of models in object storage (see s3-source.ts for the layout): fetch the training input
 * from `<prefix>data/`, upload a new version (its manifest last, so readers never see half a version), and
 * prune old versions from the bucket as `--keep` does on a volume.
 */
import { createReadStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { VERSION_ID } from './artifact.js';
import { downloadObject, keys, listRemoteVersions, where, type Bucket } from './s3-source.js';

/** Downloads `data/<file>` for each local path (named after its file: catalog.jsonl, events.jsonl). */
export async function downloadInputs(bucket: Bucket, paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    await mkdir(dirname(path), { recursive: true });
    await downloadObject(bucket, keys.data(bucket.location, basename(path)), path);
  }
}

/** Uploads `<outDir>/<version>/` as `versions/<version>/`, data files first and the manifest last. */
export async function uploadVersion({ client, location }: Bucket, outDir: string, version: string): Promise<string> {
  for (const file of ['meta.json', 'arrays.bin', 'manifest.json']) {
    const path = join(outDir, version, file);
    const key = keys.file(location, version, file);
    try {
      const { size } = await stat(path);
      await client.send(new PutObjectCommand({ Bucket: location.bucket, Key: key, Body: createReadStream(path), ContentLength: size }));
    } catch (err) {
      throw new Error(`failed to upload ${path} to ${where(location, key)}: ${(err as Error).message}`, { cause: err });
    }
  }
  return where(location, keys.file(location, version, ''));
}

/**
 * Deletes all but the newest `keep` trained versions (ids as `versionId` makes them) from the bucket, never one
 * in `protect` (a pinned version); other names are left alone, as `pruneVersions` does on a volume.
 * The manifest goes first, so a version interrupted half-way is incomplete (skipped by readers), not corrupt.
 */
export async function pruneRemoteVersions(bucket: Bucket, keep: number, protect: readonly string[] = []): Promise<string[]> {
  const { client, location } = bucket;
  const versions = (await listRemoteVersions(bucket)).filter((v) => VERSION_ID.test(v));
  const doomed = versions.slice(0, Math.max(0, versions.length - keep)).filter((v) => !protect.includes(v));
  for (const version of doomed) {
    for (const file of ['manifest.json', 'meta.json', 'arrays.bin']) {
      const key = keys.file(location, version, file);
      try {
        await client.send(new DeleteObjectCommand({ Bucket: location.bucket, Key: key }));
      } catch (err) {
        throw new Error(`failed to delete ${where(location, key)}: ${(err as Error).message}`, { cause: err });
      }
    }
  }
  return doomed;
}
