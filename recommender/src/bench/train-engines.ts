/**
 * `npm run bench:train`: the three training engines on generated shops of 5M, 20M and 50M events — time and
 * peak memory (the whole process tree, sampled from /proc) of today's in-memory trainer, the embedded
 * engine (DuckDB) and Spark in local mode, each in its own processes, one at a time. The SQL engines run the
 * real `train` command (compiled, plain node) on Parquet files (a warehouse's export, written beforehand
 * and not timed): ingestion with validation and privacy, the job, packing, the artifact. The in-memory
 * trainer cannot read Parquet (and 50M events as JSON Lines would mostly time JSON.parse), so it trains
 * the same generated events in memory, as the recommender bench does. Writes recommender/bench/train.json,
 * the README's Figures block and docs/training.md's.
 *   npm run bench:train [-- --sizes 5000000,20000000 --engines embedded,spark --no-write]
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { replaceReadmeSection } from '../../../hack/readme.js';

/** The checkout (npm scripts run at its root; this file may run compiled from build/). */
const ROOT = process.cwd();
const BUILD = join(ROOT, 'build', 'recommender', 'src');
const ENGINES = ['memory', 'embedded', 'spark'] as const;
type Engine = (typeof ENGINES)[number];
/** The embedded engine's DuckDB buffer in the bench: with Node and the packed model the process stays under 4 GB. */
const DUCKDB_MEMORY = '2500MB';
const SPARK_DRIVER_MEMORY = '3g';

const { values } = parseArgs({ options: { sizes: { type: 'string' }, engines: { type: 'string' }, 'no-write': { type: 'boolean' }, dir: { type: 'string' } } });
const sizes = (values.sizes ?? '5000000,20000000,50000000').split(',').map(Number);
const engines = (values.engines ?? ENGINES.join(',')).split(',') as Engine[];
const dataRoot = values.dir ?? join(tmpdir(), 'tandem-bench-train');

/** RSS of a process and all its descendants, in bytes (from /proc). */
function treeRss(root: number): number {
  const children = new Map<number, number[]>();
  let rss = 0;
  const status = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${d}/status`, 'utf8'));
      status.set(Number(d), m ? Number(m[1]) * 1024 : 0);
    } catch {
      // the process ended meanwhile
    }
  }
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    rss += status.get(pid) ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return rss;
}

interface Run {
  seconds: number;
  peakMb: number;
  stdout: string;
  stderr: string;
}

/** Runs a command, sampling its process tree's RSS every 250 ms; rejects with the end of stderr when it fails. */
async function measured(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const t0 = performance.now();
  const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, treeRss(child.pid!))), 250);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearInterval(timer);
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${code}):\n${stderr.split('\n').slice(-30).join('\n')}`);
  return { seconds: (performance.now() - t0) / 1000, peakMb: Math.round(peak / 2 ** 20), stdout, stderr };
}

interface Figure {
  events: number;
  engine: Engine;
  seconds: number;
  peakMb: number;
  /** Training alone (the engine's own report), without process start, ingestion, artifact. */
  detail: string;
  load: number[];
  /** When it was measured (UTC, minutes). */
  date: string;
}

async function shop(events: number): Promise<string> {
  const dir = join(dataRoot, String(events));
  if (!existsSync(join(dir, 'events.parquet'))) {
    process.stderr.write(`bench:train: generating ${events} events into ${dir}\n`);
    await rm(dir, { recursive: true, force: true });
    await measured(process.execPath, [join(BUILD, 'bench', 'shop-parquet.js'), '--events', String(events), '--out', dir]);
  }
  return dir;
}

async function run(engine: Engine, events: number, dir: string): Promise<Figure> {
  const load = loadavg().map((x) => Math.round(x * 10) / 10);
  const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
  if (engine === 'memory') {
    const r = await measured(process.execPath, [join(BUILD, 'bench', 'train-memory.js'), '--events', String(events)]);
    const out = JSON.parse(r.stdout) as { trainMs: number; generateMs: number; peakRssMb: number };
    return { events, engine, seconds: out.trainMs / 1000, peakMb: out.peakRssMb, detail: `generating the events in memory took ${(out.generateMs / 1000).toFixed(0)} s more`, load, date };
  }
  const out = join(dir, `models-${engine}`);
  await rm(out, { recursive: true, force: true });
  const r = await measured(
    process.execPath,
    [join(BUILD, 'main.js'), 'train', '--engine', engine, '--catalog', join(dir, 'catalog.parquet'), '--events', join(dir, 'events.parquet'), '--out', out, '--skip-metrics'],
    { TANDEM_DUCKDB_MEMORY: DUCKDB_MEMORY, TANDEM_SPARK_DRIVER_MEMORY: SPARK_DRIVER_MEMORY, TANDEM_SPARK_SHUFFLE_PARTITIONS: String(Math.max(8, Math.round(events / 2_500_000))), TANDEM_SCRATCH_DIR: dir },
  );
  const counts = /^counts (.*)$/m.exec(r.stdout)?.[1] ?? '{}';
  await rm(out, { recursive: true, force: true });
  return { events, engine, seconds: r.seconds, peakMb: r.peakMb, detail: `crossPairs ${JSON.parse(counts).crossPairs as number}`, load, date };
}

const resultsPath = join(ROOT, 'recommender', 'bench', 'train.json');
const stored = async (): Promise<Figure[]> => (existsSync(resultsPath) ? (JSON.parse(await readFile(resultsPath, 'utf8')) as { figures: Figure[] }).figures : []);
/** Each figure is stored as soon as it is measured (a 50M-event run takes a while), replacing an older one. */
async function store(f: Figure): Promise<void> {
  const kept = (await stored()).filter((p) => !(p.events === f.events && p.engine === f.engine));
  const all = [...kept, f].sort((a, b) => a.events - b.events || ENGINES.indexOf(a.engine) - ENGINES.indexOf(b.engine));
  await mkdir(dirname(resultsPath), { recursive: true });
  await writeFile(resultsPath, JSON.stringify({ figures: all }, null, 1) + '\n');
}

for (const events of sizes) {
  const dir = await shop(events);
  for (const engine of engines) {
    process.stderr.write(`bench:train: ${engine} on ${events} events\n`);
    const f = await run(engine, events, dir);
    process.stderr.write(`bench:train: ${engine} ${events}: ${f.seconds.toFixed(1)} s, ${f.peakMb} MB (load ${f.load.join(' ')})\n`);
    await store(f);
  }
}

// The table shows every stored figure, so a run of some sizes or engines keeps the others' figures (and their dates).
const figures = await stored();
const allSizes = [...new Set(figures.map((f) => f.events))].sort((a, b) => a - b);
const fmt = (n: number): string => n.toLocaleString('en-US');
const cell = (events: number, engine: Engine): string => {
  const f = figures.find((x) => x.events === events && x.engine === engine);
  return f ? `${f.seconds.toFixed(0)} s, ${fmt(f.peakMb)} MB` : '–';
};
const perMillion = (engine: Engine): string =>
  figures
    .filter((f) => f.engine === engine)
    .map((f) => `${(f.seconds / (f.events / 1e6)).toFixed(1)}`)
    .join(' / ');
const ratio = (events: number): string => {
  const e = figures.find((x) => x.events === events && x.engine === 'embedded');
  const s = figures.find((x) => x.events === events && x.engine === 'spark');
  return e && s ? `${(s.seconds / e.seconds).toFixed(2)}×` : '–';
};
const loads = figures.map((f) => f.load[0] ?? 0);
const dates = figures.map((f) => f.date).sort();
const date = dates[0] === dates.at(-1) ? dates[0] : `${dates[0]} – ${dates.at(-1)}`;
const table = [
  `Measured ${date} UTC with \`npm run bench:train\` on the shared 2-core machine (1-minute load average ${Math.min(...loads)}–${Math.max(...loads)} during the runs): generated shops of 100,000 items, shoppers and orders growing with the events; time and peak memory of the whole process tree.`,
  '',
  '| events | in-memory trainer (TypeScript) | embedded (DuckDB) | Spark local[2] | Spark ÷ embedded |',
  '|---|---|---|---|---|',
  ...allSizes.map((n) => `| ${fmt(n)} | ${cell(n, 'memory')} | ${cell(n, 'embedded')} | ${cell(n, 'spark')} | ${ratio(n)} |`),
  '',
  `Seconds per million events: in-memory ${perMillion('memory')}, embedded ${perMillion('embedded')}, Spark ${perMillion('spark')}. The SQL engines' figures are the whole \`train\` command on Parquet (ingestion with validation and privacy, the job, packing, the artifact; DuckDB's buffer capped at ${DUCKDB_MEMORY}, Spark's driver JVM at ${SPARK_DRIVER_MEMORY}); the in-memory trainer's are \`train()\` on the same events already in memory (its process holds them: peak includes them).`,
].join('\n');
process.stdout.write(table + '\n');
if (!values['no-write']) {
  // The checkout's files, not build/'s (hack/readme.ts resolves its paths from where it runs: build/hack/ here).
  replaceReadmeSection('bench:train', table, join(ROOT, 'README.md'));
  replaceReadmeSection('bench:train', table, join(ROOT, 'docs', 'training.md'));
}
