/**
 * What the serving benchmarks share (run.ts, ab.ts): the recommender compiled by tsc and run by plain node
 * as in production, a service on a trained artifact, the bench's request paths, and autocannon load with
 * the server's CPU time per request read from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { mulberry32, randInt } from '../prng.js';
import { DEFAULT_POD_NODE_OPTIONS } from './production.js';
import { DEMO_HMAC_KEY } from '../privacy/privacy.js';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const KEY = 'bench-key-0123456789';
const auth = { authorization: `Bearer ${KEY}` };

export function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

/**
 * Runs a recommender module as production does: compiled by tsc into `buildDir` (build/ by default, see
 * recommender/tsconfig.build.json) and started with plain node, not through tsx.
 */
export function node(srcFile: string, args: string[], env: NodeJS.ProcessEnv = {}, opts: { buildDir?: string; nodeArgs?: string[] } = {}): ChildProcess {
  const rel = relative(root, srcFile).replace(/\.ts$/, '.js');
  return spawn(process.execPath, [...(opts.nodeArgs ?? []), join(opts.buildDir ?? join(root, 'build'), rel), ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Compiles the recommender into build/. */
export async function build(): Promise<void> {
  const tsc = spawn(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'recommender/tsconfig.build.json')], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const code = await new Promise<number | null>((resolve) => tsc.on('exit', resolve));
  if (code !== 0) throw new Error(`tsc -p recommender/tsconfig.build.json failed (${code})`);
}

/** The child's stdout, once it exits 0 (its stderr goes to ours). */
export function collect(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`child exited ${code}`))));
  });
}

/** Resolves with the first match of `re` on the child's stdout or stderr. */
export function waitFor(child: ChildProcess, re: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const on = (d: Buffer): void => {
      const m = re.exec(d.toString());
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    child.on('exit', (code) => reject(new Error(`server exited ${code} before it was up`)));
  });
}

async function waitReady(base: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('service never became ready');
}

export interface Service {
  base: string;
  child: ChildProcess;
}

/**
 * One service process on the artifact in `modelDir`, as the default pod runs it; `config` is its config
 * file (written to `configFile`), `env` adds to its environment.
 */
export async function serveModel(
  modelDir: string,
  configFile: string,
  config: unknown,
  env: NodeJS.ProcessEnv = {},
  opts: { buildDir?: string; nodeArgs?: string[] } = {},
): Promise<Service> {
  await writeFile(configFile, JSON.stringify(config));
  const child = node(
    join(root, 'recommender/src/main.ts'),
    ['serve', '--model-dir', modelDir, '--watch-seconds', '0', '--config', configFile],
    {
      PORT: '0',
      TANDEM_API_KEY: KEY,
      LOG_LEVEL: 'info',
      NODE_OPTIONS: DEFAULT_POD_NODE_OPTIONS,
      REDIS_URL: '',
      // The bench's model is trained on shoppers pseudonymised with this key (train-bench.ts).
      TANDEM_HMAC_KEY: DEMO_HMAC_KEY,
      TANDEM_AUDIT_ENABLED: 'false',
      ...env,
    },
    opts,
  );
  const base = `http://127.0.0.1:${await waitFor(child, /"port":(\d+)/)}`;
  await waitReady(base);
  child.stdout!.resume();
  child.stderr!.resume();
  return { base, child };
}

/** Stops a service and waits for it to exit (a `--cpu-prof` profile is written on the way out). */
export function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  return exited;
}

export interface BenchPaths {
  /** Baskets of 1–3 of the 100 most popular items, 500 distinct requests (the candidate cache mostly hits). */
  cross: string[];
  /** 150,000 baskets of 3 popular items: nearly every request misses the candidate cache. */
  distinct: string[];
  up: string[];
  personal: string[];
  health: string[];
}

/** The bench's requests, drawn with a fixed seed from the service's 100 most popular items. */
export async function benchPaths(base: string): Promise<BenchPaths> {
  const popular = ((await (await fetch(`${base}/v1/recommendations/personal?user=nobody&limit=100`, { headers: auth })).json()) as {
    items: { id: string }[];
  }).items.map((x) => x.id);
  const rng = mulberry32(5);
  const pick = (): string => popular[randInt(rng, popular.length)]!;
  const cross = Array.from({ length: 500 }, () => {
    const n = 1 + randInt(rng, 3);
    return `/v1/recommendations/cross-sell?items=${Array.from({ length: n }, pick).join(',')}&limit=10`;
  });
  // A long tail: 150,000 baskets of 3 popular items (in order, so 970,200 are possible): nearly every
  // request misses the candidate cache (20,000 entries) and is scored from scratch.
  const distinct = Array.from({ length: 150_000 }, () => `/v1/recommendations/cross-sell?items=${pick()},${pick()},${pick()}&limit=10`);
  const up = Array.from({ length: 500 }, () => `/v1/recommendations/up-sell?item=${pick()}&limit=10`);
  const personal = Array.from({ length: 500 }, () => `/v1/recommendations/personal?user=u-${1 + randInt(rng, 300_000)}&limit=10`);
  return { cross, distinct, up, personal, health: ['/healthz'] };
}

export interface Load {
  /** CPU time the server process spent per request (user + system), µs: robust to a busy machine. */
  cpuUsPerReq?: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

/** CPU seconds (user + system) used so far by a process, from /proc (Linux). */
async function cpuSeconds(pid: number | undefined): Promise<number> {
  if (pid === undefined) return NaN;
  try {
    const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

/** Where each path list was left, so a later run continues with requests not yet sent. */
const cursors = new WeakMap<readonly string[], number>();

/** autocannon against `base`, cycling through `paths`: at most speed, or at `rate` req/s in total. */
export async function load(
  base: string,
  paths: readonly string[],
  opts: { rate?: number; connections: number; duration: number; pid?: number },
): Promise<Load> {
  let i = cursors.get(paths) ?? 0;
  const cpu0 = await cpuSeconds(opts.pid);
  const r = await autocannon({
    url: base,
    connections: opts.connections,
    duration: opts.duration,
    ...(opts.rate ? { overallRate: opts.rate } : {}),
    headers: auth,
    requests: [{ setupRequest: (req) => ({ ...req, path: paths[i++ % paths.length]! }) }],
  });
  cursors.set(paths, i);
  const cpu = (await cpuSeconds(opts.pid)) - cpu0;
  const out: Load = { rps: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts, non2xx: r.non2xx };
  if (Number.isFinite(cpu) && r.requests.total > 0) out.cpuUsPerReq = Math.round((cpu * 1e6) / r.requests.total);
  return out;
}

export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
