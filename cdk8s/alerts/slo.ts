/**
 * The SLO rules of one Recommender, after the Google SRE workbook's multi-window, multi-burn-rate alerts (as Sloth
 * and Pyrra generate them): two SLIs, availability (the share of API requests answered with a 5xx) and latency
 * (the share slower than `spec.slo.latencyThresholdMs`), each recorded over every window the alerts read, plus
 * the objective itself, so dashboards read the same numbers the alerts compare.
 */
import type { RecommenderSpec } from '../api/v1alpha1/recommender.js';
import { Metrics } from '../constants.js';
import type { RecommenderNames } from '../names.js';
import { API_ROUTES, BY_RECOMMENDER, latencyBucket, leMatcher, scoringSelector } from './series.js';
import { round, runbookUrl, type Alert, type RecordingRule, type Severity } from './types.js';

export type Sli = 'availability' | 'latency';

export interface BurnWindow {
  readonly severity: Severity;
  /** How many times faster than sustainable the error budget burns. */
  readonly factor: number;
  readonly long: string;
  /** A twelfth of `long`: the alert stops soon after the burning does. */
  readonly short: string;
  readonly for: string;
}

/** Page on 2% of a 30-day budget burnt in 1 h or 5% in 6 h; ticket on 10% in 1 d or 10% in 3 d. */
export const BURN_WINDOWS: readonly BurnWindow[] = [
  { severity: 'critical', factor: 14.4, long: '1h', short: '5m', for: '2m' },
  { severity: 'critical', factor: 6, long: '6h', short: '30m', for: '15m' },
  { severity: 'warning', factor: 3, long: '1d', short: '2h', for: '1h' },
  { severity: 'warning', factor: 1, long: '3d', short: '6h', for: '3h' },
];

/** Every window a ratio is recorded over. */
export const SLO_WINDOWS: readonly string[] = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'];

/** The period the error budget is counted over (the dashboards' "budget remaining"). */
export const SLO_PERIOD = '30d';

/** Share of API requests that must be answered under `spec.slo.latencyThresholdMs` ("p99 latency objective"). */
export const LATENCY_OBJECTIVE = 0.99;

/** The recorded series, by name. Each carries `namespace`, `service`, `recommender` and `slo` (the SLI). */
export const SloSeries = {
  /** Share of bad requests (5xx, or slower than the threshold) over `window`. */
  errorRatio: (window: string) => `tandem:slo_errors:ratio_rate${window}`,
  /** The objective, e.g. 0.999. */
  OBJECTIVE: 'tandem:slo_objective:ratio',
  /** 1 − the objective: the share of requests that may be bad. */
  ERROR_BUDGET: 'tandem:slo_error_budget:ratio',
  /** The latency SLI's threshold in seconds: the histogram bucket it counts at (`slo="latency"` only). */
  LATENCY_THRESHOLD: 'tandem:slo_latency_threshold:seconds',
} as const;

export const SLO_ALERTS: Readonly<Record<Sli, string>> = {
  availability: 'TandemRecommenderAvailabilityBudgetBurn',
  latency: 'TandemRecommenderLatencyBudgetBurn',
};

interface SliDefinition {
  readonly objective: number;
  /** The share of bad requests over a window. */
  readonly ratio: (window: string) => string;
  readonly bad: string;
}

function slis(names: RecommenderNames, spec: RecommenderSpec): Record<Sli, SliDefinition> {
  const api = `${scoringSelector(names)},${API_ROUTES}`;
  const total = (w: string) => `sum by (${BY_RECOMMENDER}) (rate(${Metrics.REQUESTS_TOTAL}{${api}}[${w}]))`;
  const bucket = latencyBucket(spec.slo.latencyThresholdMs);
  return {
    availability: {
      objective: round(spec.slo.availabilityTarget / 100),
      // `or 0 * total`: the ratio is 0, not absent, while nothing has failed yet (and 1, not absent, when nothing succeeds).
      ratio: (w) => `(sum by (${BY_RECOMMENDER}) (rate(${Metrics.REQUESTS_TOTAL}{${api},status=~"5.."}[${w}])) or 0 * ${total(w)}) / ${total(w)}`,
      bad: 'answered with a 5xx',
    },
    latency: {
      objective: LATENCY_OBJECTIVE,
      // Every bucket of a label set exists once it has one request, so this is never absent while there is traffic.
      ratio: (w) => `1 - (sum by (${BY_RECOMMENDER}) (rate(${Metrics.REQUEST_DURATION_SECONDS}_bucket{${api},${leMatcher(bucket)}}[${w}])) / ${total(w)})`,
      bad: `slower than ${round(bucket * 1000)} ms`,
    },
  };
}

/** The recording rules: each SLI's bad-request ratio over every window and the budget period, and its objective. */
export function sloRecordingRules(names: RecommenderNames, spec: RecommenderSpec): RecordingRule[] {
  const labels = (slo: Sli) => ({ recommender: names.instance, slo });
  const recorded = (slo: Sli) => `${scoringSelector(names)},slo="${slo}"`;
  return (Object.entries(slis(names, spec)) as [Sli, SliDefinition][]).flatMap(([slo, sli]) => [
    ...SLO_WINDOWS.map((w) => ({ record: SloSeries.errorRatio(w), expr: sli.ratio(w), labels: labels(slo) })),
    // The budget period averages the 5m ratio (as Sloth does) instead of rating 30 days of raw samples.
    { record: SloSeries.errorRatio(SLO_PERIOD), expr: `avg_over_time(${SloSeries.errorRatio('5m')}{${recorded(slo)}}[${SLO_PERIOD}])`, labels: labels(slo) },
    { record: SloSeries.OBJECTIVE, expr: `vector(${sli.objective})`, labels: { ...labels(slo), namespace: names.namespace, service: names.scoring } },
    { record: SloSeries.ERROR_BUDGET, expr: `vector(${round(1 - sli.objective)})`, labels: { ...labels(slo), namespace: names.namespace, service: names.scoring } },
    ...(slo === 'latency'
      ? [{ record: SloSeries.LATENCY_THRESHOLD, expr: `vector(${latencyBucket(spec.slo.latencyThresholdMs)})`, labels: { ...labels(slo), namespace: names.namespace, service: names.scoring } }]
      : []),
  ]);
}

/** How long a whole 30-day budget lasts at a burn rate, in words. */
function budgetLasts(factor: number): string {
  const hours = (30 * 24) / factor;
  return hours < 72 ? `${round(hours)} hours` : `${round(hours / 24)} days`;
}

/** The burn-rate alerts: one rule per window pair, two that page and two that open a ticket, for each SLI. */
export function sloAlerts(names: RecommenderNames, spec: RecommenderSpec): Alert[] {
  const defs = slis(names, spec);
  return (Object.keys(defs) as Sli[]).flatMap((slo) => {
    const sli = defs[slo];
    const budget = round(1 - sli.objective);
    const series = (w: string) => `${SloSeries.errorRatio(w)}{${scoringSelector(names)},slo="${slo}"}`;
    const objective = slo === 'availability' ? `${round(sli.objective * 100)}% availability` : `${round(sli.objective * 100)}% of requests under ${spec.slo.latencyThresholdMs} ms`;
    return BURN_WINDOWS.map((w) => {
      const threshold = round(w.factor * budget);
      return {
        rule: {
          alert: SLO_ALERTS[slo],
          expr: `${series(w.long)} > ${threshold}\nand\n${series(w.short)} > ${threshold}`,
          for: w.for,
          labels: { severity: w.severity, long: w.long, short: w.short },
          annotations: {
            summary: w.severity === 'critical' ? `A Recommender is burning its ${slo} error budget fast.` : `A Recommender is burning its ${slo} error budget faster than it can sustain.`,
            description:
              `Recommender ${names.namespace}/${names.instance} has {{ $value | humanizePercentage }} of its API requests ${sli.bad} over the last ${w.long} ` +
              `(and still over ${w.short}): at least ${w.factor}× the rate its error budget allows (objective ${objective}), a pace that spends a 30-day budget in ${budgetLasts(w.factor)}.`,
            runbook_url: runbookUrl(SLO_ALERTS[slo]),
          },
        },
        signals: [series(w.long), series(w.short)],
      };
    });
  });
}
