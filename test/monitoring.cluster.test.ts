/**
 * End to end on a real Prometheus (built from the pinned module): it scrapes the scoring service and the operator
 * running as processes (the operator against the shared control plane, reconciling a Recommender), under load.
 * Every alert signal and every dashboard query returns without error and with data, except those that read series
 * no process here can export (named below, and reported); and a fault fires the availability page within its `for`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { operatorAlerts } from '../cdk8s/alerts/operator.js';
import { recommenderAlerts } from '../cdk8s/alerts/render.js';
import { BURN_WINDOWS, SLO_ALERTS } from '../cdk8s/alerts/slo.js';
import { durationSeconds } from '../cdk8s/alerts/types.js';
import { recommenderNames } from '../cdk8s/names.js';
import { recommender } from '../cdk8s/test/fixtures.js';
import { dashboardQueries, expandVariables, metricNames } from '../dashboards/inspect.js';
import { EXTERNAL_SERIES, PENDING_SERVICE_METRICS } from '../dashboards/metric-names.js';
import { DASHBOARDS } from '../dashboards/render.js';
import { EXPERIMENT, startMonitoringStack, type MonitoringStack } from '../hack/monitoring-stack.js';
import { createTestNamespace, deleteNamespace, eventually, testKubeConfig } from './kube.js';
import { recommenders } from './operator.js';

const kc = testKubeConfig();
const spec = recommender().spec;
const dir = mkdtempSync(join(tmpdir(), 'tandem-monitoring-e2e-'));
let namespace: string;
let stack: MonitoringStack;
/** When the fault was switched on. */
let faultAt: number;

/** Series no process of this test exports: the service's pending contract metrics, kube-state-metrics and cAdvisor (no kubelet here; test/e2e/monitoring.node.test.ts proves those on the real node). */
const unavailable = (expr: string) => metricNames(expr).filter((m) => m in PENDING_SERVICE_METRICS || (m in EXTERNAL_SERIES && m !== 'up' && m !== 'ALERTS'));

beforeAll(async () => {
  namespace = await createTestNamespace(kc, 'monitoring');
  await recommenders(kc).create(namespace, 'storefront', {});
  stack = await startMonitoringStack({ dir, kubeconfigPath: inject('kubeconfigPath'), namespace, recommender: 'storefront', spec, log: (l) => console.warn(`[monitoring-e2e] ${l}`) });
  stack.startLoad(40);
  // Healthy traffic first, then a fault: the 5xx series exist too when the queries run.
  await eventually(async () => ((await stack.query(`tandem:slo_errors:ratio_rate5m{namespace="${namespace}",slo="availability"}`)).length > 0 ? true : undefined), 60_000, 'the SLO recording rules');
  await eventually(async () => ((await stack.query(`tandem_operator_reconcile_total{namespace="${namespace}"}`)).length > 0 ? true : undefined), 60_000, 'the operator reconciling');
  await new Promise((r) => setTimeout(r, 10_000));
  faultAt = Date.now();
  stack.fault(true);
  // rate() needs two scrapes of the new 5xx series.
  await eventually(async () => ((await stack.query(`rate(tandem_http_request_duration_seconds_count{namespace="${namespace}",status="500"}[1m])`)).length > 0 ? true : undefined), 30_000, 'the injected 5xx');
}, 300_000);

afterAll(async () => {
  await stack?.stop();
  if (namespace) await deleteNamespace(kc, namespace);
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('a real Prometheus scraping the running service and operator', () => {
  it('has every metric name the rules and dashboards read from the service and the operator, from their live /metrics', async () => {
    const res = (await (await fetch(`${stack.prometheusUrl}/api/v1/label/__name__/values`)).json()) as { data: string[] };
    const live = new Set(res.data);
    const read = new Set(DASHBOARDS.flatMap((s) => dashboardQueries(s.build()).flatMap((q) => metricNames(q.expr))));
    const expected = [...read].filter((m) => !(m in PENDING_SERVICE_METRICS) && !(m in EXTERNAL_SERIES));
    expect(expected.length).toBeGreaterThan(20);
    expect(expected.filter((m) => !live.has(m))).toEqual([]);
  });

  it('answers every alert signal without error, and with data unless it reads a series no process here exports', async () => {
    const signals = [...recommenderAlerts(recommenderNames('storefront', namespace), spec), ...operatorAlerts(namespace)].flatMap((a) => a.signals.map((s) => ({ alert: a.rule.alert, expr: s })));
    const empty: string[] = [];
    const skipped: string[] = [];
    for (const s of signals) {
      const result = await stack.query(s.expr);
      if (unavailable(s.expr).length > 0) skipped.push(`${s.alert}: ${s.expr} (${unavailable(s.expr).join(', ')})`);
      else if (result.length === 0) empty.push(`${s.alert}: ${s.expr}`);
    }
    console.warn(`[monitoring-e2e] ${skipped.length} of ${signals.length} alert signals read series no process here exports:\n  ${skipped.join('\n  ')}`);
    expect(empty).toEqual([]);
    expect(signals.length - skipped.length).toBeGreaterThan(10);
  });

  it.each(DASHBOARDS.map((s) => [s.file, s.build()] as const))('answers every query of %s without error, and with data unless it reads a series no process here exports', async (_file, d) => {
    const variables = {
      namespace,
      recommender: 'storefront',
      ...(d.uid === 'tandem-operator' ? { job: 'tandem-operator-metrics', pod: '.*' } : {}),
      ...(d.uid === 'tandem-business' ? { experiment: EXPERIMENT.name, control: EXPERIMENT.control } : {}),
    };
    const empty: string[] = [];
    let answered = 0;
    for (const q of dashboardQueries(d)) {
      const expr = expandVariables(q.expr, d, Object.fromEntries(Object.entries(variables).filter(([k]) => d.templating?.list?.some((v) => v.name === k))));
      const result = await stack.query(expr);
      // An annotation marks events (a model rollout), so it is empty most of the time.
      if (unavailable(expr).length > 0 || q.where.startsWith('annotation')) continue;
      answered++;
      if (result.length === 0) empty.push(`${q.where}: ${expr}`);
    }
    expect(empty).toEqual([]);
    if (d.uid !== 'tandem-business') expect(answered).toBeGreaterThan(10);
  });

  it(`fires ${SLO_ALERTS.availability} (1h/5m windows) within its for once every recommendation fails`, async () => {
    const page = BURN_WINDOWS[0]!;
    const within = (durationSeconds(page.for) + 45) * 1000;
    const firing = await eventually(
      async () => {
        const res = (await (await fetch(`${stack.prometheusUrl}/api/v1/alerts`)).json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } };
        return res.data.alerts.find((a) => a.labels.alertname === SLO_ALERTS.availability && a.labels.long === page.long && a.state === 'firing');
      },
      within - (Date.now() - faultAt),
      `${SLO_ALERTS.availability} firing within ${page.for} (+45 s for the scrape, the rules and the rate window) of the fault`,
    );
    expect(firing.labels).toMatchObject({ namespace, recommender: 'storefront', severity: 'critical', short: page.short });
  }, 300_000);
});
