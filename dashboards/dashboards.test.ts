import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { RecommenderSpecSchema, type RecommenderSpec } from '../cdk8s/api/v1alpha1/recommender.js';
import { applyDefaults } from '../cdk8s/api/v1alpha1/validate.js';
import { Metrics } from '../cdk8s/constants.js';
import { recommenderAlertRules } from '../cdk8s/monitoring.js';
import { recommenderNames } from '../cdk8s/names.js';
import { renderRecommenderFile } from '../cdk8s/synth.js';
import { find } from '../cdk8s/test/fixtures.js';
import { toolPath } from '../hack/control-plane.js';
import { createOperatorMetrics } from '../operator/metrics.js';
import { createMetrics } from '../recommender/src/api/metrics.js';
import { dashboardQueries, expandVariables, groupingLabels, metricNames, panelsOf, rowsOf, selectorsOf, variableLabel, variablesOf } from './inspect.js';
import { EXTERNAL_SERIES, SERVICE_MONITOR_TARGET_LABELS, exposedSeries } from './metric-names.js';
import { oldSpaceLimitBytes } from './operator.js';
import { DATASOURCE, promLabel } from './panels.js';
import { alertSignal } from './recommender.js';
import { DASHBOARDS, GENERATED_DIR, renderDashboards } from './render.js';

const built = DASHBOARDS.map((s) => ({ file: s.file, dashboard: s.build() }));
const byUid = (uid: string): Dashboard => {
  const d = built.find((b) => b.dashboard.uid === uid)?.dashboard;
  if (!d) throw new Error(`no dashboard ${uid}`);
  return d;
};

/** The golden Recommender of cdk8s (storefront in shop, with autoscaling, cache and retraining), rendered. */
const STOREFRONT = join(dirname(fileURLToPath(import.meta.url)), '..', 'cdk8s', 'testdata', 'storefront.yaml');
const storefront = renderRecommenderFile(readFileSync(STOREFRONT, 'utf8'), STOREFRONT);

/** The labels every series of a dashboard's service carries from its scrape. */
const targetLabels: Record<string, Set<string>> = {
  'tandem-recommender': new Set([...SERVICE_MONITOR_TARGET_LABELS, ...(find(storefront, 'ServiceMonitor').spec.targetLabels as string[]).map(promLabel)]),
  'tandem-operator': new Set(SERVICE_MONITOR_TARGET_LABELS),
};

/** The series each dashboard may read, with their labels: its own service's registry, and the external series. */
let allowed: Record<string, Map<string, Set<string>>>;
beforeAll(async () => {
  const external = Object.entries(EXTERNAL_SERIES).map(([name, e]) => [name, new Set(e.labels)] as const);
  allowed = {
    'tandem-recommender': new Map([...(await exposedSeries(createMetrics().registry)), ...external]),
    'tandem-operator': new Map([...(await exposedSeries(createOperatorMetrics().register)), ...external]),
  };
});

/** The labels a query may select or group on: those of the series it reads, and the scrape target's. */
function labelsFor(uid: string, metrics: readonly string[]): Set<string> {
  return new Set([...targetLabels[uid]!, ...metrics.flatMap((m) => [...(allowed[uid]!.get(m) ?? [])])]);
}

const dir = mkdtempSync(join(tmpdir(), 'tandem-dashboards-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the generated dashboards', () => {
  it('When the dashboards are regenerated, Then the committed JSON files are unchanged', () => {
    for (const [file, json] of renderDashboards()) {
      const committed = readFileSync(join(GENERATED_DIR, file), 'utf8');
      expect(committed, `dashboards/generated/${file} is stale: run npm run dashboards`).toBe(json);
    }
  });

  it('When the dashboards are rendered twice, Then the bytes are identical and hold no timestamp', () => {
    const first = renderDashboards();
    const second = renderDashboards();
    expect([...second]).toEqual([...first]);
    for (const json of first.values()) expect(json).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d/);
  });

  it('Every dashboard has a stable uid that is unique and valid for Grafana', () => {
    const uids = built.map((b) => b.dashboard.uid);
    expect(uids).toEqual(['tandem-recommender', 'tandem-operator']);
    for (const uid of uids) expect(uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    expect(new Set(built.map((b) => b.dashboard.title)).size).toBe(built.length);
  });

  it.each(built.map((b) => [b.dashboard.uid!, b.dashboard] as const))('In %s, panel ids are unique and every row has a title', (_uid, d) => {
    const ids = [...rowsOf(d), ...panelsOf(d)].map((p) => p.id);
    expect(ids.every((id) => typeof id === 'number' && id > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const row of rowsOf(d)) expect(row.title).toBeTruthy();
  });

  it.each(built.map((b) => [b.dashboard.uid!, b.dashboard] as const))('In %s, every panel has a title, a description and a known Grafana unit', (_uid, d) => {
    const known = new Set(Object.values(units as Record<string, unknown>).filter((u): u is string => typeof u === 'string'));
    for (const p of panelsOf(d)) {
      expect(p.title, `panel ${p.id}`).toBeTruthy();
      expect(p.description, `panel "${p.title}"`).toBeTruthy();
      const unit = p.fieldConfig?.defaults?.unit;
      expect(unit, `panel "${p.title}"`).toBeTruthy();
      expect(known.has(unit!), `panel "${p.title}" has unit ${unit}`).toBe(true);
    }
  });

  it.each(built.map((b) => [b.dashboard.uid!, b.dashboard] as const))('In %s, every query goes to the selected Prometheus data source with a unique refId', (_uid, d) => {
    expect(variablesOf(d).find((v) => v.type === 'datasource')).toMatchObject({ name: 'datasource', query: 'prometheus' });
    for (const p of panelsOf(d)) {
      const targets = (p.targets ?? []) as { refId?: string; datasource?: unknown }[];
      expect(targets.length, `panel "${p.title}"`).toBeGreaterThan(0);
      expect(p.datasource).toEqual(DATASOURCE);
      for (const t of targets) expect(t.datasource, `panel "${p.title}" ${t.refId}`).toEqual(DATASOURCE);
      expect(new Set(targets.map((t) => t.refId)).size).toBe(targets.length);
    }
  });

  it.each(built.map((b) => [b.dashboard.uid!, b.dashboard] as const))('In %s, every query reads only series its service or a named exporter provides', (uid, d) => {
    const unknown: string[] = [];
    for (const q of dashboardQueries(d)) {
      for (const name of metricNames(q.expr)) if (!allowed[uid]!.has(name)) unknown.push(`${q.where}: ${name}`);
    }
    expect(unknown).toEqual([]);
  });

  it.each(built.map((b) => [b.dashboard.uid!, b.dashboard] as const))('In %s, every matcher, grouping label and variable label exists on the series it applies to', (uid, d) => {
    const wrong: string[] = [];
    for (const q of dashboardQueries(d)) {
      for (const sel of selectorsOf(q.expr)) {
        const labels = labelsFor(uid, [sel.metric]);
        for (const l of sel.matchers.keys()) if (!labels.has(l)) wrong.push(`${q.where}: ${sel.metric} has no label ${l}`);
      }
      const labels = labelsFor(uid, metricNames(q.expr));
      for (const l of groupingLabels(q.expr)) if (!labels.has(l)) wrong.push(`${q.where}: no series it reads has the label ${l}`);
    }
    for (const v of variablesOf(d)) {
      const label = variableLabel(v);
      const selector = dashboardQueries(d).find((q) => q.where === `variable ${v.name}`);
      if (label && selector && !labelsFor(uid, metricNames(selector.expr)).has(label)) wrong.push(`variable ${v.name}: no label ${label}`);
    }
    expect(wrong).toEqual([]);
  });

  it('Every external series is read by some dashboard, and none of them is a Tandem or Node process metric', () => {
    const read = new Set(built.flatMap((b) => dashboardQueries(b.dashboard).flatMap((q) => metricNames(q.expr))));
    for (const name of Object.keys(EXTERNAL_SERIES)) {
      expect(read.has(name), `${name} is listed in EXTERNAL_SERIES but no dashboard reads it`).toBe(true);
      expect(name).not.toMatch(/^(tandem_|process_|nodejs_)/);
    }
  });

  it('Every PromQL expression parses, as promtool check rules reads it', () => {
    const rules = built.flatMap((b) =>
      dashboardQueries(b.dashboard).map((q, i) => ({
        record: `dashboard:${b.dashboard.uid!.replace(/-/g, '_')}:${i}`,
        expr: expandVariables(q.expr, b.dashboard),
        where: `${b.dashboard.uid} ${q.where}`,
      })),
    );
    const file = join(dir, 'dashboard-queries.yaml');
    writeFileSync(file, stringify({ groups: [{ name: 'tandem-dashboards', rules: rules.map(({ record, expr }) => ({ record, expr })) }] }));
    const run = spawnSync(toolPath('promtool'), ['check', 'rules', '--lint=none', file], { encoding: 'utf8' });
    const legend = rules.map((r) => `${r.record} = ${r.where}`).join('\n');
    expect(run.stdout + run.stderr, legend).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(run.status).toBe(0);
  });

  it('When a query uses a variable the dashboard does not define, Then expanding it fails', () => {
    expect(() => expandVariables('up{pod="$nope"}', byUid('tandem-recommender'))).toThrow(/\$nope is not a variable/);
  });
});

describe('the recommender dashboard', () => {
  const d = byUid('tandem-recommender');
  const exprs = dashboardQueries(d).map((q) => q.expr);

  it('When the recommender registry is read, Then it exports the request histogram that cdk8s names for the alerts', async () => {
    expect([...(await exposedSeries(createMetrics().registry)).keys()]).toContain(`${Metrics.REQUEST_DURATION_SECONDS}_count`);
  });

  it('Its p99 stat is the signal the latency alert compares, for the selected Recommender', () => {
    const rules = recommenderAlertRules(recommenderNames('$instance', '$namespace'), recommender());
    expect(exprs).toContain(alertSignal(rules, 'TandemRecommenderLatencyHigh'));
    expect(alertSignal(rules, 'TandemRecommenderLatencyHigh')).toBe(
      'histogram_quantile(0.99, sum by (le) (rate(tandem_http_request_duration_seconds_bucket{namespace="$namespace",service="$instance",route=~"/v1/.*"}[5m])))',
    );
  });

  it("Every series it reads from the scoring pods is selected as the alerts select it", () => {
    const rules = recommenderAlertRules(recommenderNames('$instance', '$namespace'), recommender());
    const [alertSelector] = selectorsOf(alertSignal(rules, 'TandemRecommenderLatencyHigh'));
    const scoped = { namespace: alertSelector!.matchers.get('namespace'), service: alertSelector!.matchers.get('service') };
    expect(scoped).toEqual({ namespace: '$namespace', service: '$instance' });
    for (const q of dashboardQueries(d)) {
      if (q.where.startsWith('variable')) continue;
      for (const sel of selectorsOf(q.expr)) {
        if (!/^(tandem_|process_|nodejs_|up$)/.test(sel.metric)) continue;
        expect({ namespace: sel.matchers.get('namespace'), service: sel.matchers.get('service') }, `${q.where}: ${sel.metric}`).toEqual(scoped);
      }
    }
  });

  it('Its objectives default to the schema defaults of spec.slo and drive the reference lines', () => {
    const vars = Object.fromEntries(variablesOf(d).map((v) => [v.name, v]));
    expect(vars.latency_threshold_ms?.query).toBe('50');
    expect(vars.availability_target?.query).toBe('99.9');
    expect(exprs).toContain('vector($latency_threshold_ms / 1000)');
    expect(exprs).toContain('vector(14.4 * (1 - $availability_target / 100))');
  });

  it('Its firing-alerts stat names every alert of the PrometheusRule', () => {
    const rules = recommenderAlertRules(recommenderNames('x', 'y'), recommender());
    const firing = exprs.find((e) => e.includes('ALERTS{'));
    for (const r of rules) expect(firing).toContain(r.alert);
  });

  it('When it shows the golden storefront Recommender, Then its selectors name the Service, Deployment, autoscaler, Redis StatefulSet and CronJob that cdk8s renders', () => {
    const kindOf: Record<string, string> = { service: 'Service', deployment: 'Deployment', horizontalpodautoscaler: 'HorizontalPodAutoscaler', statefulset: 'StatefulSet', cronjob: 'CronJob' };
    const seen = new Set<string>();
    for (const q of dashboardQueries(d)) {
      if (q.where.startsWith('variable')) continue;
      for (const sel of selectorsOf(expandVariables(q.expr, d, { namespace: 'shop', instance: 'storefront' }))) {
        expect(sel.matchers.get('namespace'), `${q.where}: ${sel.metric}`).toBe('shop');
        for (const [label, kind] of Object.entries(kindOf)) {
          const name = sel.matchers.get(label);
          if (name === undefined) continue;
          expect(() => find(storefront, kind, name), `${q.where}: ${sel.metric}{${label}="${name}"}`).not.toThrow();
          seen.add(kind);
        }
      }
    }
    expect([...seen].sort()).toEqual(Object.values(kindOf).sort());
    // The Service the ServiceMonitor scrapes is the one the queries select.
    const monitor = find(storefront, 'ServiceMonitor');
    const service = find(storefront, 'Service', 'storefront');
    expect(service.metadata?.labels).toMatchObject(monitor.spec.selector.matchLabels);
  });

  it('Its Recommender variable reads the instance label the ServiceMonitor copies onto the series', () => {
    expect(variablesOf(d).find((v) => v.name === 'instance')?.query).toBe(
      'label_values(tandem_http_request_duration_seconds_count{namespace="$namespace"}, app_kubernetes_io_instance)',
    );
  });

  it('When an alert is not of the form "signal > number", Then reading its signal fails with the alert name', () => {
    const rule = { alert: 'X', expr: 'absent(up == 1)', for: '1m', labels: {}, annotations: {} };
    expect(() => alertSignal([rule], 'X')).toThrow(/failed to read the signal of alert X/);
    expect(() => alertSignal([rule], 'Y')).toThrow(/failed to find alert Y/);
  });
});

describe('the operator dashboard', () => {
  it('Its heap panel draws the old-space limit of the operator command', () => {
    expect(oldSpaceLimitBytes()).toBe(256 * 1024 * 1024);
    expect(dashboardQueries(byUid('tandem-operator')).map((q) => q.expr)).toContain(`vector(${256 * 1024 * 1024})`);
    expect(() => oldSpaceLimitBytes(['node', 'main.js'])).toThrow(/--max-old-space-size/);
  });
});

/** A defaulted spec, as the API server stores `spec: {}`. */
function recommender(): RecommenderSpec {
  return applyDefaults(RecommenderSpecSchema, {}) as RecommenderSpec;
}
