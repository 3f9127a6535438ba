/**
 * The recommender service dashboard: one Recommender's traffic, errors and latency against its SLO (burn rates and
 * error budget, read from the recording rules its PrometheusRule ships), what it recommends and filters out, the
 * candidate cache, the model and its retraining, ingestion, and the pods (autoscaler, Redis memory).
 *
 * Nothing here is a copy: metric names come from `cdk8s/constants.ts` (the contract the service exports), the
 * series selector, object names, recorded series and burn-rate windows from `cdk8s/alerts/`, rendered for the
 * Recommender the dashboard's variables select. So the dashboard plots what the alerts evaluate.
 */
import { RowBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { recommenderAlertRules } from '../cdk8s/alerts/render.js';
import { API_ROUTES, scoringSelector } from '../cdk8s/alerts/series.js';
import { BURN_WINDOWS, LATENCY_OBJECTIVE, SLO_PERIOD, SLO_WINDOWS, SloSeries, type Sli } from '../cdk8s/alerts/slo.js';
import { STOCK_FILTER_SPIKE } from '../cdk8s/alerts/symptoms.js';
import { RecommenderSpecSchema, type RecommenderSpec } from '../cdk8s/api/v1alpha1/recommender.js';
import { applyDefaults } from '../cdk8s/api/v1alpha1/validate.js';
import { LABEL_INSTANCE, MODEL_WATCH_SECONDS, Metrics } from '../cdk8s/constants.js';
import { recommenderNames } from '../cdk8s/names.js';
import { build, dashboard, datasourceVariable, promAnnotation, promLabel, queryVariable, stat, timeseries } from './panels.js';

export const RECOMMENDER_DASHBOARD_UID = 'tandem-recommender';

/** The variables the panels use; the Recommender's names are rendered from `$recommender` and `$namespace`. */
export const RecommenderVariables = {
  NAMESPACE: 'namespace',
  RECOMMENDER: 'recommender',
} as const;

/** The names of one Recommender as the dashboard's variables select it. */
export function selectedRecommender() {
  return recommenderNames(`$${RecommenderVariables.RECOMMENDER}`, `$${RecommenderVariables.NAMESPACE}`);
}

/** The Recommender picker: the instance label the ServiceMonitor copies onto the series of `metric`, in `$namespace`. */
export function recommenderVariable(metric: string) {
  return queryVariable({
    name: RecommenderVariables.RECOMMENDER,
    label: 'Recommender',
    description: `The Recommender (its ${LABEL_INSTANCE} label, copied onto the series by the ServiceMonitor).`,
    selector: `${metric}{namespace="$${RecommenderVariables.NAMESPACE}"}`,
    labelName: promLabel(LABEL_INSTANCE),
  });
}

/** `route="/v1/recommendations/cross-sell"` → `intent="cross-sell"`, for the latency panels by intent. */
export function byIntent(expr: string): string {
  return `label_replace(${expr}, "intent", "$1", "route", "/v1/recommendations/(.+)")`;
}

export function recommenderDashboard(): Dashboard {
  const v = RecommenderVariables;
  const defaults = applyDefaults(RecommenderSpecSchema, {}) as RecommenderSpec;
  const names = selectedRecommender();
  const alertNames = [...new Set(recommenderAlertRules(names, defaults).map((r) => r.alert))];

  const sel = scoringSelector(names);
  const api = `${sel},${API_ROUTES}`;
  const ns = `namespace="${names.namespace}"`;
  const ri = '$__rate_interval';
  const requests = Metrics.REQUESTS_TOTAL;
  const buckets = `${Metrics.REQUEST_DURATION_SECONDS}_bucket`;
  const rate = (metric: string, matchers = '', by?: string) => `sum${by ? ` by (${by})` : ''} (rate(${metric}{${sel}${matchers}}[${ri}]))`;
  const recorded = (series: string, slo: Sli) => `${series}{${sel},slo="${slo}"}`;
  const burnRate = (slo: Sli, window: string) => `${recorded(SloSeries.errorRatio(window), slo)} / ${recorded(SloSeries.ERROR_BUDGET, slo)}`;
  const quantile = (q: number) => `histogram_quantile(${q}, ${byIntent(`sum by (le, route) (rate(${buckets}{${sel},route=~"/v1/recommendations/.+"}[${ri}]))`)})`;
  const cacheRatio = `${rate(Metrics.CACHE_REQUESTS_TOTAL, ',result="hit"', 'tier')} / ${rate(Metrics.CACHE_REQUESTS_TOTAL, '', 'tier')}`;

  const burnPanel = (slo: Sli, what: string) =>
    timeseries({
      title: `${slo === 'availability' ? 'Availability' : 'Latency'} burn rate`,
      description:
        `How many times faster than its objective allows the Recommender spends its ${slo} error budget (${what}), over the windows of its burn-rate alerts, ` +
        `from the recording rules of its PrometheusRule. Dashed: the alert thresholds; a window pair pages (14.4×, 6×) or opens a ticket (3×, 1×) when both its windows stay above its line. 1× spends the budget in exactly ${SLO_PERIOD}.`,
      unit: units.NoUnit,
      min: 0,
      queries: [
        ...SLO_WINDOWS.map((w) => ({ expr: burnRate(slo, w), legend: `burn rate ${w}` })),
        ...[...new Set(BURN_WINDOWS.map((w) => w.factor))].map((f) => ({ expr: `vector(${f})`, legend: `${f}× threshold`, reference: true })),
      ],
    });

  const b = dashboard({
    uid: RECOMMENDER_DASHBOARD_UID,
    title: 'Tandem / Recommender',
    description: 'One Recommender: traffic, errors and latency against its SLO, burn rates and error budget, recommendations and filters, cache, model, retraining, ingestion and pods.',
  })
    .annotation(
      promAnnotation({
        name: 'Model rollouts',
        // A version that serves now and did not a minute ago.
        expr: `count by (version) (${Metrics.MODEL_INFO}{${sel}}) unless count by (version) (${Metrics.MODEL_INFO}{${sel}} offset 1m)`,
        title: 'model {{version}}',
        color: 'purple',
      }),
    )
    .withVariable(datasourceVariable())
    .withVariable(queryVariable({ name: v.NAMESPACE, label: 'Namespace', description: 'Namespaces with a scraped Recommender.', selector: requests, labelName: 'namespace' }))
    .withVariable(recommenderVariable(requests))

    .withRow(new RowBuilder('Service level'))
    .withPanel(
      stat({
        title: 'Firing alerts',
        description: `Alerts of this Recommender's PrometheusRule firing now: ${alertNames.join(', ')}.`,
        unit: units.NoUnit,
        width: 4,
        queries: [{ expr: `count(ALERTS{alertstate="firing",alertname=~"${alertNames.join('|')}",${ns},recommender="${names.instance}"}) or vector(0)`, legend: 'firing' }],
        steps: [
          { color: 'green', value: null },
          { color: 'red', value: 1 },
        ],
      }),
    )
    .withPanel(
      stat({
        title: 'API request rate',
        description: 'Requests per second to the /v1 API (probes and scrapes excluded): what the SLOs count.',
        unit: units.RequestsPerSecond,
        width: 4,
        queries: [{ expr: `sum (rate(${requests}{${api}}[${ri}]))`, legend: 'requests' }],
      }),
    )
    .withPanel(
      stat({
        title: 'Error ratio (5m)',
        description: 'Share of API requests answered with a 5xx over the last 5 minutes: the short window of the fastest availability burn-rate alert.',
        unit: units.PercentUnit,
        decimals: 3,
        width: 4,
        queries: [{ expr: recorded(SloSeries.errorRatio('5m'), 'availability'), legend: '5xx ratio' }],
      }),
    )
    .withPanel(
      stat({
        title: 'Slow ratio (5m)',
        description: "Share of API requests slower than the latency objective's histogram bucket over the last 5 minutes: the short window of the fastest latency burn-rate alert.",
        unit: units.PercentUnit,
        decimals: 3,
        width: 4,
        queries: [{ expr: recorded(SloSeries.errorRatio('5m'), 'latency'), legend: 'slow ratio' }],
      }),
    )
    .withPanel(
      stat({
        title: 'Model version',
        description: `The model version the scoring pods serve (${Metrics.MODEL_INFO}). Two versions at once means a rollout or a pod that refused a new artifact.`,
        unit: units.NoUnit,
        show: 'name',
        width: 4,
        queries: [{ expr: `max by (version) (${Metrics.MODEL_INFO}{${sel}})`, legend: '{{version}}' }],
      }),
    )
    .withPanel(
      stat({
        title: 'Scoring pods up',
        description: 'Scoring pods Prometheus scraped successfully. At 0 for 5 minutes, TandemRecommenderDown pages.',
        unit: units.NoUnit,
        width: 4,
        queries: [{ expr: `sum(up{${sel}})`, legend: 'up' }],
        steps: [
          { color: 'red', value: null },
          { color: 'green', value: 1 },
        ],
      }),
    )

    .withRow(new RowBuilder('SLO burn rates and error budget'))
    .withPanel(burnPanel('availability', 'requests answered with a 5xx'))
    .withPanel(burnPanel('latency', 'requests slower than spec.slo.latencyThresholdMs'))
    .withPanel(
      timeseries({
        title: `Error budget remaining (${SLO_PERIOD})`,
        description: `Share of the ${SLO_PERIOD} error budget not yet spent, per SLO: 1 − (bad-request ratio over ${SLO_PERIOD}) ÷ (1 − objective). Below 0 the objective is missed for the period.`,
        unit: units.PercentUnit,
        width: 16,
        max: 1,
        queries: (['availability', 'latency'] as const).map((slo) => ({ expr: `1 - ${recorded(SloSeries.errorRatio(SLO_PERIOD), slo)} / ${recorded(SloSeries.ERROR_BUDGET, slo)}`, legend: slo })),
      }),
    )

    .withPanel(
      stat({
        title: 'Objectives',
        description: `The objectives from spec.slo, as the PrometheusRule records them: availability (requests without a 5xx) and latency (requests under spec.slo.latencyThresholdMs, ${LATENCY_OBJECTIVE * 100}% of them).`,
        unit: units.PercentUnit,
        decimals: 2,
        width: 8,
        height: 8,
        queries: [{ expr: `max by (slo) (${SloSeries.OBJECTIVE}{${sel}})`, legend: '{{slo}}' }],
      }),
    )

    .withRow(new RowBuilder('Traffic and errors'))
    .withPanel(
      timeseries({
        title: 'Request rate by route and status',
        description: 'Requests per second by route (the OpenAPI path; "unmatched" for unknown paths) and HTTP status. Probes (/healthz, /readyz) are included.',
        unit: units.RequestsPerSecond,
        width: 12,
        queries: [{ expr: rate(requests, '', 'route, status'), legend: '{{route}} {{status}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Error ratio by route',
        description: 'Share of requests answered with a 5xx (server errors, counted by the availability SLO on /v1 routes) and a 4xx (bad input, a wrong API key, an unknown id: not part of the SLO), by route.',
        unit: units.PercentUnit,
        width: 12,
        min: 0,
        queries: [
          { expr: `${rate(requests, ',status=~"5.."', 'route')} / ${rate(requests, '', 'route')}`, legend: '5xx {{route}}' },
          { expr: `${rate(requests, ',status=~"4.."', 'route')} / ${rate(requests, '', 'route')}`, legend: '4xx {{route}}' },
        ],
      }),
    )

    .withRow(new RowBuilder('Latency'))
    .withPanel(
      timeseries({
        title: 'Latency p50 / p95 / p99 by intent',
        description:
          'Latency quantiles of the recommendation routes by intent (cross-sell, up-sell, personal), from the request duration histogram (top bucket 1 s). ' +
          "Dashed: the latency SLI's threshold, the histogram bucket at or below spec.slo.latencyThresholdMs.",
        unit: units.Seconds,
        width: 12,
        min: 0,
        queries: [
          { expr: quantile(0.5), legend: 'p50 {{intent}}' },
          { expr: quantile(0.95), legend: 'p95 {{intent}}' },
          { expr: quantile(0.99), legend: 'p99 {{intent}}' },
          { expr: recorded(SloSeries.LATENCY_THRESHOLD, 'latency'), legend: 'SLI threshold', reference: true },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'p99 latency by route',
        description: 'The p99 latency of every route, ingestion and probes included, to tell a slow recommendation intent from a slow ingestion endpoint.',
        unit: units.Seconds,
        width: 12,
        min: 0,
        queries: [{ expr: `histogram_quantile(0.99, ${rate(buckets, '', 'le, route')})`, legend: '{{route}}' }],
      }),
    )

    .withRow(new RowBuilder('Recommendations and filters'))
    .withPanel(
      timeseries({
        title: 'Answers by intent and variant',
        description: 'Recommendation answers served per second, by intent and A/B variant.',
        unit: units.RequestsPerSecond,
        width: 8,
        min: 0,
        stacked: true,
        queries: [{ expr: rate(Metrics.RECOMMENDATIONS_TOTAL, '', 'intent, variant'), legend: '{{intent}} {{variant}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Items shown by intent and source',
        description: 'Items shown per second, by intent and by the signal that put them there (bought together, also viewed, similar to, cold start, popular, promotion).',
        unit: units.OpsPerSecond,
        width: 8,
        min: 0,
        stacked: true,
        queries: [{ expr: rate(Metrics.RECOMMENDED_ITEMS_TOTAL, '', 'intent, source'), legend: '{{intent}} {{source}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Items filtered by reason',
        description: 'Candidates dropped per second by the business rules, by reason (stock, blocked, diversity, opt-out, limit).',
        unit: units.OpsPerSecond,
        width: 8,
        min: 0,
        stacked: true,
        queries: [{ expr: rate(Metrics.FILTERED_ITEMS_TOTAL, '', 'reason'), legend: '{{reason}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Candidates dropped for stock',
        description: `Share of the candidates the rules looked at that were dropped as out of stock. Above ${STOCK_FILTER_SPIKE * 100}% (dashed) for 15 minutes, TandemRecommenderStockFilterSpike fires: an inventory feed that zeroes stock looks like this.`,
        unit: units.PercentUnit,
        width: 24,
        height: 6,
        min: 0,
        max: 1,
        queries: [
          { expr: `${rate(Metrics.FILTERED_ITEMS_TOTAL, ',reason="stock"', 'intent')} / ${rate(Metrics.CANDIDATES_TOTAL, '', 'intent')}`, legend: '{{intent}}' },
          { expr: `vector(${STOCK_FILTER_SPIKE})`, legend: 'alert threshold', reference: true },
        ],
      }),
    )

    .withRow(new RowBuilder('Cache'))
    .withPanel(
      timeseries({
        title: 'Candidate cache hit ratio by tier',
        description: 'Share of candidate-cache lookups that hit, by tier (the in-process memory tier, then Redis). A collapse to under half its daily average for 15 minutes fires TandemRecommenderCacheHitRatioCollapsed.',
        unit: units.PercentUnit,
        width: 8,
        min: 0,
        max: 1,
        queries: [{ expr: cacheRatio, legend: '{{tier}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Cache lookups by tier and result',
        description: 'Candidate-cache lookups per second by tier and result (hit, miss, error). Redis errors mean the service is answering uncached.',
        unit: units.OpsPerSecond,
        width: 8,
        min: 0,
        queries: [{ expr: rate(Metrics.CACHE_REQUESTS_TOTAL, '', 'tier, result'), legend: '{{tier}} {{result}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Redis reachable, per pod',
        description: `1 while a scoring pod's Redis tier answers, 0 during an outage (${Metrics.CACHE_UP}; absent when spec.cache.enabled is false). 0 for 5 minutes fires TandemRecommenderCacheUnavailable.`,
        unit: units.NoUnit,
        width: 8,
        min: 0,
        max: 1,
        queries: [{ expr: `min by (pod) (${Metrics.CACHE_UP}{${sel}})`, legend: '{{pod}}' }],
      }),
    )

    .withRow(new RowBuilder('Model and retraining'))
    .withPanel(
      timeseries({
        title: 'Scoring pods by model version',
        description: `How many scoring pods serve each model version. Pods look for a newer artifact every ${MODEL_WATCH_SECONDS} s; a version that never spreads was refused (corrupt, or failed the activation gate).`,
        unit: units.NoUnit,
        width: 8,
        min: 0,
        stacked: true,
        queries: [{ expr: `count by (version) (${Metrics.MODEL_INFO}{${sel}})`, legend: '{{version}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Model age',
        description: 'Time since the served model was trained, oldest pod. Above twice the longest gap of spec.training.schedule for 10 minutes, TandemRecommenderModelStale fires.',
        unit: units.Seconds,
        width: 8,
        min: 0,
        queries: [{ expr: `max (${Metrics.MODEL_AGE_SECONDS}{${sel}})`, legend: 'age' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Time since the last successful retrain',
        description: `Age of the last successful run of the retraining CronJob ${names.retrain} (kube-state-metrics). It should stay below the longest gap of spec.training.schedule.`,
        unit: units.Seconds,
        width: 4,
        min: 0,
        queries: [{ expr: `time() - max (kube_cronjob_status_last_successful_time{${ns},cronjob="${names.retrain}"})`, legend: 'since last success' }],
      }),
    )
    .withPanel(
      stat({
        title: 'Failed retraining Jobs',
        description: `Jobs of the CronJob ${names.retrain} that failed and are still kept (failedJobsHistoryLimit). One that started after the last success fires TandemRecommenderTrainingJobFailed.`,
        unit: units.NoUnit,
        width: 4,
        height: 8,
        queries: [
          {
            expr: `count (kube_job_failed{${ns},condition="true"} * on (namespace, job_name) group_left () kube_job_owner{${ns},owner_kind="CronJob",owner_name="${names.retrain}"} > 0) or vector(0)`,
            legend: 'failed',
          },
        ],
        steps: [
          { color: 'green', value: null },
          { color: 'orange', value: 1 },
        ],
      }),
    )

    .withRow(new RowBuilder('Ingestion'))
    .withPanel(
      timeseries({
        title: 'Records ingested by kind and outcome',
        description: 'Catalogue items, inventory updates and events received per second by the ingestion endpoints, accepted or rejected.',
        unit: units.CountsPerSecond,
        min: 0,
        queries: [{ expr: rate(Metrics.INGESTED_RECORDS_TOTAL, '', 'kind, outcome'), legend: '{{kind}} {{outcome}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Rejected records by kind',
        description: 'Share of ingested records rejected (invalid or unknown), by kind. A jump usually means a feed changed its format.',
        unit: units.PercentUnit,
        min: 0,
        queries: [{ expr: `${rate(Metrics.INGESTED_RECORDS_TOTAL, ',outcome="rejected"', 'kind')} / ${rate(Metrics.INGESTED_RECORDS_TOTAL, '', 'kind')}`, legend: '{{kind}}' }],
      }),
    )

    .withRow(new RowBuilder('Pods and Redis'))
    .withPanel(
      timeseries({
        title: 'Replicas against the autoscaler maximum',
        description:
          `Scoring Deployment ${names.scoring}: desired and available replicas; its HorizontalPodAutoscaler's current replicas and maximum (dashed, with spec.autoscaling); ` +
          `ready Redis pods of ${names.redis} (with spec.cache.enabled). ` +
          'At the maximum for 15 minutes, TandemRecommenderAutoscalerAtMax fires. From kube-state-metrics.',
        unit: units.NoUnit,
        width: 8,
        min: 0,
        queries: [
          { expr: `max (kube_deployment_spec_replicas{${ns},deployment="${names.scoring}"})`, legend: 'desired' },
          { expr: `max (kube_deployment_status_replicas_available{${ns},deployment="${names.scoring}"})`, legend: 'available' },
          { expr: `max (kube_horizontalpodautoscaler_status_current_replicas{${ns},horizontalpodautoscaler="${names.scoring}"})`, legend: 'autoscaler current' },
          { expr: `max (kube_horizontalpodautoscaler_spec_max_replicas{${ns},horizontalpodautoscaler="${names.scoring}"})`, legend: 'autoscaler max', reference: true },
          { expr: `max (kube_statefulset_status_replicas_ready{${ns},statefulset="${names.redis}"})`, legend: 'Redis ready' },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Redis memory',
        description: `Working-set memory of each Redis pod of ${names.redis} (the kubelet's cAdvisor) against its container limit, spec.cache.memory (kube-state-metrics, dashed). Redis evicts least-recently-used keys at 80% of it.`,
        unit: units.BytesIEC,
        width: 8,
        min: 0,
        queries: [
          { expr: `sum by (pod) (container_memory_working_set_bytes{${ns},pod=~"${names.redis}-[0-9]+",container="redis"})`, legend: '{{pod}}' },
          { expr: `max (kube_pod_container_resource_limits{${ns},pod=~"${names.redis}-[0-9]+",container="redis",resource="memory"})`, legend: 'limit', reference: true },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'CPU per scoring pod',
        description: 'CPU time used per second (cores) by each scoring pod’s Node process.',
        unit: units.Short,
        width: 8,
        min: 0,
        queries: [{ expr: rate('process_cpu_seconds_total', '', 'pod'), legend: '{{pod}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Memory per scoring pod',
        description: 'Resident set size and used V8 heap of each scoring pod. The model’s arrays live outside the heap but count towards the container limit.',
        unit: units.BytesIEC,
        min: 0,
        queries: [
          { expr: `sum by (pod) (process_resident_memory_bytes{${sel}})`, legend: '{{pod}} RSS' },
          { expr: `sum by (pod) (nodejs_heap_size_used_bytes{${sel}})`, legend: '{{pod}} heap used' },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Event loop lag p99 per scoring pod',
        description: 'The p99 event loop delay of each scoring pod. Scoring runs on the event loop, so lag adds to every request’s latency.',
        unit: units.Seconds,
        min: 0,
        queries: [{ expr: `max by (pod) (nodejs_eventloop_lag_p99_seconds{${sel}})`, legend: '{{pod}}' }],
      }),
    );

  return build(b);
}
