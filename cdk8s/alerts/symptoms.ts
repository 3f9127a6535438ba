/**
 * Symptom alerts of one Recommender: what an SLO does not see coming, or sees only once users are hurt. Each is
 * rendered only when the spec has the part it watches (a cache tier, retraining, an autoscaler, the audit trail).
 */
import type { RecommenderSpec } from '../api/v1alpha1/recommender.js';
import { Metrics } from '../constants.js';
import type { RecommenderNames } from '../names.js';
import { retrainingPeriodSeconds } from './schedule.js';
import { BY_RECOMMENDER, scoringSelector } from './series.js';
import { round, runbookUrl, type Alert, type Severity } from './types.js';

/** The hit ratio over 10 minutes has fallen below this share of its 1-day average. */
export const HIT_RATIO_COLLAPSE = 0.5;
/** Lookups per second under which a hit ratio says nothing (a quiet shop at night). */
export const HIT_RATIO_MIN_LOOKUPS = 0.1;
/** A model is stale when older than this many retraining periods (one missed run is tolerated). */
export const STALE_PERIODS = 2;
/** Share of candidates dropped because they are out of stock above which the inventory feed is suspect. */
export const STOCK_FILTER_SPIKE = 0.5;

export const SymptomAlerts = {
  DOWN: 'TandemRecommenderDown',
  CACHE_UNAVAILABLE: 'TandemRecommenderCacheUnavailable',
  CACHE_HIT_RATIO_COLLAPSED: 'TandemRecommenderCacheHitRatioCollapsed',
  MODEL_STALE: 'TandemRecommenderModelStale',
  TRAINING_JOB_FAILED: 'TandemRecommenderTrainingJobFailed',
  AUTOSCALER_AT_MAX: 'TandemRecommenderAutoscalerAtMax',
  AUDIT_SINK_FAILING: 'TandemRecommenderAuditSinkFailing',
  STOCK_FILTER_SPIKE: 'TandemRecommenderStockFilterSpike',
} as const;

interface SymptomProps {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly severity: Severity;
  readonly summary: string;
  readonly description: string;
  readonly signals: readonly string[];
}

export function symptomAlerts(names: RecommenderNames, spec: RecommenderSpec): Alert[] {
  // Written out: `$labels` holds the series' labels only, and some expressions (absent(), joins) lose them.
  const WHO = `Recommender ${names.namespace}/${names.instance}`;
  const sel = scoringSelector(names);
  const ns = `namespace="${names.namespace}"`;
  const rate = (metric: string, matchers: string, w: string, by = BY_RECOMMENDER) => `sum by (${by}) (rate(${metric}{${sel}${matchers}}[${w}]))`;
  const alert = (p: SymptomProps): Alert => ({
    rule: {
      alert: p.alert,
      expr: p.expr,
      for: p.for,
      // Static: some expressions (absent(), joins on kube-state-metrics) lose the Recommender's labels.
      labels: { severity: p.severity, namespace: names.namespace, recommender: names.instance },
      annotations: { summary: p.summary, description: p.description, runbook_url: runbookUrl(p.alert) },
    },
    signals: p.signals,
  });
  const out: Alert[] = [
    alert({
      alert: SymptomAlerts.DOWN,
      expr: `sum by (${BY_RECOMMENDER}) (up{${sel}}) == 0\nor\nabsent(up{${sel}})`,
      for: '5m',
      severity: 'critical',
      summary: 'No scoring pod of a Recommender is being scraped.',
      description: `Prometheus has scraped no healthy pod behind the Service {{ $labels.namespace }}/{{ $labels.service }} of ${WHO} for 5 minutes: the pods are down, not ready, or unreachable from Prometheus.`,
      signals: [`sum by (${BY_RECOMMENDER}) (up{${sel}})`],
    }),
  ];

  if (spec.cache.enabled) {
    const hitRatio = (w: string) => `(${rate(Metrics.CACHE_REQUESTS_TOTAL, ',result="hit"', w, `${BY_RECOMMENDER}, tier`)} / ${rate(Metrics.CACHE_REQUESTS_TOTAL, '', w, `${BY_RECOMMENDER}, tier`)})`;
    out.push(
      alert({
        alert: SymptomAlerts.CACHE_UNAVAILABLE,
        expr: `min by (${BY_RECOMMENDER}, pod) (${Metrics.CACHE_UP}{${sel}}) == 0`,
        for: '5m',
        severity: 'warning',
        summary: "A Recommender's scoring pods cannot reach its Redis cache tier.",
        description: `Scoring pod {{ $labels.pod }} of ${WHO} has reported its Redis cache tier down for 5 minutes. It answers uncached: latency and CPU rise.`,
        signals: [`min by (${BY_RECOMMENDER}, pod) (${Metrics.CACHE_UP}{${sel}})`],
      }),
      alert({
        alert: SymptomAlerts.CACHE_HIT_RATIO_COLLAPSED,
        expr:
          `${hitRatio('10m')} < ${HIT_RATIO_COLLAPSE} * ${hitRatio('1d')}\n` +
          `and on (${BY_RECOMMENDER}, tier)\n${rate(Metrics.CACHE_REQUESTS_TOTAL, '', '10m', `${BY_RECOMMENDER}, tier`)} > ${HIT_RATIO_MIN_LOOKUPS}`,
        for: '15m',
        severity: 'warning',
        summary: "A Recommender's candidate cache hit ratio has collapsed.",
        description: `The {{ $labels.tier }} cache hit ratio of ${WHO} is {{ $value | humanizePercentage }} over 10 minutes, less than ${round(HIT_RATIO_COLLAPSE * 100)}% of its 1-day average, for 15 minutes.`,
        signals: [hitRatio('10m'), hitRatio('1d')],
      }),
    );
  }

  // Neither a suspended schedule nor a pinned version is meant to bring a newer model.
  if (!spec.training.suspend && spec.model.version === 'latest') {
    const period = retrainingPeriodSeconds(spec.training.schedule);
    const limit = STALE_PERIODS * period;
    out.push(
      alert({
        alert: SymptomAlerts.MODEL_STALE,
        expr: `max by (${BY_RECOMMENDER}) (${Metrics.MODEL_AGE_SECONDS}{${sel}}) > ${limit}`,
        for: '10m',
        severity: 'warning',
        summary: 'A Recommender serves a model older than two retraining periods.',
        description:
          `${WHO} serves a model trained {{ $value | humanizeDuration }} ago; its schedule "${spec.training.schedule}" retrains at least every ${round(period / 3600)} h, ` +
          `so at least one run did not produce a model.`,
        signals: [`max by (${BY_RECOMMENDER}) (${Metrics.MODEL_AGE_SECONDS}{${sel}})`],
      }),
      alert({
        alert: SymptomAlerts.TRAINING_JOB_FAILED,
        // A failed Job of the retraining CronJob that started after its last success.
        expr:
          `(\n  max by (namespace, job_name) (kube_job_failed{${ns},condition="true"} > 0)\n` +
          `  * on (namespace, job_name) group_left ()\n` +
          `  max by (namespace, job_name) (kube_job_owner{${ns},owner_kind="CronJob",owner_name="${names.retrain}"})\n)\n` +
          `unless on (namespace, job_name)\n(\n  max by (namespace, job_name) (kube_job_status_start_time{${ns}})\n` +
          `  < on (namespace) group_left ()\n  max by (namespace) (kube_cronjob_status_last_successful_time{${ns},cronjob="${names.retrain}"})\n)`,
        for: '15m',
        severity: 'warning',
        summary: "A Recommender's retraining Job failed.",
        description: `Job {{ $labels.job_name }} of the CronJob ${names.retrain} (${WHO}) failed, and no retraining has succeeded since it started. The service keeps its current model.`,
        signals: [`kube_job_owner{${ns},owner_kind="CronJob",owner_name="${names.retrain}"}`],
      }),
    );
  }

  if (spec.autoscaling.enabled && spec.replicas.min < spec.replicas.max) {
    const hpa = `${ns},horizontalpodautoscaler="${names.scoring}"`;
    out.push(
      alert({
        alert: SymptomAlerts.AUTOSCALER_AT_MAX,
        expr: `kube_horizontalpodautoscaler_status_current_replicas{${hpa}}\n  >= on (namespace, horizontalpodautoscaler)\nkube_horizontalpodautoscaler_spec_max_replicas{${hpa}}`,
        for: '15m',
        severity: 'warning',
        summary: "A Recommender's autoscaler has been at its maximum for 15 minutes.",
        description: `The HorizontalPodAutoscaler of ${WHO} has run {{ $value }} scoring pods, its spec.replicas.max, for 15 minutes: it cannot add capacity if load grows.`,
        signals: [`kube_horizontalpodautoscaler_status_current_replicas{${hpa}}`, `kube_horizontalpodautoscaler_spec_max_replicas{${hpa}}`],
      }),
    );
  }

  if (spec.audit.enabled) {
    out.push(
      alert({
        alert: SymptomAlerts.AUDIT_SINK_FAILING,
        expr: `${rate(Metrics.AUDIT_SINK_ERRORS_TOTAL, '', '5m')} > 0\nor\n${rate(Metrics.AUDIT_RECORDS_TOTAL, ',outcome="dropped"', '5m')} > 0`,
        for: '10m',
        severity: 'warning',
        summary: "A Recommender's audit trail is failing to write or dropping records.",
        description: `${WHO} has failed to write or dropped {{ printf "%.2f" $value }} audit records a second for 10 minutes. Serving goes on, but those recommendations have no decision record.`,
        signals: [rate(Metrics.AUDIT_RECORDS_TOTAL, '', '5m', `${BY_RECOMMENDER}, outcome`)],
      }),
    );
  }

  out.push(
    alert({
      alert: SymptomAlerts.STOCK_FILTER_SPIKE,
      expr: `${rate(Metrics.FILTERED_ITEMS_TOTAL, ',reason="stock"', '10m')}\n  / on (${BY_RECOMMENDER})\n${rate(Metrics.CANDIDATES_TOTAL, '', '10m')} > ${STOCK_FILTER_SPIKE}`,
      for: '15m',
      severity: 'warning',
      summary: 'A Recommender drops most candidates as out of stock: the inventory feed may be broken.',
      description: `${WHO} has dropped {{ $value | humanizePercentage }} of its candidates as out of stock for 15 minutes (the threshold is ${round(STOCK_FILTER_SPIKE * 100)}%). An inventory feed that zeroes stock looks like this.`,
      signals: [rate(Metrics.CANDIDATES_TOTAL, '', '10m'), rate(Metrics.FILTERED_ITEMS_TOTAL, '', '10m', `${BY_RECOMMENDER}, reason`)],
    }),
  );
  return out;
}
