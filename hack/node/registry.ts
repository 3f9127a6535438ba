/**
 * A local OCI registry for the test node (go-containerregistry's `crane registry serve`, blobs kept on
 * disk between runs), and the push of the images `npm run images` built into it, so the node pulls
 * them as it would from any registry (containerd speaks plain HTTP to a loopback registry).
 */
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, toolPath } from '../control-plane.js';
import { launch, waitFor, type Launched } from '../process.js';

const run = promisify(execFile);

export interface Registry {
  /** `127.0.0.1:<port>` */
  readonly host: string;
  /** Pushes a local buildah image (`localhost/tandem-dev/x:tag`) and returns its reference in this registry. */
  push(localRef: string): Promise<string>;
  readonly process: Launched;
}

export async function startRegistry(opts: { cacheDir: string; logDir: string; pidFile: string }): Promise<Registry> {
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const disk = join(opts.cacheDir, 'registry-blobs');
  mkdirSync(disk, { recursive: true });
  const proc = launch('registry', toolPath('crane'), ['registry', 'serve', '--address', host, '--disk', disk], { logDir: opts.logDir, pidFile: opts.pidFile });
  await waitFor(`registry on ${host}`, async () => (await fetch(`http://${host}/v2/`)).ok, { timeoutMs: 15_000, proc });
  return {
    host,
    process: proc,
    async push(localRef) {
      const remote = `${host}/${localRef.replace(/^localhost\//, '')}`;
      await run('buildah', ['push', '--quiet', '--tls-verify=false', localRef, `docker://${remote}`], { maxBuffer: 16 << 20 });
      return remote;
    },
  };
}
