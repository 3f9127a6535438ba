/**
 * A/B of the service's cost per request between builds: the same artifact and requests against a service
 * of each build, in alternating order round by round (so a burst from a neighbour on the shared machine hits
 * both alike), reporting the median server CPU µs per request and req/s. Optionally profiles every service
 * (`--prof DIR`: node's --cpu-prof, one .cpuprofile per service, written when it stops).
 *
 *   tsx recommender/src/bench/ab.ts --model-dir DIR [--rev main] [--rev HEAD] [--setups cross,distinct-audit]
 *       [--rounds 3] [--seconds 4] [--rate 1000] [--prof DIR]
 *
 * `--rev R` (repeatable) compiles git revision R from a clean export; the working tree (compiled into
 * build/) is always the last build, `work`. Without a model in `--model-dir` the bench's shop is trained
 * into it first (train-bench.ts). Setups: cross, distinct, cross-audit, distinct-audit, up, personal.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchPaths, build, collect, load, log, median, node, root, serveModel, stop, type BenchPaths, type Load, type Service } from './harness.js';

const { values } = parseArgs({
  options: {
    'model-dir': { type: 'string' },
    rev: { type: 'string', multiple: true, default: [] },
    setups: { type: 'string', default: 'cross,distinct,cross-audit,distinct-audit' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '4' },
    connections: { type: 'string', default: '50' },
    rate: { type: 'string' },
    prof: { type: 'string' },
  },
});

interface Setup {
  paths: keyof BenchPaths;
  config: unknown;
  audit?: boolean;
}
const SETUPS: Record<string, Setup> = {
  cross: { paths: 'cross', config: {} },
  distinct: { paths: 'distinct', config: {} },
  'cross-audit': { paths: 'cross', config: {}, audit: true },
  'distinct-audit': { paths: 'distinct', config: {}, audit: true },
  up: { paths: 'up', config: {} },
  personal: { paths: 'personal', config: {} },
};

/** Compiles git revision `rev` into `<work>/<rev>/build` (its sources exported clean, this checkout's node_modules). */
async function buildRev(work: string, rev: string): Promise<string> {
  const dir = join(work, rev.replace(/[^\w.-]/g, '_'));
  await mkdir(dir, { recursive: true });
  execFileSync('bash', ['-c', `git archive ${rev} | tar -x -C ${dir}`], { cwd: root, stdio: 'inherit' });
  await symlink(join(root, 'node_modules'), join(dir, 'node_modules'));
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'recommender/tsconfig.build.json')], { stdio: 'inherit' });
  return join(dir, 'build');
}

async function main(): Promise<void> {
  const modelDir = values['model-dir'];
  if (!modelDir) throw new Error("'--model-dir' is required (a model is trained into it when it holds none)");
  const setups = values.setups.split(',').map((name) => {
    const s = SETUPS[name];
    if (!s) throw new Error(`unknown setup '${name}' (known: ${Object.keys(SETUPS).join(', ')})`);
    return { name, ...s };
  });
  const work = await mkdtemp(join(tmpdir(), 'tandem-ab-'));
  const services: Service[] = [];
  try {
    const builds: { name: string; dir: string }[] = [];
    for (const rev of values.rev) builds.push({ name: rev, dir: await buildRev(work, rev) });
    log('compiling the working tree into build/…');
    await build();
    builds.push({ name: 'work', dir: join(root, 'build') });
    if (!existsSync(modelDir) || (await readdir(modelDir)).length === 0) {
      log(`training the bench shop into ${modelDir}…`);
      await collect(node(join(root, 'recommender/src/bench/train-bench.ts'), ['--out', modelDir]));
    }

    const targets: { build: string; setup: (typeof setups)[number]; svc: Service }[] = [];
    for (const b of builds) {
      for (const setup of setups) {
        const tag = `${b.name}-${setup.name}`.replace(/[^\w.-]/g, '_');
        const env = setup.audit ? { TANDEM_AUDIT_ENABLED: 'true', TANDEM_AUDIT_DIR: join(work, `audit-${tag}`) } : {};
        const nodeArgs = values.prof ? ['--cpu-prof', '--cpu-prof-dir', join(values.prof, tag)] : [];
        const svc = await serveModel(modelDir, join(work, `config-${tag}.json`), setup.config, env, { buildDir: b.dir, nodeArgs });
        services.push(svc);
        targets.push({ build: b.name, setup, svc });
      }
    }
    const paths = await benchPaths(targets[0]!.svc.base);
    const connections = Number(values.connections);
    const seconds = Number(values.seconds);
    for (const t of targets) await load(t.svc.base, paths[t.setup.paths], { connections, duration: 2 }); // warm-up

    const fixed = new Map<string, Load>();
    if (values.rate) {
      for (const t of targets) {
        log(`${values.rate} req/s: ${t.build} ${t.setup.name}…`);
        fixed.set(`${t.build} ${t.setup.name}`, await load(t.svc.base, paths[t.setup.paths], { rate: Number(values.rate), connections: 20, duration: 8 }));
      }
    }
    const runs = new Map<string, Load[]>();
    const rounds = Number(values.rounds);
    for (let round = 0; round < rounds; round++) {
      for (const setup of setups) {
        const these = targets.filter((t) => t.setup === setup);
        if (round % 2 === 1) these.reverse();
        for (const t of these) {
          log(`round ${round + 1}/${rounds}: ${t.build} ${setup.name}…`);
          const key = `${t.build} ${setup.name}`;
          runs.set(key, [...(runs.get(key) ?? []), await load(t.svc.base, paths[setup.paths], { connections, duration: seconds, pid: t.svc.child.pid })]);
        }
      }
    }

    const lines = ['| setup | build | server CPU µs/request (median) | runs | req/s (median) | vs first build (CPU) | p50 / p99 ms at fixed rate |', '|---|---|---|---|---|---|---|'];
    for (const setup of setups) {
      let first: number | undefined;
      for (const b of builds) {
        const key = `${b.name} ${setup.name}`;
        const rs = runs.get(key)!;
        const cpus = rs.map((r) => r.cpuUsPerReq ?? NaN);
        const cpu = median(cpus);
        first ??= cpu;
        const f = fixed.get(key);
        const bad = rs.reduce((a, r) => a + r.errors + r.non2xx, 0);
        lines.push(
          `| ${setup.name} | ${b.name} | ${cpu} | ${cpus.join(', ')} | ${median(rs.map((r) => r.rps))} | ${Math.round((cpu / first) * 100)}% | ${f ? `${f.p50} / ${f.p99}` : '–'} |` +
            (bad > 0 ? ` ${bad} errors/non-2xx` : ''),
        );
      }
    }
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await Promise.all(services.map((s) => stop(s.child)));
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
