import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { toolPath } from '../hack/control-plane.js';
import { createMetrics } from '../recommender/src/api/metrics.js';
import { Metrics } from './constants.js';
import { prometheusAdapterRule, recommenderAlertRules } from './monitoring.js';
import { recommenderNames } from './names.js';
import { renderRecommender } from './recommender-chart.js';
import { find, recommender } from './test/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'tandem-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a promtool unit-test file and runs `promtool test rules` on it; every test in it must pass. */
function promtoolTestRules(name: string, tests: object): void {
  const testFile = join(dir, name);
  writeFileSync(testFile, stringify(tests, { version: '1.1' }));
  const run = spawnSync(toolPath('promtool'), ['test', 'rules', testFile], { encoding: 'utf8' });
  expect(run.stdout + run.stderr).toContain('SUCCESS');
  expect(run.status).toBe(0);
}

describe('the alert rules', () => {
  const names = recommenderNames('storefront', 'shop');

  it('pass promtool check rules', () => {
    const rules = find(renderRecommender(recommender()), 'PrometheusRule').spec;
    const file = join(dir, 'rules.yaml');
    writeFileSync(file, stringify(rules, { version: '1.1' }));
    const run = spawnSync(toolPath('promtool'), ['check', 'rules', file], { encoding: 'utf8' });
    expect(run.stdout + run.stderr).toContain('SUCCESS: 3 rules found');
    expect(run.status).toBe(0);
  });

  it('include an availability alert and a latency alert built from the SLO', () => {
    const rules = recommenderAlertRules(names, recommender({ slo: { availabilityTarget: 99.5, latencyThresholdMs: 120 } }).spec);
    const byName = Object.fromEntries(rules.map((r) => [r.alert, r]));
    // 14.4 × (1 − 0.995): the fast-burn threshold of a 99.5% objective.
    expect(byName.TandemRecommenderAvailabilityBurn?.expr).toContain('> 0.072');
    expect(byName.TandemRecommenderAvailabilityBurn?.expr).toContain('tandem_http_request_duration_seconds_count{namespace="shop",service="storefront",route=~"/v1/.*",status=~"5.."}[1h]');
    expect(byName.TandemRecommenderLatencyHigh?.expr).toBe(
      'histogram_quantile(0.99, sum by (le) (rate(tandem_http_request_duration_seconds_bucket{namespace="shop",service="storefront",route=~"/v1/.*"}[5m]))) > 0.12',
    );
    for (const r of rules) expect(r.annotations.runbook_url).toMatch(/^https:\/\/.+#tandemrecommender/);
  });

  it('scrape the metrics port of the scoring Service in its own namespace', () => {
    const monitor = find(renderRecommender(recommender()), 'ServiceMonitor');
    expect(monitor.spec).toMatchObject({
      selector: { matchLabels: { 'app.kubernetes.io/component': 'scoring', 'app.kubernetes.io/instance': 'storefront' } },
      namespaceSelector: { matchNames: ['shop'] },
      endpoints: [{ port: 'metrics', path: '/metrics' }],
    });
  });

  it('read only series the recommender exports', async () => {
    const exported = new Set<string>();
    for (const m of await createMetrics().registry.getMetricsAsJSON()) {
      exported.add(m.name);
      if (String(m.type) === 'histogram') for (const suffix of ['_bucket', '_count', '_sum']) exported.add(`${m.name}${suffix}`);
    }
    const used = recommenderAlertRules(names, recommender().spec).flatMap((r) => [...r.expr.matchAll(/\b(tandem_[a-z_]+)\{/g)].map((m) => m[1]!));
    expect(used.length).toBeGreaterThan(0);
    for (const metric of used) expect(exported, metric).toContain(metric);
  });

  it('fire when promtool replays failing, slow and missing scoring pods, and stay quiet for healthy ones', () => {
    const rules = find(renderRecommender(recommender()), 'PrometheusRule').spec;
    const rulesFile = join(dir, 'alerts.yaml');
    writeFileSync(rulesFile, stringify(rules, { version: '1.1' }));
    const pod = (extra: string) => `{namespace="shop",service="storefront",route="/v1/recommendations/cross-sell",method="GET"${extra}}`;
    const bucket = (le: string) => `${Metrics.REQUEST_DURATION_SECONDS}_bucket${pod(`,status="200",le="${le}"`)}`;
    const tests = {
      rule_files: [rulesFile],
      evaluation_interval: '1m',
      tests: [
        {
          name: 'a fifth of the requests fail, half are slower than 50 ms, and no pod is up',
          interval: '1m',
          input_series: [
            { series: `${Metrics.REQUESTS_TOTAL}${pod(',status="200"')}`, values: '0+800x90' },
            { series: `${Metrics.REQUESTS_TOTAL}${pod(',status="500"')}`, values: '0+200x90' },
            // Probes never count towards the objectives.
            { series: `${Metrics.REQUESTS_TOTAL}{namespace="shop",service="storefront",route="/readyz",method="GET",status="503"}`, values: '0+5000x90' },
            { series: bucket('0.025'), values: '0+400x90' },
            { series: bucket('0.1'), values: '0+800x90' },
            { series: bucket('+Inf'), values: '0+800x90' },
            { series: 'up{namespace="shop",service="storefront"}', values: '0x90' },
          ],
          alert_rule_test: recommenderAlertRules(names, recommender().spec).map((r) => ({
            eval_time: '30m',
            alertname: r.alert,
            exp_alerts: [{ exp_labels: { namespace: 'shop', recommender: 'storefront', severity: r.labels.severity }, exp_annotations: r.annotations }],
          })),
        },
        {
          name: 'healthy, fast pods raise nothing, however many probes fail',
          interval: '1m',
          input_series: [
            { series: `${Metrics.REQUESTS_TOTAL}${pod(',status="200"')}`, values: '0+1000x90' },
            { series: `${Metrics.REQUESTS_TOTAL}{namespace="shop",service="storefront",route="/readyz",method="GET",status="503"}`, values: '0+5000x90' },
            { series: bucket('0.025'), values: '0+1000x90' },
            { series: bucket('+Inf'), values: '0+1000x90' },
            { series: 'up{namespace="shop",service="storefront"}', values: '1x90' },
          ],
          alert_rule_test: ['TandemRecommenderAvailabilityBurn', 'TandemRecommenderLatencyHigh', 'TandemRecommenderDown'].map((alertname) => ({ eval_time: '60m', alertname, exp_alerts: [] })),
        },
      ],
    };
    promtoolTestRules('alerts.test.yaml', tests);
  });
});

describe('the prometheus-adapter rule behind the HPA requests-per-second metric', () => {
  const rule = prometheusAdapterRule();

  it('discovers the request counter the recommender exports, and serves it under the name the HPA asks for', async () => {
    const exported = (await createMetrics().registry.getMetricsAsJSON()).map((m) => `${m.name}_count`);
    expect(exported).toContain(/^(\w+)\{/.exec(rule.seriesQuery)![1]);
    const hpa = find(renderRecommender(recommender({ autoscaling: { targetRequestsPerSecondPerPod: 50 } })), 'HorizontalPodAutoscaler');
    expect(hpa.spec.metrics).toContainEqual({ type: 'Pods', pods: { metric: { name: rule.name.as }, target: { type: 'AverageValue', averageValue: 50 } } });
  });

  it('gives each pod its API request rate when promtool evaluates the query the adapter builds', () => {
    // What the adapter sends for the pods of one HPA: the series name, their matchers, grouped by pod.
    const query = rule.metricsQuery
      .replace('<<.Series>>', Metrics.REQUESTS_TOTAL)
      .replace('<<.LabelMatchers>>', 'namespace="shop",pod=~"storefront-a|storefront-b"')
      .replace('<<.GroupBy>>', 'pod');
    const rulesFile = join(dir, 'adapter.yaml');
    writeFileSync(rulesFile, stringify({ groups: [{ name: 'adapter', rules: [{ record: rule.name.as, expr: query }] }] }, { version: '1.1' }));
    const series = (pod: string, route: string, status = '200', namespace = 'shop') =>
      `${Metrics.REQUESTS_TOTAL}{namespace="${namespace}",pod="${pod}",route="${route}",method="GET",status="${status}"}`;
    const tests = {
      rule_files: [rulesFile],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [
            { series: series('storefront-a', '/v1/recommendations/cross-sell'), values: '0+60x10' }, // 1 req/s
            { series: series('storefront-a', '/healthz'), values: '0+600x10' }, // probes never count
            { series: series('storefront-b', '/v1/recommendations/up-sell'), values: '0+120x10' }, // 2 req/s
            { series: series('storefront-b', '/v1/recommendations/personal', '400'), values: '0+60x10' }, // errors are load too
            { series: series('storefront-a', '/v1/recommendations/cross-sell', '200', 'other'), values: '0+6000x10' }, // another namespace
          ],
          promql_expr_test: [
            {
              expr: rule.name.as,
              eval_time: '10m',
              exp_samples: [
                { labels: `${rule.name.as}{pod="storefront-a"}`, value: 1 },
                { labels: `${rule.name.as}{pod="storefront-b"}`, value: 3 },
              ],
            },
          ],
        },
      ],
    };
    promtoolTestRules('adapter.test.yaml', tests);
  });
});
