/**
 * A real S3-compatible object store for tests: SeaweedFS's `weed server` (master, volume server, filer and S3
 * gateway in one process; Apache-2.0, built from the Go module pinned in hack/tools/seaweedfs by
 * `npm run tools`), on free loopback ports under a temp dir, with two identities: an admin that may write and
 * a reader that may only list and read (what a scoring pod needs).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort, toolPath } from './control-plane.js';

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface SeaweedFs {
  /** `http://127.0.0.1:<port>`, the S3 API. */
  readonly endpoint: string;
  readonly region: string;
  /** May create buckets, write and delete. */
  readonly admin: S3Credentials;
  /** May list and read only. */
  readonly reader: S3Credentials;
  /** A client for `credentials` (path-style, as self-hosted stores want). */
  client(credentials: S3Credentials): S3Client;
  stop(): Promise<void>;
}

export interface SeaweedFsOptions {
  /** Buckets to create once it answers. */
  readonly buckets?: readonly string[];
  /** Keep the data dir and log after stop. Default false. */
  readonly keepDir?: boolean;
}

const REGION = 'us-east-1';

/** `count` distinct free loopback ports. */
async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

export async function startSeaweedFs(options: SeaweedFsOptions = {}): Promise<SeaweedFs> {
  const weed = toolPath('weed');
  const dir = mkdtempSync(join(tmpdir(), 'tandem-seaweedfs-'));
  const admin = { accessKeyId: 'tandem-admin', secretAccessKey: 'tandem-admin-secret' };
  const reader = { accessKeyId: 'tandem-reader', secretAccessKey: 'tandem-reader-secret' };
  const identity = (name: string, c: S3Credentials, actions: string[]) => ({ name, credentials: [{ accessKey: c.accessKeyId, secretKey: c.secretAccessKey }], actions });
  writeFileSync(
    join(dir, 's3.json'),
    JSON.stringify({ identities: [identity('admin', admin, ['Admin', 'Read', 'Write', 'List', 'Tagging']), identity('reader', reader, ['Read', 'List'])] }),
  );
  // Every listener gets its own free port: the gRPC ports would otherwise default to port + 10000.
  const [master, masterGrpc, volume, volumeGrpc, filer, filerGrpc, s3, s3Grpc] = (await freePorts(8)) as [number, number, number, number, number, number, number, number];
  const args = [
    'server',
    `-dir=${join(dir, 'data')}`,
    '-ip=127.0.0.1',
    '-ip.bind=127.0.0.1',
    `-master.port=${master}`,
    `-master.port.grpc=${masterGrpc}`,
    '-master.volumeSizeLimitMB=64',
    `-volume.port=${volume}`,
    `-volume.port.grpc=${volumeGrpc}`,
    '-volume.max=16',
    // A test store holds nothing worth a graceful hand-over: stop at once.
    '-volume.preStopSeconds=0',
    '-filer',
    `-filer.port=${filer}`,
    `-filer.port.grpc=${filerGrpc}`,
    `-filer.localSocket=${join(dir, 'filer.sock')}`,
    '-s3',
    `-s3.port=${s3}`,
    `-s3.port.grpc=${s3Grpc}`,
    '-s3.port.iceberg=0',
    '-s3.port.lance=0',
    `-s3.config=${join(dir, 's3.json')}`,
  ];
  mkdirSync(join(dir, 'data'));
  const log = openSync(join(dir, 'weed.log'), 'a');
  const child: ChildProcess = spawn(weed, args, { stdio: ['ignore', log, log], detached: true });
  let exited = false;
  child.once('exit', () => (exited = true));

  const endpoint = `http://127.0.0.1:${s3}`;
  const client = (credentials: S3Credentials) => new S3Client({ endpoint, region: REGION, forcePathStyle: true, credentials, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  const stop = async () => {
    if (!exited && child.pid !== undefined) {
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      process.kill(-child.pid, 'SIGTERM');
      const timer = setTimeout(() => !exited && child.pid !== undefined && process.kill(-child.pid, 'SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    }
    if (!options.keepDir) rmSync(dir, { recursive: true, force: true });
  };

  const adminClient = client(admin);
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (exited) throw new Error(`weed server exited during start; see ${join(dir, 'weed.log')}`);
      try {
        await adminClient.send(new ListBucketsCommand({}));
        break;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`weed server's S3 API at ${endpoint} did not answer within 60 s: ${(err as Error).message}`, { cause: err });
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    for (const bucket of options.buckets ?? []) await adminClient.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    await stop();
    throw err;
  } finally {
    adminClient.destroy();
  }
  return { endpoint, region: REGION, admin, reader, client, stop };
}
