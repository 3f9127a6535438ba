import { describe, expect, it } from 'vitest';
import { groupingLabels, metricNames, selectorsOf } from './inspect.js';

describe('metricNames', () => {
  it.each([
    ['a bare metric is read', 'up', ['up']],
    ['label matchers and durations are not metrics', 'rate(tandem_x_total{route="/v1/a",status=~"5.."}[5m])', ['tandem_x_total']],
    ['functions, aggregations and grouping labels are not metrics', 'histogram_quantile(0.99, sum by (le, route) (rate(h_bucket{a="b"}[$__rate_interval])))', ['h_bucket']],
    ['a grouping clause after the aggregated expression is skipped', 'sum(rate(a_total[1m])) by (pod) / on (pod) group_left (version) b_info', ['a_total', 'b_info']],
    ['set operators, offsets and numbers are not metrics', 'count by (v) (m{x="1"}) unless count by (v) (m{x="1"} offset 1m) or vector(1e-3) and bool 1', ['m']],
    ['strings that look like identifiers are skipped', 'label_replace(m, "dst", "$1", "src", "(.*)")', ['m']],
    ['a scalar expression reads nothing', 'vector(14.4 * (1 - 99.9 / 100))', []],
    ['Grafana variables are values, not metrics', 'vector($latency_threshold_ms / 1000) + ${x} * m', ['m']],
    ['time() is a function', 'time() - kube_cronjob_status_last_successful_time{cronjob="x"}', ['kube_cronjob_status_last_successful_time']],
  ])('When %s, Then the names are found', (_case, expr, names) => {
    expect(metricNames(expr)).toEqual(names);
  });

  it('When a __name__ matcher hides the metric, Then it refuses to guess', () => {
    expect(() => metricNames('{__name__=~"tandem_.*"}')).toThrow(/__name__/);
  });
});

describe('selectorsOf and groupingLabels', () => {
  it('When an expression selects and groups, Then each selector has its matchers and the grouping labels are listed', () => {
    const expr = 'sum by (route, status) (rate(a_count{namespace="shop",status=~"5..",pod!="x"}[5m])) / on (route) group_left () b{service="s"}';
    expect(selectorsOf(expr).map((s) => [s.metric, Object.fromEntries(s.matchers)])).toEqual([
      ['a_count', { namespace: 'shop', status: undefined, pod: undefined }],
      ['b', { service: 's' }],
    ]);
    expect(groupingLabels(expr)).toEqual(['route', 'status']);
  });
});
