/**
 * Test and bench harness: a real redis-server (the Debian package; hack/system-deps.sh installs it) on a free port
 * with a temporary directory, no persistence. It can be killed, paused and started again on the same port.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface RedisServerOptions {
  /** `requirepass` (the default user's password). */
  password?: string;
  /** ACL users, each as its `user` directive words, e.g. `['alice', 'on', '>pw', '~*', '+@all']`. */
  users?: string[][];
}

export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` (no credentials). */
  readonly url: string;
  readonly pid: number | undefined;
  /** Stops it: SIGKILL by default (a crash), SIGTERM for a clean stop. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Pauses (SIGSTOP: it hangs, connections stay open) or resumes it (SIGCONT). */
  pause(): void;
  resume(): void;
  /** Starts it again on the same port (empty: no persistence). */
  start(): Promise<void>;
  /** Runs redis-cli against it with these arguments; resolves with stdout. */
  cli(...args: string[]): Promise<string>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

export async function startRedisServer(opts: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-redis-'));
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'];
  if (opts.password) args.push('--requirepass', opts.password);
  for (const u of opts.users ?? []) args.push('--user', ...u);
  if (!opts.password && !opts.users) args.push('--protected-mode', 'no');
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    const c = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer): void => {
        log += d.toString();
        if (log.includes('Ready to accept connections')) resolve();
      };
      c.stdout!.on('data', onData);
      c.stderr!.on('data', onData);
      c.once('error', (err) => reject(new Error(`failed to start redis-server (is it installed? hack/system-deps.sh): ${err.message}`)));
      c.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before it was ready:\n${log}`)));
    });
    c.stdout!.resume();
    c.stderr!.resume();
  };

  const stop = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((resolve) => c.once('exit', resolve));
    c.kill('SIGCONT');
    c.kill(signal);
    await exited;
  };

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child?.pid;
    },
    stop,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    start,
    cli: async (...cliArgs) => {
      const auth = opts.password ? ['--no-auth-warning', '-a', opts.password] : [];
      return (await promisify(execFile)('redis-cli', ['-p', String(port), ...auth, ...cliArgs])).stdout;
    },
    close: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
