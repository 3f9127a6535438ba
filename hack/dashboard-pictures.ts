/**
 * `npm run dashboards:pictures`: a PNG of each dashboard's panels, drawn from data a real Prometheus scraped.
 *
 * It starts a private control plane, the scoring service and the operator (hack/monitoring-stack.ts), puts load on
 * the service for a few minutes with a fault in the middle (every recommendation fails for a while, so the burn
 * rates and the page show), queries every panel's expressions over that window from the Prometheus HTTP API, and
 * draws them with matplotlib (hack/plot/dashboards.py, in a venv outside the tree) into docs/dashboards/<uid>.png.
 *
 *   npm run dashboards:pictures [-- --minutes 6]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Dashboard, Panel, RowPanel } from '@grafana/grafana-foundation-sdk/dashboard';
import { CustomObjectsApi, KubeConfig, CoreV1Api } from '@kubernetes/client-node';
import { API_VERSION, GROUP, KIND, PLURAL, VERSION } from '../cdk8s/api/v1alpha1/recommender.js';
import { recommender } from '../cdk8s/test/fixtures.js';
import { expandVariables, metricNames } from '../dashboards/inspect.js';
import { EXTERNAL_SERIES, PENDING_SERVICE_METRICS } from '../dashboards/metric-names.js';
import { DASHBOARDS } from '../dashboards/render.js';
import { startControlPlaneWithCrds } from './install-crds.js';
import { startMonitoringStack, type MonitoringStack } from './monitoring-stack.js';

const ROOT = join(import.meta.dirname, '..');
const OUT = join(ROOT, 'docs', 'dashboards');
const NAMESPACE = 'shop';
const RECOMMENDER = 'storefront';
const STEP_SECONDS = 5;

const log = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Why a panel has no data here: the series it reads that nothing in this run exports. */
function whyEmpty(exprs: readonly string[]): string {
  const names = [...new Set(exprs.flatMap(metricNames))];
  const pending = names.filter((n) => n in PENDING_SERVICE_METRICS);
  const external = names.filter((n) => n in EXTERNAL_SERIES && n !== 'up' && n !== 'ALERTS');
  if (pending.length > 0) return `(the service does not export ${pending.join(', ')} yet)`;
  if (external.length > 0) return `(${[...new Set(external.map((n) => EXTERNAL_SERIES[n]!.source))].join(', ')}: not running here)`;
  return '';
}

async function rangeQuery(stack: MonitoringStack, expr: string, start: number, end: number) {
  const url = `${stack.prometheusUrl}/api/v1/query_range?query=${encodeURIComponent(expr)}&start=${start}&end=${end}&step=${STEP_SECONDS}`;
  const body = (await (await fetch(url)).json()) as { status: string; error?: string; data?: { result: { metric: Record<string, string>; values: [number, string][] }[] } };
  if (body.status !== 'success') throw new Error(`failed to query ${expr}: ${body.error}`);
  return body.data!.result;
}

/** `{{route}} {{status}}` with the series' labels. */
function legendOf(format: string, labels: Record<string, string>): string {
  return format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, l: string) => labels[l] ?? '');
}

async function panelData(stack: MonitoringStack, d: Dashboard, start: number, end: number) {
  const variables: Record<string, string> = { namespace: NAMESPACE, recommender: RECOMMENDER, job: 'tandem-operator-metrics', pod: '.*', __rate_interval: '1m', __range: `${end - start}s` };
  const defined = new Set(['__rate_interval', '__range', ...(d.templating?.list ?? []).map((v) => v.name)]);
  const overrides = Object.fromEntries(Object.entries(variables).filter(([k]) => defined.has(k)));
  const out = [];
  for (const p of (d.panels ?? []) as (Panel | RowPanel)[]) {
    if (p.type === 'row') {
      out.push({ type: 'row', title: p.title, gridPos: p.gridPos, unit: '', series: [] });
      continue;
    }
    const panel = p as Panel;
    const targets = (panel.targets ?? []) as unknown as { expr: string; legendFormat: string }[];
    const series = [];
    for (const [i, t] of targets.entries()) {
      const expr = expandVariables(t.expr, d, overrides);
      const reference = (panel.fieldConfig?.overrides ?? []).some((o) => o.matcher?.options === String.fromCharCode(65 + i));
      for (const r of await rangeQuery(stack, expr, start, end)) {
        series.push({ legend: legendOf(t.legendFormat, r.metric) || t.legendFormat, reference, t: r.values.map(([ts]) => ts), v: r.values.map(([, v]) => Number(v)).map((v) => (Number.isFinite(v) ? v : 0)) });
      }
    }
    out.push({ type: panel.type, title: panel.title, gridPos: panel.gridPos, unit: panel.fieldConfig?.defaults?.unit ?? '', series, why: whyEmpty(targets.map((t) => t.expr)) });
  }
  return out;
}

async function main() {
  const { values } = parseArgs({ options: { minutes: { type: 'string', default: '6' } } });
  const minutes = Number(values.minutes);
  if (!Number.isFinite(minutes) || minutes < 2) throw new Error(`'--minutes' (${values.minutes}) must be a number ≥ 2`);
  const dir = mkdtempSync(join(tmpdir(), 'tandem-pictures-'));
  const plane = await startControlPlaneWithCrds({ log });
  let stack: MonitoringStack | undefined;
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(plane.kubeconfigPath);
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: NAMESPACE } } });
    await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: NAMESPACE, body: { apiVersion: API_VERSION, kind: KIND, metadata: { name: RECOMMENDER }, spec: {} } });
    stack = await startMonitoringStack({ dir, kubeconfigPath: plane.kubeconfigPath, namespace: NAMESPACE, recommender: RECOMMENDER, spec: recommender().spec, log });
    const start = Math.floor(Date.now() / 1000);
    stack.startLoad(40);
    const phase = (minutes * 60_000) / 3;
    log(`load for ${minutes} minutes: healthy, then every recommendation failing, then healthy again`);
    await sleep(phase);
    stack.fault(true);
    await sleep(phase);
    stack.fault(false);
    await sleep(phase);
    const { sent, failed } = await stack.stopLoad();
    const end = Math.floor(Date.now() / 1000);
    log(`sent ${sent} requests, ${failed} failed; drawing`);
    mkdirSync(OUT, { recursive: true });
    const python = spawnSync('bash', [join(ROOT, 'hack', 'plot', 'venv.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).stdout.trim();
    for (const source of DASHBOARDS) {
      const d = source.build();
      const file = join(dir, `${d.uid}.json`);
      const subtitle = `${minutes} minutes of the demo shop under load, fault in the middle third; drawn from a real Prometheus by npm run dashboards:pictures`;
      writeFileSync(file, JSON.stringify({ title: d.title, subtitle, panels: await panelData(stack, d, start, end) }));
      const png = join(OUT, `${d.uid}.png`);
      const run = spawnSync(python, [join(ROOT, 'hack', 'plot', 'dashboards.py'), file, png], { encoding: 'utf8', stdio: 'inherit' });
      if (run.status !== 0) throw new Error(`failed to draw ${png}`);
      log(`wrote docs/dashboards/${d.uid}.png`);
    }
  } finally {
    await stack?.stop();
    await plane.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`dashboards:pictures failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
