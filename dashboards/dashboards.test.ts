import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { recommenderAlerts } from '../cdk8s/alerts/render.js';
import { SLO_ALERTS } from '../cdk8s/alerts/slo.js';
import { renderRecommenderFile } from '../cdk8s/synth.js';
import { find, recommender } from '../cdk8s/test/fixtures.js';
import { toolPath } from '../hack/control-plane.js';
import { createOperatorMetrics } from '../operator/metrics.js';
import { createMetrics } from '../recommender/src/api/metrics.js';
import { withTrustMetrics } from '../recommender/src/api/trust-metrics.js';
import { dashboardQueries, expandVariables, groupingLabels, metricNames, panelsOf, rowsOf, selectorsOf, variableLabel, variablesOf } from './inspect.js';
import { EXTERNAL_SERIES, PENDING_SERVICE_METRICS, RECORDED_SERIES, SERVICE_MONITOR_TARGET_LABELS, exposedSeries } from './metric-names.js';
import { oldSpaceLimitBytes } from './operator.js';
import { DATASOURCE, promLabel } from './panels.js';
import { selectedRecommender } from './recommender.js';
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
const serviceTargetLabels = new Set([...SERVICE_MONITOR_TARGET_LABELS, ...(find(storefront, 'ServiceMonitor').spec.targetLabels as string[]).map(promLabel)]);
const targetLabels: Record<string, Set<string>> = {
  'tandem-recommender': serviceTargetLabels,
  'tandem-business': serviceTargetLabels,
  'tandem-operator': new Set(SERVICE_MONITOR_TARGET_LABELS),
};

/**
 * The series each dashboard may read, with their labels: its own service's registry (and, for the service, the
 * contract metrics it does not export yet and the series its PrometheusRule records), and the external series.
 * metric-contract.test.ts checks the names against the live /metrics.
 */
let allowed: Record<string, Map<string, Set<string>>>;
beforeAll(async () => {
  const named = (list: Readonly<Record<string, readonly string[]>>) => Object.entries(list).map(([name, labels]) => [name, new Set(labels)] as const);
  const external = Object.entries(EXTERNAL_SERIES).map(([name, e]) => [name, new Set(e.labels)] as const);
  const service = new Map([...(await exposedSeries(withTrustMetrics(createMetrics()).registry)), ...named(PENDING_SERVICE_METRICS), ...named(RECORDED_SERIES), ...external]);
  allowed = {
    'tandem-recommender': service,
    'tandem-business': service,
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
    expect(uids).toEqual(['tandem-recommender', 'tandem-business', 'tandem-operator']);
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

  it.each(DASHBOARDS.map((s) => s.file))('dashboard-linter --strict passes on %s, with only the exclusions of dashboards/generated/.lint', (file) => {
    const run = spawnSync(toolPath('dashboard-linter'), ['lint', '--strict', join(GENERATED_DIR, file)], { encoding: 'utf8' });
    expect(run.stdout + run.stderr).not.toMatch(/❌|error/i);
    expect(run.status).toBe(0);
  });

  it('When a panel loses its description, Then dashboard-linter fails it: the .lint file does not hide the rules it keeps', () => {
    const broken = JSON.parse(renderDashboards().get('tandem-operator.json')!) as Dashboard;
    const panel = panelsOf(broken)[0]!;
    delete panel.description;
    const lintDir = mkdtempSync(join(dir, 'lint-'));
    writeFileSync(join(lintDir, '.lint'), readFileSync(join(GENERATED_DIR, '.lint'), 'utf8'));
    writeFileSync(join(lintDir, 'broken.json'), JSON.stringify(broken));
    const run = spawnSync(toolPath('dashboard-linter'), ['lint', '--strict', join(lintDir, 'broken.json')], { encoding: 'utf8' });
    expect(run.stdout + run.stderr).toContain(`panel '${panel.title}' has missing title or description`);
    expect(run.status).not.toBe(0);
  });

  it('Every exclusion in dashboards/generated/.lint gives its reason', () => {
    const config = parse(readFileSync(join(GENERATED_DIR, '.lint'), 'utf8')) as { exclusions: Record<string, { reason?: string }> };
    expect(Object.keys(config.exclusions).length).toBeGreaterThan(0);
    for (const [rule, entry] of Object.entries(config.exclusions)) expect(entry.reason?.length ?? 0, rule).toBeGreaterThan(40);
  });

  it('When a query uses a variable the dashboard does not define, Then expanding it fails', () => {
    expect(() => expandVariables('up{pod="$nope"}', byUid('tandem-recommender'))).toThrow(/\$nope is not a variable/);
  });
});

describe('the recommender dashboard', () => {
  const d = byUid('tandem-recommender');
  const queries = dashboardQueries(d).filter((q) => !q.where.startsWith('variable'));
  const selected = recommenderAlerts(selectedRecommender(), recommender().spec);

  it('Its burn-rate panels read the very series the SLO burn-rate alerts compare, for the selected Recommender', () => {
    const read = new Set(queries.flatMap((q) => selectorsOf(q.expr).map((s) => `${s.metric}{${[...s.matchers].map(([k, v]) => `${k}="${v}"`).join(',')}}`)));
    const signals = selected.filter((a) => Object.values(SLO_ALERTS).includes(a.rule.alert)).flatMap((a) => a.signals);
    expect(signals.length).toBeGreaterThan(0);
    for (const signal of signals) expect(read, signal).toContain(signal);
  });

  it.each(['tandem-recommender', 'tandem-business'])('In %s, every series read from the scoring pods is selected as the alerts select it', (uid) => {
    for (const q of dashboardQueries(byUid(uid))) {
      if (q.where.startsWith('variable')) continue;
      for (const sel of selectorsOf(q.expr)) {
        if (!/^(tandem_|tandem:|process_|nodejs_|up$)/.test(sel.metric)) continue;
        expect({ namespace: sel.matchers.get('namespace'), service: sel.matchers.get('service') }, `${q.where}: ${sel.metric}`).toEqual({ namespace: '$namespace', service: '$recommender' });
      }
    }
  });

  it('Its firing-alerts stat names every alert a Recommender can have', () => {
    const firing = queries.find((q) => q.expr.includes('ALERTS{'))!.expr;
    for (const a of selected) expect(firing).toContain(a.rule.alert);
  });

  it('When it shows the golden storefront Recommender, Then its selectors name the Service, Deployment, autoscaler, Redis StatefulSet and CronJob that cdk8s renders', () => {
    const kindOf: Record<string, string> = { service: 'Service', deployment: 'Deployment', horizontalpodautoscaler: 'HorizontalPodAutoscaler', statefulset: 'StatefulSet', cronjob: 'CronJob', owner_name: 'CronJob' };
    const seen = new Set<string>();
    for (const q of queries) {
      for (const sel of selectorsOf(expandVariables(q.expr, d, { namespace: 'shop', recommender: 'storefront' }))) {
        if (sel.metric === 'vector') continue;
        expect(sel.matchers.get('namespace'), `${q.where}: ${sel.metric}`).toBe('shop');
        for (const [label, kind] of Object.entries(kindOf)) {
          const name = sel.matchers.get(label);
          if (name === undefined) continue;
          expect(() => find(storefront, kind, name), `${q.where}: ${sel.metric}{${label}="${name}"}`).not.toThrow();
          seen.add(kind);
        }
      }
    }
    expect([...seen].sort()).toEqual([...new Set(Object.values(kindOf))].sort());
    // The Service the ServiceMonitor scrapes is the one the queries select.
    const monitor = find(storefront, 'ServiceMonitor');
    const service = find(storefront, 'Service', 'storefront');
    expect(service.metadata?.labels).toMatchObject(monitor.spec.selector.matchLabels);
  });

  it('Its Recommender variable reads the instance label the ServiceMonitor copies onto the series', () => {
    expect(variablesOf(d).find((v) => v.name === 'recommender')?.query).toBe(
      'label_values(tandem_http_request_duration_seconds_count{namespace="$namespace"}, app_kubernetes_io_instance)',
    );
  });
});

describe('the business dashboard', () => {
  const d = byUid('tandem-business');

  it('compares every variant with the control variant the reader picks, over the time range', () => {
    expect(variablesOf(d).map((v) => v.name)).toEqual(['datasource', 'namespace', 'recommender', 'experiment', 'control']);
    const uplifts = panelsOf(d).filter((p) => /uplift$/.test(p.title ?? ''));
    expect(uplifts.map((p) => p.title)).toEqual(['Click-through rate uplift', 'Add-to-cart rate uplift', 'Conversion rate uplift', 'Revenue per impression uplift']);
    for (const p of uplifts) {
      const [target] = (p.targets ?? []) as unknown as { expr: string }[];
      expect(target!.expr).toContain('variant="$control"');
      expect(target!.expr).toContain('[$__range]');
    }
  });
});

describe('the operator dashboard', () => {
  it('Its heap panel draws the old-space limit of the operator command', () => {
    expect(oldSpaceLimitBytes()).toBe(256 * 1024 * 1024);
    expect(dashboardQueries(byUid('tandem-operator')).map((q) => q.expr)).toContain(`vector(${256 * 1024 * 1024})`);
    expect(() => oldSpaceLimitBytes(['node', 'main.js'])).toThrow(/--max-old-space-size/);
  });
});
