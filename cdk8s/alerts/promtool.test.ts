/**
 * `promtool test rules` for every alert: for each, series on which it fires, healthy series on which it stays
 * silent, and a short blip it sits out. The rules are the ones the PrometheusRules ship (the golden storefront
 * Recommender, the operator in tandem-system); the series are written against the metric contract.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Metrics, OperatorMetricNames } from '../constants.js';
import { recommenderNames } from '../names.js';
import { recommender } from '../test/fixtures.js';
import { counter, gauge, promtoolDir } from '../test/promtool.js';
import { OperatorAlerts, operatorRuleGroups } from './operator.js';
import { recommenderRuleGroups, ruleFile } from './render.js';
import { SLO_ALERTS } from './slo.js';
import { SymptomAlerts } from './symptoms.js';
import { isAlert, type Rule } from './types.js';

type Labels = Record<string, string>;
interface Series {
  readonly series: string;
  readonly values: string;
}
interface Case {
  readonly name: string;
  readonly series: readonly Series[];
  /**
   * At each time, exactly these alerts are firing: their labels (alertname excluded) and `$value` as the
   * description's template prints it (promtool compares the rendered annotations too).
   */
  readonly checks: readonly { readonly at: string; readonly firing: readonly (readonly [labels: Labels, value: string])[] }[];
}
interface AlertCases {
  readonly fires: readonly Case[];
  readonly healthy: readonly Case[];
  readonly blip: readonly Case[];
}

const spec = recommender().spec;
const names = recommenderNames('storefront', 'shop');
const OPERATOR_NAMESPACE = 'tandem-system';

const pod = (extra: string, name = 'storefront-a') => `{namespace="shop",service="storefront",pod="${name}"${extra}}`;
const route = (status: string, path = '/v1/recommendations/cross-sell') => `,route="${path}",method="GET",status="${status}"`;
const scoringLabels = { namespace: 'shop', service: 'storefront', recommender: 'storefront' };
const symptom = (severity: string, extra: Labels = {}) => ({ namespace: 'shop', recommender: 'storefront', severity, ...extra });
const minutes = (m: number) => `${m}m`;
const DAY = 24 * 60;

/** 1000 API requests a minute, `errors` of them 5xx, segment by segment; a /readyz probe fails throughout (never counted). */
function availability(...segments: readonly [minutes: number, errorRatio: number][]): Series[] {
  return [
    { series: `${Metrics.REQUESTS_TOTAL}${pod(route('200'))}`, values: counter(...segments.map(([m, e]) => [m, 1000 * (1 - e)] as const)) },
    { series: `${Metrics.REQUESTS_TOTAL}${pod(route('500'))}`, values: counter(...segments.map(([m, e]) => [m, 1000 * e] as const)) },
    { series: `${Metrics.REQUESTS_TOTAL}${pod(route('503', '/readyz'))}`, values: counter(...segments.map(([m]) => [m, 5000] as const)) },
  ];
}

/** 1000 API requests a minute, `slow` of them above the 50 ms bucket; /readyz probes are all slow (never counted). */
function latency(...segments: readonly [minutes: number, slowRatio: number][]): Series[] {
  const all = counter(...segments.map(([m]) => [m, 1000] as const));
  const fast = counter(...segments.map(([m, s]) => [m, 1000 * (1 - s)] as const));
  const probes = counter(...segments.map(([m]) => [m, 100] as const));
  const duration = Metrics.REQUEST_DURATION_SECONDS;
  return [
    { series: `${duration}_bucket${pod(`${route('200')},le="0.05"`)}`, values: fast },
    { series: `${duration}_bucket${pod(`${route('200')},le="+Inf"`)}`, values: all },
    { series: `${duration}_count${pod(route('200'))}`, values: all },
    { series: `${duration}_bucket${pod(`${route('200', '/readyz')},le="0.05"`)}`, values: counter(...segments.map(([m]) => [m, 0] as const)) },
    { series: `${duration}_count${pod(route('200', '/readyz'))}`, values: probes },
  ];
}

/** `$value | humanizePercentage`: four significant digits. */
const pct = (ratio: number) => `${Number((ratio * 100).toPrecision(4))}%`;
const burn = (slo: string, severity: string, long: string, short: string) => ({ ...scoringLabels, slo, severity, long, short });

/** The burn-rate cases of one SLI, from a series builder and its error budget (the share of bad requests allowed). */
function burnCases(slo: 'availability' | 'latency', build: (...s: [number, number][]) => Series[], budget: number): AlertCases {
  return {
    fires: [
      // Each burn rate crosses one more window pair than the next; at the time checked only that pair has outlasted its `for`.
      { name: `${slo}: 50× the budget pages on the 1h/5m windows within minutes`, series: build([30, 50 * budget]), checks: [{ at: '10m', firing: [[burn(slo, 'critical', '1h', '5m'), pct(50 * budget)]] }] },
      { name: `${slo}: 8× the budget pages on the 6h/30m windows`, series: build([60, 8 * budget]), checks: [{ at: '40m', firing: [[burn(slo, 'critical', '6h', '30m'), pct(8 * budget)]] }] },
      { name: `${slo}: 4× the budget opens a ticket on the 1d/2h windows`, series: build([100, 4 * budget]), checks: [{ at: '90m', firing: [[burn(slo, 'warning', '1d', '2h'), pct(4 * budget)]] }] },
      { name: `${slo}: 2× the budget opens a ticket on the 3d/6h windows`, series: build([200, 2 * budget]), checks: [{ at: '190m', firing: [[burn(slo, 'warning', '3d', '6h'), pct(2 * budget)]] }] },
      {
        name: `${slo}: when a fast burn stops, the page clears within its 5m short window, before the 6h/30m one fires`,
        series: build([10, 50 * budget], [30, 0]),
        checks: [
          { at: '8m', firing: [[burn(slo, 'critical', '1h', '5m'), pct(50 * budget)]] },
          { at: '15m', firing: [] },
        ],
      },
    ],
    healthy: [
      {
        name: `${slo}: half the budget for a day raises nothing`,
        series: build([DAY + 10, budget / 2]),
        checks: ['1h', '6h', '1d'].map((at) => ({ at, firing: [] })),
      },
    ],
    blip: [
      {
        name: `${slo}: 20× the budget for two minutes, after an hour of nothing, raises nothing`,
        series: build([60, 0], [2, 20 * budget], [120, 0]),
        checks: [61, 63, 66, 70, 90].map((m) => ({ at: minutes(m), firing: [] })),
      },
    ],
  };
}

const cacheRequests = (tier: string, result: string) => `${Metrics.CACHE_REQUESTS_TOTAL}${pod(`,tier="${tier}",result="${result}"`)}`;
/** 100 Redis lookups a minute, with the hit ratio of each segment. */
function cacheLookups(...segments: readonly [minutes: number, hitRatio: number, perMinute?: number][]): Series[] {
  return [
    { series: cacheRequests('redis', 'hit'), values: counter(...segments.map(([m, h, n = 100]) => [m, n * h] as const)) },
    { series: cacheRequests('redis', 'miss'), values: counter(...segments.map(([m, h, n = 100]) => [m, n * (1 - h)] as const)) },
  ];
}

const job = 'storefront-retrain-29000000';
/** A retraining Job of the CronJob (kube-state-metrics series), started at `startedAt` seconds. */
function retrainJob(failed: string, startedAt: number, lastSuccess: string, name = job, owner = 'storefront-retrain'): Series[] {
  const ksm = 'job="kube-state-metrics",namespace="shop"';
  return [
    { series: `kube_job_owner{${ksm},job_name="${name}",owner_kind="CronJob",owner_name="${owner}",owner_is_controller="true"}`, values: gauge([60, 1]) },
    { series: `kube_job_failed{${ksm},job_name="${name}",condition="true"}`, values: failed },
    { series: `kube_job_status_start_time{${ksm},job_name="${name}"}`, values: gauge([60, startedAt]) },
    { series: `kube_cronjob_status_last_successful_time{${ksm},cronjob="${owner}"}`, values: lastSuccess },
  ];
}

const hpa = (metric: string) => `${metric}{job="kube-state-metrics",namespace="shop",horizontalpodautoscaler="storefront"}`;
const hpaLabels = symptom('warning', { horizontalpodautoscaler: 'storefront' });

const op = (metric: string, extra = '') => `${metric}{namespace="${OPERATOR_NAMESPACE}",pod="tandem-operator-a"${extra}}`;
function reconciles(...segments: readonly [minutes: number, errorRatio: number][]): Series[] {
  return [
    { series: op(OperatorMetricNames.RECONCILE_TOTAL, ',controller="recommender",result="success"'), values: counter(...segments.map(([m, e]) => [m, 10 * (1 - e)] as const)) },
    { series: op(OperatorMetricNames.RECONCILE_TOTAL, ',controller="recommender",result="error"'), values: counter(...segments.map(([m, e]) => [m, 10 * e] as const)) },
    { series: op(OperatorMetricNames.RECONCILE_ERRORS_TOTAL, ',controller="recommender"'), values: counter(...segments.map(([m, e]) => [m, 10 * e] as const)) },
  ];
}
const leader = (podName: string, values: string) => ({ series: `${OperatorMetricNames.LEADER}{namespace="${OPERATOR_NAMESPACE}",pod="${podName}",name="tandem-operator"}`, values });
const operatorLabels = { namespace: OPERATOR_NAMESPACE, severity: 'warning' };

/** Every alert's cases. A test below checks that this covers exactly the alerts the rules define. */
const CASES: Record<string, AlertCases> = {
  [SLO_ALERTS.availability]: burnCases('availability', availability, 0.001),
  [SLO_ALERTS.latency]: burnCases('latency', latency, 0.01),

  [SymptomAlerts.DOWN]: {
    fires: [
      {
        name: 'every scoring pod fails its scrape for ten minutes',
        series: [{ series: `up${pod('')}`, values: gauge([15, 0]) }],
        checks: [{ at: '8m', firing: [[symptom('critical', { service: 'storefront' }), '0']] }],
      },
      { name: 'no scoring pod is a scrape target at all', series: [{ series: 'up{namespace="shop",service="other"}', values: gauge([15, 1]) }], checks: [{ at: '8m', firing: [[symptom('critical', { service: 'storefront' }), '1']] }] },
    ],
    healthy: [
      {
        name: 'one of two pods is down, the other scraped',
        series: [
          { series: `up${pod('')}`, values: gauge([30, 1]) },
          { series: `up${pod('', 'storefront-b')}`, values: gauge([30, 0]) },
        ],
        checks: [{ at: '20m', firing: [] }],
      },
    ],
    blip: [{ name: 'a three-minute scrape gap (a restart)', series: [{ series: `up${pod('')}`, values: gauge([10, 1], [3, 0], [20, 1]) }], checks: [11, 13, 16, 20].map((m) => ({ at: minutes(m), firing: [] })) }],
  },

  [SymptomAlerts.CACHE_UNAVAILABLE]: {
    fires: [
      {
        name: 'one pod has lost Redis for ten minutes',
        series: [
          { series: `${Metrics.CACHE_UP}${pod('')}`, values: gauge([15, 1]) },
          { series: `${Metrics.CACHE_UP}${pod('', 'storefront-b')}`, values: gauge([15, 0]) },
        ],
        checks: [{ at: '8m', firing: [[symptom('warning', { service: 'storefront', pod: 'storefront-b' }), '0']] }],
      },
    ],
    healthy: [{ name: 'both pods reach Redis', series: [{ series: `${Metrics.CACHE_UP}${pod('')}`, values: gauge([30, 1]) }, { series: `${Metrics.CACHE_UP}${pod('', 'storefront-b')}`, values: gauge([30, 1]) }], checks: [{ at: '20m', firing: [] }] }],
    blip: [{ name: 'Redis fails over in three minutes', series: [{ series: `${Metrics.CACHE_UP}${pod('')}`, values: gauge([10, 1], [3, 0], [20, 1]) }], checks: [11, 13, 16, 20].map((m) => ({ at: minutes(m), firing: [] })) }],
  },

  [SymptomAlerts.CACHE_HIT_RATIO_COLLAPSED]: {
    fires: [
      {
        name: 'the hit ratio falls from 80% to 10% after a day',
        series: cacheLookups([DAY, 0.8], [40, 0.1]),
        checks: [{ at: minutes(DAY + 35), firing: [[symptom('warning', { service: 'storefront', tier: 'redis' }), '10%']] }],
      },
    ],
    healthy: [
      { name: 'a steady 80% for a day and more', series: cacheLookups([DAY + 40, 0.8]), checks: [{ at: minutes(DAY + 35), firing: [] }] },
      { name: 'at night a few lookups a minute all miss: too little traffic to judge', series: cacheLookups([DAY, 0.8], [60, 0, 3]), checks: [{ at: minutes(DAY + 50), firing: [] }] },
    ],
    blip: [{ name: 'five minutes of misses (a cache flush on a new model)', series: cacheLookups([DAY, 0.8], [5, 0], [40, 0.8]), checks: [5, 10, 15, 20, 30].map((m) => ({ at: minutes(DAY + m), firing: [] })) }],
  },

  [SymptomAlerts.MODEL_STALE]: {
    fires: [
      {
        name: 'the served model ages past two days (the default daily schedule missed twice)',
        series: [{ series: `${Metrics.MODEL_AGE_SECONDS}${pod('')}`, values: '170000+60x100' }],
        checks: [{ at: '70m', firing: [[symptom('warning', { service: 'storefront' }), '2d 0h 23m 20s']] }],
      },
    ],
    healthy: [{ name: 'a model up to a day old', series: [{ series: `${Metrics.MODEL_AGE_SECONDS}${pod('')}`, values: '0+60x1440' }], checks: [{ at: '1d', firing: [] }] }],
    blip: [
      {
        name: 'a pod starts on an old model and picks up the new one five minutes later',
        series: [{ series: `${Metrics.MODEL_AGE_SECONDS}${pod('')}`, values: `${gauge([5, 180000])} 300+60x30` }],
        checks: [3, 8, 15, 30].map((m) => ({ at: minutes(m), firing: [] })),
      },
    ],
  },

  [SymptomAlerts.TRAINING_JOB_FAILED]: {
    fires: [
      {
        name: 'a retraining Job started after the last success has failed',
        series: retrainJob(gauge([20, 0], [40, 1]), 600, gauge([60, 60])),
        checks: [{ at: '40m', firing: [[symptom('warning', { job_name: job }), '1']] }],
      },
    ],
    healthy: [
      { name: 'an old failure, with a successful run since', series: retrainJob(gauge([60, 1]), 600, gauge([60, 3000])), checks: [{ at: '40m', firing: [] }] },
      { name: "another CronJob's failed Job", series: retrainJob(gauge([60, 1]), 600, gauge([60, 60]), 'other-29000000', 'other'), checks: [{ at: '40m', firing: [] }] },
    ],
    blip: [
      {
        name: 'a failed run retried successfully within ten minutes',
        series: retrainJob(gauge([20, 0], [40, 1]), 600, `${gauge([30, 60])} ${gauge([30, 1800])}`),
        checks: [25, 35, 50].map((m) => ({ at: minutes(m), firing: [] })),
      },
    ],
  },

  [SymptomAlerts.AUTOSCALER_AT_MAX]: {
    fires: [
      {
        name: 'ten replicas of ten for half an hour',
        series: [
          { series: hpa('kube_horizontalpodautoscaler_status_current_replicas'), values: gauge([30, 10]) },
          { series: hpa('kube_horizontalpodautoscaler_spec_max_replicas'), values: gauge([30, 10]) },
        ],
        checks: [{ at: '20m', firing: [[hpaLabels, '10']] }],
      },
    ],
    healthy: [
      {
        name: 'four replicas of ten',
        series: [
          { series: hpa('kube_horizontalpodautoscaler_status_current_replicas'), values: gauge([30, 4]) },
          { series: hpa('kube_horizontalpodautoscaler_spec_max_replicas'), values: gauge([30, 10]) },
        ],
        checks: [{ at: '20m', firing: [] }],
      },
    ],
    blip: [
      {
        name: 'a ten-minute peak at the maximum',
        series: [
          { series: hpa('kube_horizontalpodautoscaler_status_current_replicas'), values: gauge([10, 10], [30, 6]) },
          { series: hpa('kube_horizontalpodautoscaler_spec_max_replicas'), values: gauge([40, 10]) },
        ],
        checks: [5, 9, 15, 30].map((m) => ({ at: minutes(m), firing: [] })),
      },
    ],
  },

  [SymptomAlerts.AUDIT_SINK_FAILING]: {
    fires: [
      {
        name: 'the file sink fails five writes a minute for half an hour',
        series: [
          { series: `${Metrics.AUDIT_SINK_ERRORS_TOTAL}${pod(',sink="file"')}`, values: counter([30, 5]) },
          { series: `${Metrics.AUDIT_RECORDS_TOTAL}${pod(',outcome="written"')}`, values: counter([30, 100]) },
        ],
        checks: [{ at: '20m', firing: [[symptom('warning', { service: 'storefront' }), '0.08']] }],
      },
      {
        name: 'the buffer drops records for half an hour',
        series: [{ series: `${Metrics.AUDIT_RECORDS_TOTAL}${pod(',outcome="dropped"')}`, values: counter([30, 20]) }],
        checks: [{ at: '20m', firing: [[symptom('warning', { service: 'storefront' }), '0.33']] }],
      },
    ],
    healthy: [
      {
        name: 'every record written, the error counter flat',
        series: [
          { series: `${Metrics.AUDIT_SINK_ERRORS_TOTAL}${pod(',sink="file"')}`, values: counter([30, 0]) },
          { series: `${Metrics.AUDIT_RECORDS_TOTAL}${pod(',outcome="written"')}`, values: counter([30, 100]) },
          { series: `${Metrics.AUDIT_RECORDS_TOTAL}${pod(',outcome="dropped"')}`, values: counter([30, 0]) },
        ],
        checks: [{ at: '20m', firing: [] }],
      },
    ],
    blip: [
      {
        name: 'two minutes of write errors (a disk briefly full)',
        series: [{ series: `${Metrics.AUDIT_SINK_ERRORS_TOTAL}${pod(',sink="file"')}`, values: counter([10, 0], [2, 5], [30, 0]) }],
        checks: [11, 13, 16, 20, 30].map((m) => ({ at: minutes(m), firing: [] })),
      },
    ],
  },

  [SymptomAlerts.STOCK_FILTER_SPIKE]: {
    fires: [
      {
        name: 'seven candidates in ten dropped as out of stock for half an hour',
        series: [
          { series: `${Metrics.CANDIDATES_TOTAL}${pod(',intent="cross-sell"')}`, values: counter([40, 1000]) },
          { series: `${Metrics.FILTERED_ITEMS_TOTAL}${pod(',intent="cross-sell",reason="stock"')}`, values: counter([40, 700]) },
        ],
        checks: [{ at: '30m', firing: [[symptom('warning', { service: 'storefront' }), '70%']] }],
      },
    ],
    healthy: [
      {
        name: 'a tenth dropped for stock, most of the rest for diversity',
        series: [
          { series: `${Metrics.CANDIDATES_TOTAL}${pod(',intent="cross-sell"')}`, values: counter([40, 1000]) },
          { series: `${Metrics.FILTERED_ITEMS_TOTAL}${pod(',intent="cross-sell",reason="stock"')}`, values: counter([40, 100]) },
          { series: `${Metrics.FILTERED_ITEMS_TOTAL}${pod(',intent="cross-sell",reason="diversity"')}`, values: counter([40, 600]) },
        ],
        checks: [{ at: '30m', firing: [] }],
      },
    ],
    blip: [
      {
        name: 'a four-minute stock-out of a bestseller',
        series: [
          { series: `${Metrics.CANDIDATES_TOTAL}${pod(',intent="cross-sell"')}`, values: counter([60, 1000]) },
          { series: `${Metrics.FILTERED_ITEMS_TOTAL}${pod(',intent="cross-sell",reason="stock"')}`, values: counter([20, 100], [4, 900], [36, 100]) },
        ],
        checks: [22, 25, 30, 40].map((m) => ({ at: minutes(m), firing: [] })),
      },
    ],
  },

  [OperatorAlerts.RECONCILE_ERRORS]: {
    fires: [{ name: 'half the reconciles fail for half an hour', series: reconciles([40, 0.5]), checks: [{ at: '30m', firing: [[operatorLabels, '50%']] }] }],
    healthy: [{ name: 'one reconcile in twenty fails and is retried', series: reconciles([40, 0.05]), checks: [{ at: '30m', firing: [] }] }],
    blip: [{ name: 'every reconcile fails for five minutes (an API server restart)', series: reconciles([10, 0], [5, 1], [30, 0]), checks: [12, 15, 20, 30].map((m) => ({ at: minutes(m), firing: [] })) }],
  },

  [OperatorAlerts.NO_LEADER]: {
    fires: [
      {
        name: 'both replicas stand by for ten minutes',
        series: [leader('tandem-operator-a', gauge([15, 0])), leader('tandem-operator-b', gauge([15, 0]))],
        checks: [{ at: '8m', firing: [[operatorLabels, '0']] }],
      },
      { name: 'two replicas both lead (a split brain)', series: [leader('tandem-operator-a', gauge([15, 1])), leader('tandem-operator-b', gauge([15, 1]))], checks: [{ at: '8m', firing: [[operatorLabels, '2']] }] },
      { name: 'no operator replica is scraped at all', series: [{ series: 'up{namespace="elsewhere"}', values: gauge([15, 1]) }], checks: [{ at: '8m', firing: [[operatorLabels, '0']] }] },
    ],
    healthy: [{ name: 'one leader, one standby', series: [leader('tandem-operator-a', gauge([30, 1])), leader('tandem-operator-b', gauge([30, 0]))], checks: [{ at: '20m', firing: [] }] }],
    blip: [
      {
        name: 'a two-minute leader handover',
        series: [leader('tandem-operator-a', gauge([10, 1], [20, 0])), leader('tandem-operator-b', gauge([12, 0], [18, 1]))],
        checks: [11, 13, 16, 25].map((m) => ({ at: minutes(m), firing: [] })),
      },
    ],
  },

  [OperatorAlerts.QUEUE_BACKLOG]: {
    fires: [{ name: 'fifty keys waiting for half an hour', series: [{ series: op(OperatorMetricNames.WORKQUEUE_DEPTH, ',name="recommender"'), values: gauge([30, 50]) }], checks: [{ at: '20m', firing: [[operatorLabels, '50']] }] }],
    healthy: [
      {
        name: 'a resync queues two hundred keys every ten minutes and they drain within a minute',
        series: [{ series: op(OperatorMetricNames.WORKQUEUE_DEPTH, ',name="recommender"'), values: Array.from({ length: 4 }, () => gauge([1, 200], [9, 0])).join(' ') }],
        checks: [{ at: '35m', firing: [] }],
      },
    ],
    blip: [{ name: 'a ten-minute backlog after an operator restart', series: [{ series: op(OperatorMetricNames.WORKQUEUE_DEPTH, ',name="recommender"'), values: gauge([10, 50], [30, 0]) }], checks: [5, 10, 20].map((m) => ({ at: minutes(m), firing: [] })) }],
  },
};

const tools = promtoolDir();
afterAll(() => tools.cleanup());
const groups = [...recommenderRuleGroups(names, spec), ...operatorRuleGroups(OPERATOR_NAMESPACE)];
const allAlertNames = [...new Set(groups.flatMap((g) => g.rules.filter(isAlert).map((r) => r.alert)))];

/**
 * The shipped rules an alert needs, and no others (promtool evaluates every rule of the file at every step): its own
 * rules, and for an SLO alert the recording rules of its SLI.
 */
function rulesFor(alertname: string): string {
  const slo = (Object.entries(SLO_ALERTS) as [string, string][]).find(([, a]) => a === alertname)?.[0];
  const needed = (r: Rule) => (isAlert(r) ? r.alert === alertname : r.labels?.slo === slo);
  return tools.write(`${alertname}.rules.yaml`, ruleFile(groups.map((g) => ({ name: g.name, rules: g.rules.filter(needed) })).filter((g) => g.rules.length > 0)));
}

/** The annotations promtool should render: the rule's (by its window labels) with the labels and `$value` filled in. */
function expectedAnnotations(alertname: string, labels: Labels, value: string): Record<string, string> {
  const rule = groups.flatMap((g) => g.rules.filter(isAlert)).find((r) => r.alert === alertname && (r.labels.long === undefined || r.labels.long === labels.long));
  if (!rule) throw new Error(`no rule ${alertname} for ${JSON.stringify(labels)}`);
  const render = (text: string) =>
    text.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, l: string) => labels[l] ?? `<no ${l}>`).replace(/\{\{[^}]*\$value[^}]*\}\}/g, value);
  return Object.fromEntries(Object.entries(rule.annotations).map(([k, v]) => [k, render(v)]));
}

describe('promtool test rules', () => {
  it('When the cases are listed, Then every alert the rules define has cases that fire, stay healthy and sit out a blip, and no case names an unknown alert', () => {
    expect(Object.keys(CASES).sort()).toEqual([...allAlertNames].sort());
    for (const [alert, cases] of Object.entries(CASES)) {
      for (const kind of ['fires', 'healthy', 'blip'] as const) expect(cases[kind].length, `${alert} ${kind}`).toBeGreaterThan(0);
      for (const c of cases.fires) expect(c.checks.some((check) => check.firing.length > 0), `${alert}: "${c.name}" checks no firing alert`).toBe(true);
      for (const c of [...cases.healthy, ...cases.blip]) for (const check of c.checks) expect(check.firing, `${alert}: "${c.name}" at ${check.at}`).toEqual([]);
    }
  });

  it.each(Object.entries(CASES))('%s fires when it should, stays silent on healthy series and on a short blip', (alertname, cases) => {
    const all = [...cases.fires.map((c) => ['fires', c] as const), ...cases.healthy.map((c) => ['healthy', c] as const), ...cases.blip.map((c) => ['blip', c] as const)];
    const tests = {
      rule_files: [rulesFor(alertname)],
      evaluation_interval: '1m',
      tests: all.map(([kind, c]) => ({
        name: `${alertname} ${kind}: ${c.name}`,
        interval: '1m',
        input_series: c.series,
        alert_rule_test: c.checks.map((check) => ({
          eval_time: check.at,
          alertname,
          exp_alerts: check.firing.map(([exp_labels, value]) => ({ exp_labels, exp_annotations: expectedAnnotations(alertname, exp_labels, value) })),
        })),
      })),
    };
    const run = tools.testRules(`${alertname}.test.yaml`, tests);
    expect(run.output).toContain('SUCCESS');
    expect(run.status, run.output).toBe(0);
  }, 60_000);
});
