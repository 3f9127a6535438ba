import { afterAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../recommender/src/api/metrics.js';
import type { RecommenderSpecInput } from './api/v1alpha1/recommender.js';
import { validateRecommender } from './api/v1alpha1/validate.js';
import { operatorRuleGroups } from './alerts/operator.js';
import { recommenderAlertRules, ruleFile } from './alerts/render.js';
import { retrainingPeriodSeconds } from './alerts/schedule.js';
import { latencyBucket, leMatcher } from './alerts/series.js';
import { SLO_ALERTS, SLO_WINDOWS, SloSeries } from './alerts/slo.js';
import { SymptomAlerts } from './alerts/symptoms.js';
import { isAlert, type RecordingRule, type RuleGroup } from './alerts/types.js';
import { Metrics, REQUEST_DURATION_BUCKETS } from './constants.js';
import { prometheusAdapterRule } from './monitoring.js';
import { recommenderNames } from './names.js';
import { renderRecommender } from './recommender-chart.js';
import { find, recommender } from './test/fixtures.js';
import { promtoolDir } from './test/promtool.js';

const tools = promtoolDir();
afterAll(() => tools.cleanup());

const names = recommenderNames('storefront', 'shop');
const groupsOf = (spec: RecommenderSpecInput = {}) => find(renderRecommender(recommender(spec)), 'PrometheusRule').spec.groups as RuleGroup[];
const alertNames = (spec: RecommenderSpecInput = {}) => [...new Set(recommenderAlertRules(names, recommender(spec).spec).map((r) => r.alert))];
const exprOf = (spec: RecommenderSpecInput, alert: string, long?: string) =>
  recommenderAlertRules(names, recommender(spec).spec).find((r) => r.alert === alert && (long === undefined || r.labels.long === long))?.expr;

const EVERYTHING_OFF: RecommenderSpecInput = { cache: { enabled: false }, autoscaling: { enabled: false }, audit: { enabled: false }, training: { suspend: true } };

describe('the PrometheusRule of a Recommender', () => {
  it.each([
    ['the defaults', {}],
    ['every optional part switched off', EVERYTHING_OFF],
    ['a strict SLO and a weekday schedule', { slo: { availabilityTarget: 99.99, latencyThresholdMs: 7 }, training: { schedule: '30 2 * * 1-5' } }],
  ])('When rendered with %s, Then promtool check rules passes on every rule', (_case, spec) => {
    const groups = groupsOf(spec);
    const count = groups.reduce((n, g) => n + g.rules.length, 0);
    const run = tools.checkRules('rules.yaml', { groups });
    expect(run.output).toContain(`SUCCESS: ${count} rules found`);
    expect(run.status).toBe(0);
  });

  it("When the operator's rules are rendered, Then promtool check rules passes on them", () => {
    const run = tools.checkRules('operator.yaml', ruleFile(operatorRuleGroups('tandem-system')));
    expect(run.output).toContain('SUCCESS: 3 rules found');
    expect(run.status).toBe(0);
  });

  it('records the bad-request ratio of both SLIs over every window the alerts read, and the objectives', () => {
    const records = groupsOf().flatMap((g) => g.rules.filter((r): r is RecordingRule => !isAlert(r)));
    for (const slo of ['availability', 'latency']) {
      const recorded = records.filter((r) => r.labels?.slo === slo).map((r) => r.record);
      expect(recorded).toEqual(expect.arrayContaining([...SLO_WINDOWS.map(SloSeries.errorRatio), SloSeries.OBJECTIVE, SloSeries.ERROR_BUDGET]));
      for (const r of records) expect(r.labels).toMatchObject({ recommender: 'storefront' });
    }
  });

  it('builds the burn-rate thresholds from spec.slo: 14.4 × (1 − 0.995) for a 99.5% objective, and 1% of requests over the latency bucket', () => {
    const spec = { slo: { availabilityTarget: 99.5, latencyThresholdMs: 120 } };
    expect(exprOf(spec, SLO_ALERTS.availability, '1h')).toBe(
      'tandem:slo_errors:ratio_rate1h{namespace="shop",service="storefront",slo="availability"} > 0.072\nand\ntandem:slo_errors:ratio_rate5m{namespace="shop",service="storefront",slo="availability"} > 0.072',
    );
    expect(exprOf(spec, SLO_ALERTS.latency, '3d')).toContain('tandem:slo_errors:ratio_rate3d{namespace="shop",service="storefront",slo="latency"} > 0.01');
    const latency5m = groupsOf(spec).flatMap((g) => g.rules).find((r) => !isAlert(r) && r.record === SloSeries.errorRatio('5m') && r.labels?.slo === 'latency');
    // 120 ms falls between buckets: the SLI counts at the 100 ms bucket below it.
    expect(latency5m && 'expr' in latency5m ? latency5m.expr : '').toContain('le="0.1"');
  });

  it('When a part of the spec is switched off, Then the alerts about it are not rendered', () => {
    const all = alertNames();
    expect(all).toEqual([SLO_ALERTS.availability, SLO_ALERTS.latency, ...Object.values(SymptomAlerts)]);
    expect(alertNames(EVERYTHING_OFF)).toEqual([SLO_ALERTS.availability, SLO_ALERTS.latency, SymptomAlerts.DOWN, SymptomAlerts.STOCK_FILTER_SPIKE]);
    expect(alertNames({ model: { version: 'v20260101T000000Z' } })).not.toContain(SymptomAlerts.MODEL_STALE);
    expect(alertNames({ replicas: { min: 3, max: 3 } })).not.toContain(SymptomAlerts.AUTOSCALER_AT_MAX);
  });

  it('calls the model stale after twice the longest gap of spec.training.schedule', () => {
    expect(exprOf({}, SymptomAlerts.MODEL_STALE)).toBe(`max by (namespace, service) (${Metrics.MODEL_AGE_SECONDS}{namespace="shop",service="storefront"}) > 172800`);
    expect(exprOf({ training: { schedule: '0 3 * * 1-5' } }, SymptomAlerts.MODEL_STALE)).toMatch(/ > 518400$/);
  });

  it('selects the retraining Jobs of its own CronJob and its own autoscaler in kube-state-metrics', () => {
    expect(exprOf({}, SymptomAlerts.TRAINING_JOB_FAILED)).toContain('kube_job_owner{namespace="shop",owner_kind="CronJob",owner_name="storefront-retrain"}');
    expect(exprOf({}, SymptomAlerts.AUTOSCALER_AT_MAX)).toContain('kube_horizontalpodautoscaler_spec_max_replicas{namespace="shop",horizontalpodautoscaler="storefront"}');
  });
});

describe('the retraining period of a schedule', () => {
  it.each([
    ['0 3 * * *', 24 * 3600],
    ['@daily', 24 * 3600],
    ['@hourly', 3600],
    ['*/15 * * * *', 15 * 60],
    ['0 3 * * 1-5', 72 * 3600],
    ['0 3 * * 0', 7 * 24 * 3600],
    // Day of month OR day of week, as Kubernetes reads a schedule restricting both.
    ['0 0 1 * 1', 7 * 24 * 3600],
  ])('When the schedule is "%s", Then the period is its longest gap, %i s', (schedule, seconds) => {
    expect(retrainingPeriodSeconds(schedule)).toBe(seconds);
  });

  it('When the schedule cannot be read, Then the error names the field', () => {
    expect(() => retrainingPeriodSeconds('0 3 * *')).toThrow(/spec\.training\.schedule: Invalid value: "0 3 \* \*"/);
  });
});

describe('the latency SLI bucket', () => {
  it.each([
    [50, 0.05],
    [120, 0.1],
    [1, 0.001],
    [0.1, 0.0005],
    [10000, 1],
  ])('When the threshold is %s ms, Then the bucket counted is le=%s', (ms, bucket) => {
    expect(latencyBucket(ms)).toBe(bucket);
  });

  it('matches an integer bound as Prometheus 2 and 3 both store it', () => {
    expect(leMatcher(0.05)).toBe('le="0.05"');
    expect(leMatcher(1)).toBe('le=~"1(\\\\.0)?"');
  });

  it('When the service registry is read, Then its request histogram has exactly the buckets of the contract', async () => {
    const metrics = createMetrics();
    metrics.duration.observe({ route: '/x', method: 'GET', status: '200' }, 0.001);
    const [histogram] = (await metrics.registry.getMetricsAsJSON()).filter((m) => m.name === Metrics.REQUEST_DURATION_SECONDS);
    const bounds = histogram!.values.filter((v) => v.labels.le !== undefined && v.labels.le !== '+Inf').map((v) => Number(v.labels.le));
    expect(bounds).toEqual([...REQUEST_DURATION_BUCKETS]);
  });
});

describe('the ServiceMonitor and PrometheusRule labels', () => {
  it('scrape the metrics port of the scoring Service in its own namespace', () => {
    const monitor = find(renderRecommender(recommender()), 'ServiceMonitor');
    expect(monitor.spec).toMatchObject({
      selector: { matchLabels: { 'app.kubernetes.io/component': 'scoring', 'app.kubernetes.io/instance': 'storefront' } },
      namespaceSelector: { matchNames: ['shop'] },
      endpoints: [{ port: 'metrics', path: '/metrics' }],
    });
  });

  it('When spec.monitoring.labels sets release, Then both objects carry it next to the standard labels, so a kube-prometheus-stack selector picks them up', () => {
    const objects = renderRecommender(recommender({ monitoring: { labels: { release: 'kube-prometheus-stack' } } }));
    for (const kind of ['ServiceMonitor', 'PrometheusRule']) {
      expect(find(objects, kind).metadata?.labels, kind).toMatchObject({ release: 'kube-prometheus-stack', 'app.kubernetes.io/managed-by': 'tandem-operator', 'app.kubernetes.io/component': 'monitoring' });
    }
    // Nothing else gets them: they are for Prometheus's selectors.
    expect(find(objects, 'Deployment').metadata?.labels).not.toHaveProperty('release');
  });

  it('When spec.monitoring.labels sets an app.kubernetes.io/ label, Then the Recommender is rejected', () => {
    const result = validateRecommender({ apiVersion: 'tandem.dev/v1alpha1', kind: 'Recommender', metadata: { name: 'x', namespace: 'y' }, spec: { monitoring: { labels: { 'app.kubernetes.io/managed-by': 'me' } } } });
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.errors.join('\n')).toMatch(/monitoring\.labels must not set app\.kubernetes\.io\/ labels/);
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
    const rulesFile = tools.write('adapter.yaml', { groups: [{ name: 'adapter', rules: [{ record: rule.name.as, expr: query }] }] });
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
    const run = tools.testRules('adapter.test.yaml', tests);
    expect(run.output).toContain('SUCCESS');
    expect(run.status).toBe(0);
  });
});
