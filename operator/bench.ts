/**
 * `npm run bench:operator`: convergence time for 1 and 200 Recommenders, operator RSS, API writes at
 * steady state, and, in the same run, a plain client loop creating the same objects as a reference.
 * Runs the operator as its own process against a private control plane; prints a table and writes
 * it into README.md between the `bench:operator` markers.
 */
import { spawn } from 'node:child_process';
import { CoreV1Api, CustomObjectsApi, KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type Recommender } from '../cdk8s/api/v1alpha1/recommender.js';
import { validateRecommender } from '../cdk8s/api/v1alpha1/validate.js';
import { OPERATOR_COMMAND } from '../cdk8s/constants.js';
import { CHILD_KINDS, renderRecommender } from '../cdk8s/recommender-chart.js';
import { freePort } from '../hack/control-plane.js';
import { startControlPlaneWithCrds } from '../hack/install-crds.js';
import { replaceReadmeSection } from '../hack/readme.js';
import { withConnectionReuse } from './kubeconfig.js';
import { useWireJson } from './wire-json.js';

const COUNT = Number(process.env.BENCH_RECOMMENDERS ?? 200);
const NAMESPACES = 10;
const STEADY_SECONDS = Number(process.env.BENCH_STEADY_SECONDS ?? 60);
const WORKERS = 4;
const out = (line: string) => process.stdout.write(`${line}\n`);

const plane = await startControlPlaneWithCrds();
const kc = new KubeConfig();
kc.loadFromFile(plane.kubeconfigPath);
withConnectionReuse(kc);
useWireJson(CHILD_KINDS);
const core = kc.makeApiClient(CoreV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
const objects = KubernetesObjectApi.makeApiClient(kc);
let operator: ReturnType<typeof spawn> | undefined;

try {
  const nsName = (prefix: string, i: number) => `${prefix}-${i % NAMESPACES}`;
  for (let i = 0; i < NAMESPACES; i++) for (const prefix of ['raw', 'op']) await core.createNamespace({ body: { metadata: { name: nsName(prefix, i) } } });
  await core.createNamespace({ body: { metadata: { name: 'single' } } });

  // Reference: the same children, created by a plain client loop with as many requests in flight as the operator has workers.
  const rendered = Array.from({ length: COUNT }, (_, i) => renderRecommender(recommender(nsName('raw', i), `shop-${i}`))).flat();
  const rawStart = performance.now();
  await inParallel(rendered, WORKERS, (obj) => objects.create(obj));
  const rawSeconds = (performance.now() - rawStart) / 1000;
  const rawRate = rendered.length / rawSeconds;
  out(`raw client loop: ${rendered.length} objects in ${rawSeconds.toFixed(1)} s (${rawRate.toFixed(0)} objects/s)`);

  const metricsPort = await freePort();
  // The command the install bundle runs, with the Node flags it sets.
  operator = spawn(process.execPath, [...OPERATOR_COMMAND.slice(1), '--leader-elect=false', `--metrics-port=${metricsPort}`, `--health-port=${await freePort()}`, `--workers=${WORKERS}`], {
    env: { ...process.env, KUBECONFIG: plane.kubeconfigPath, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const scrape = async () => parseMetrics(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());
  await waitFor(async () => (await scrape().catch(() => undefined)) !== undefined, 30_000);
  let peakRss = 0;
  const rssTimer = setInterval(() => void scrape().then((m) => (peakRss = Math.max(peakRss, m.get('process_resident_memory_bytes') ?? 0))).catch(() => undefined), 250);

  const oneStart = performance.now();
  await createRecommender('single', 'shop');
  await waitFor(async () => (await convergedCount(['single'])) === 1, 60_000);
  const oneSeconds = (performance.now() - oneStart) / 1000;
  out(`1 Recommender converged in ${oneSeconds.toFixed(2)} s`);

  const manyStart = performance.now();
  await inParallel(Array.from({ length: COUNT }, (_, i) => i), 8, (i) => createRecommender(nsName('op', i), `shop-${i}`));
  const opNamespaces = Array.from({ length: NAMESPACES }, (_, i) => nsName('op', i));
  await waitFor(async () => (await convergedCount(opNamespaces)) === COUNT, 300_000, 1000);
  const manySeconds = (performance.now() - manyStart) / 1000;
  const objectsPerRec = rendered.length / COUNT;
  const opRate = (COUNT * objectsPerRec) / manySeconds;
  out(`${COUNT} Recommenders converged in ${manySeconds.toFixed(1)} s (${opRate.toFixed(0)} objects/s, ${(opRate / rawRate).toFixed(2)}× the raw loop)`);

  const writes = (m: Map<string, number>) => new Map([...m].filter(([k]) => k.startsWith('tandem_operator_api_writes_total')));
  const total = (m: Map<string, number>) => [...m.values()].reduce((n, v) => n + v, 0);
  // Settled: kube-controller-manager (20 requests/s by default) has created the 400 pods and reported
  // every Deployment's status, which the operator mirrors into each Recommender — no write for 10 s.
  const settleStart = performance.now();
  let last = total(writes(await scrape()));
  for (let quietFor = 0; quietFor < 10; ) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = total(writes(await scrape()));
    quietFor = now === last ? quietFor + 1 : 0;
    last = now;
  }
  out(`settled ${((performance.now() - settleStart) / 1000).toFixed(0)} s after convergence`);
  const before = writes(await scrape());
  await new Promise((r) => setTimeout(r, STEADY_SECONDS * 1000));
  const after = writes(await scrape());
  const steadyWrites = total(after) - total(before);
  for (const [k, v] of after) if (v !== (before.get(k) ?? 0)) out(`  steady-state write: ${k} +${v - (before.get(k) ?? 0)}`);
  clearInterval(rssTimer);
  const rssMb = peakRss / 2 ** 20;
  out(`steady state: ${steadyWrites} API writes in ${STEADY_SECONDS} s; operator peak RSS ${rssMb.toFixed(0)} MB`);

  const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');
  const table = [
    `Measured by \`npm run bench:operator\` on this 2-core machine (${new Date().toISOString().slice(0, 10)}): a private control plane, the operator as its own process (\`${OPERATOR_COMMAND.join(' ')}\`, as the install bundle runs it, ${WORKERS} workers), ${objectsPerRec} children per Recommender.`,
    '',
    '| figure | value | target |',
    '|---|---|---|',
    `| 1 Recommender: create → all children applied, status written | ${oneSeconds.toFixed(2)} s | |`,
    `| ${COUNT} Recommenders (${NAMESPACES} namespaces) converge | ${manySeconds.toFixed(1)} s | ≤ 60 s: ${verdict(manySeconds <= 60)} |`,
    `| convergence throughput | ${opRate.toFixed(0)} objects/s | |`,
    `| raw client loop creating the same ${rendered.length} objects (${WORKERS} in flight) | ${rawRate.toFixed(0)} objects/s | |`,
    `| operator ÷ raw | ${(opRate / rawRate).toFixed(2)}× | ≥ 0.3×: ${verdict(opRate / rawRate >= 0.3)} |`,
    `| API writes during ${STEADY_SECONDS} s with no spec change (after the controllers settled) | ${steadyWrites} | 0: ${verdict(steadyWrites === 0)} |`,
    `| operator peak RSS | ${rssMb.toFixed(0)} MB | ≤ 250 MB: ${verdict(rssMb <= 250)} |`,
  ].join('\n');
  out(`\n${table}`);
  if (COUNT === 200 && STEADY_SECONDS === 60) replaceReadmeSection('bench:operator', table);
} finally {
  operator?.kill('SIGTERM');
  await plane.stop();
}

function recommender(namespace: string, name: string): Recommender {
  const result = validateRecommender({ apiVersion: `${GROUP}/${VERSION}`, kind: 'Recommender', metadata: { name, namespace }, spec: {} });
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.value;
}

function createRecommender(namespace: string, name: string) {
  return custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace, body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'Recommender', metadata: { name }, spec: {} } });
}

async function convergedCount(namespaces: string[]): Promise<number> {
  let n = 0;
  for (const namespace of namespaces) {
    const list = (await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace })) as { items: Recommender[] };
    n += list.items.filter((r) => r.status?.observedGeneration === r.metadata.generation && r.status?.conditions?.some((c) => c.type === 'Degraded' && c.status === 'False')).length;
  }
  return n;
}

async function inParallel<T>(items: T[], concurrency: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, pollMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

function parseMetrics(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    m.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return m;
}

