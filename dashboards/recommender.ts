/**
 * The recommender service dashboard: traffic, errors and latency against the Recommender's SLO, the model
 * version, the candidate cache, ingestion, retraining, and the pods.
 *
 * Nothing here is a copy: the metric names come from the recommender's own registry
 * (`recommender/src/api/metrics.ts`) and `cdk8s/constants.ts`; the series selector, the object names, the
 * burn-rate windows and the p99 latency signal come from `cdk8s/names.ts` and the alert rules in
 * `cdk8s/monitoring.ts`, rendered for the Recommender the dashboard's variables select. So the dashboard plots
 * what the alerts evaluate.
 */
import { RowBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { RecommenderSpecSchema, type RecommenderSpec } from '../cdk8s/api/v1alpha1/recommender.js';
import { applyDefaults } from '../cdk8s/api/v1alpha1/validate.js';
import { LABEL_INSTANCE, MODEL_WATCH_SECONDS, Metrics } from '../cdk8s/constants.js';
import { AVAILABILITY_BURN, recommenderAlertRules, type AlertRule } from '../cdk8s/monitoring.js';
import { recommenderNames } from '../cdk8s/names.js';
import { createMetrics } from '../recommender/src/api/metrics.js';
import { registeredName } from './metric-names.js';
import { build, dashboard, datasourceVariable, promAnnotation, promLabel, queryVariable, stat, textVariable, timeseries } from './panels.js';

export const RECOMMENDER_DASHBOARD_UID = 'tandem-recommender';

/** The variables the panels use; the Recommender's names are rendered from `$instance` and `$namespace`. */
export const RecommenderVariables = {
  NAMESPACE: 'namespace',
  INSTANCE: 'instance',
  LATENCY_THRESHOLD_MS: 'latency_threshold_ms',
  AVAILABILITY_TARGET: 'availability_target',
} as const;

/** The left-hand side of an alert of the form `<signal> > <threshold>`: the series the alert compares. */
export function alertSignal(rules: readonly AlertRule[], alert: string): string {
  const rule = rules.find((r) => r.alert === alert);
  if (!rule) throw new Error(`failed to find alert ${alert} in the Recommender's rules (${rules.map((r) => r.alert).join(', ')})`);
  const m = /^([\s\S]+?)\s*>\s*[0-9.eE+-]+$/.exec(rule.expr);
  if (!m) throw new Error(`failed to read the signal of alert ${alert}: expected "<signal> > <number>", got ${JSON.stringify(rule.expr)}`);
  return m[1]!;
}

export function recommenderDashboard(): Dashboard {
  const v = RecommenderVariables;
  const defaults = applyDefaults(RecommenderSpecSchema, {}) as RecommenderSpec;
  const names = recommenderNames(`$${v.INSTANCE}`, `$${v.NAMESPACE}`);
  const rules = recommenderAlertRules(names, defaults);

  const service = createMetrics();
  const name = (metric: object) => registeredName(service.registry, metric);
  const duration = name(service.duration);
  if (duration !== Metrics.REQUEST_DURATION_SECONDS) {
    throw new Error(`the recommender registry names its request histogram ${duration}, but cdk8s/constants.ts Metrics.REQUEST_DURATION_SECONDS is ${Metrics.REQUEST_DURATION_SECONDS}`);
  }
  const requests = `${duration}_count`;
  const buckets = `${duration}_bucket`;
  const modelInfo = name(service.modelInfo);
  const items = name(service.items);
  const ingested = name(service.ingested);
  const cacheRequests = name(service.cacheRequests);

  // The alerts' selector: the scoring Service's series, labelled by the ServiceMonitor in cdk8s/monitoring.ts.
  const sel = `namespace="${names.namespace}",service="${names.scoring}"`;
  const ri = '$__rate_interval';
  const errorRatio = (window: string) => `sum(rate(${requests}{${sel},status=~"5.."}[${window}])) / sum(rate(${requests}{${sel}}[${window}]))`;
  const errorBudget = `(1 - $${v.AVAILABILITY_TARGET} / 100)`;
  const quantile = (q: number, by = 'le') => `histogram_quantile(${q}, sum by (${by}) (rate(${buckets}{${sel}}[${ri}])))`;
  const alertNames = rules.map((r) => r.alert);

  const b = dashboard({
    uid: RECOMMENDER_DASHBOARD_UID,
    title: 'Tandem / Recommender',
    description: 'One Recommender: traffic, errors and latency against its SLO, model version, cache, ingestion, retraining and pods.',
  })
    .annotation(
      promAnnotation({
        name: 'Model rollouts',
        // A version that serves now and did not a minute ago.
        expr: `count by (version) (${modelInfo}{${sel}}) unless count by (version) (${modelInfo}{${sel}} offset 1m)`,
        title: 'model {{version}}',
        color: 'purple',
      }),
    )
    .withVariable(datasourceVariable())
    .withVariable(
      queryVariable({
        name: v.NAMESPACE,
        label: 'Namespace',
        description: 'Namespaces with a scraped Recommender.',
        selector: requests,
        labelName: 'namespace',
      }),
    )
    .withVariable(
      queryVariable({
        name: v.INSTANCE,
        label: 'Recommender',
        description: `The Recommender (its ${LABEL_INSTANCE} label, copied onto the series by the ServiceMonitor).`,
        selector: `${requests}{namespace="$${v.NAMESPACE}"}`,
        labelName: promLabel(LABEL_INSTANCE),
      }),
    )
    .withVariable(
      textVariable({
        name: v.LATENCY_THRESHOLD_MS,
        label: 'p99 objective (ms)',
        description: "The Recommender's spec.slo.latencyThresholdMs (Prometheus does not know it; the default is the schema default).",
        value: String(defaults.slo.latencyThresholdMs),
      }),
    )
    .withVariable(
      textVariable({
        name: v.AVAILABILITY_TARGET,
        label: 'Availability objective (%)',
        description: "The Recommender's spec.slo.availabilityTarget (Prometheus does not know it; the default is the schema default).",
        value: String(defaults.slo.availabilityTarget),
      }),
    )

    .withRow(new RowBuilder('Service level'))
    .withPanel(
      stat({
        title: 'Firing alerts',
        description: `Alerts of this Recommender's PrometheusRule that are firing now: ${alertNames.join(', ')}.`,
        unit: units.NoUnit,
        width: 4,
        queries: [{ expr: `count(ALERTS{alertstate="firing",alertname=~"${alertNames.join('|')}",namespace="${names.namespace}",recommender="${names.instance}"}) or vector(0)`, legend: 'firing' }],
        steps: [
          { color: 'green', value: null },
          { color: 'red', value: 1 },
        ],
      }),
    )
    .withPanel(
      stat({
        title: 'Request rate',
        description: 'Requests per second over all routes, probes included (the count of the request duration histogram).',
        unit: units.RequestsPerSecond,
        width: 4,
        queries: [{ expr: `sum(rate(${requests}{${sel}}[${ri}]))`, legend: 'requests' }],
      }),
    )
    .withPanel(
      stat({
        title: `Error ratio (${AVAILABILITY_BURN.short})`,
        description: `Share of requests answered with a 5xx over the last ${AVAILABILITY_BURN.short}, the short window of the availability burn-rate alert.`,
        unit: units.PercentUnit,
        decimals: 3,
        width: 4,
        queries: [{ expr: errorRatio(AVAILABILITY_BURN.short), legend: '5xx ratio' }],
      }),
    )
    .withPanel(
      stat({
        title: 'p99 latency (as alerted)',
        description: 'The p99 latency exactly as TandemRecommenderLatencyHigh evaluates it (5m window, all routes).',
        unit: units.Seconds,
        width: 4,
        queries: [{ expr: alertSignal(rules, 'TandemRecommenderLatencyHigh'), legend: 'p99' }],
      }),
    )
    .withPanel(
      stat({
        title: 'Model version',
        description: 'The model version the scoring pods serve (tandem_model_info). Two versions at once means a rollout or a pod that refused a new artifact.',
        unit: units.NoUnit,
        show: 'name',
        width: 4,
        queries: [{ expr: `max by (version) (${modelInfo}{${sel}})`, legend: '{{version}}' }],
      }),
    )
    .withPanel(
      stat({
        title: 'Scoring pods up',
        description: 'Scoring pods Prometheus scraped successfully. At 0 for 5 minutes, TandemRecommenderDown fires.',
        unit: units.NoUnit,
        width: 4,
        queries: [{ expr: `sum(up{${sel}})`, legend: 'up' }],
        steps: [
          { color: 'red', value: null },
          { color: 'green', value: 1 },
        ],
      }),
    )

    .withRow(new RowBuilder('Traffic and errors'))
    .withPanel(
      timeseries({
        title: 'Request rate by route and status',
        description: 'Requests per second by route (the OpenAPI path; "unmatched" for unknown paths) and HTTP status. Probes (/healthz, /readyz) are included.',
        unit: units.RequestsPerSecond,
        width: 24,
        queries: [{ expr: `sum by (route, status) (rate(${requests}{${sel}}[${ri}]))`, legend: '{{route}} {{status}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Error ratio vs the availability SLO',
        description:
          `Share of requests answered with a 5xx over the two windows of TandemRecommenderAvailabilityBurn (${AVAILABILITY_BURN.short} and ${AVAILABILITY_BURN.long}). ` +
          `The alert fires when both stay above the fast-burn line (${AVAILABILITY_BURN.rate} × the error budget) for 2 minutes. Set the objective in the "Availability objective" variable.`,
        unit: units.PercentUnit,
        min: 0,
        queries: [
          { expr: errorRatio(AVAILABILITY_BURN.short), legend: `5xx ratio (${AVAILABILITY_BURN.short})` },
          { expr: errorRatio(AVAILABILITY_BURN.long), legend: `5xx ratio (${AVAILABILITY_BURN.long})` },
          { expr: `vector(${errorBudget})`, legend: 'error budget (1 − objective)', reference: true },
          { expr: `vector(${AVAILABILITY_BURN.rate} * ${errorBudget})`, legend: `fast-burn threshold (${AVAILABILITY_BURN.rate} × budget)`, reference: true },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Client error ratio by route',
        description: 'Share of requests answered with a 4xx, by route: invalid input, a wrong API key (401) or an unknown recommendation id (404). Not part of the SLO.',
        unit: units.PercentUnit,
        min: 0,
        queries: [{ expr: `sum by (route) (rate(${requests}{${sel},status=~"4.."}[${ri}])) / sum by (route) (rate(${requests}{${sel}}[${ri}]))`, legend: '{{route}}' }],
      }),
    )

    .withRow(new RowBuilder('Latency'))
    .withPanel(
      timeseries({
        title: 'Latency p50 / p95 / p99 vs the objective',
        description:
          'Request latency quantiles over all routes, from the request duration histogram (its top bucket is 1 s). ' +
          'TandemRecommenderLatencyHigh fires when the 5m p99 stays above the objective for 10 minutes. Set the objective in the "p99 objective" variable.',
        unit: units.Seconds,
        min: 0,
        queries: [
          { expr: quantile(0.5), legend: 'p50' },
          { expr: quantile(0.95), legend: 'p95' },
          { expr: quantile(0.99), legend: 'p99' },
          { expr: `vector($${v.LATENCY_THRESHOLD_MS} / 1000)`, legend: 'objective (spec.slo.latencyThresholdMs)', reference: true },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'p99 latency by route',
        description: 'The p99 latency of each route, to tell a slow recommendation intent from a slow ingestion endpoint.',
        unit: units.Seconds,
        min: 0,
        queries: [{ expr: quantile(0.99, 'le, route'), legend: '{{route}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Items per answer by intent',
        description: 'Average number of items in a recommendation answer, by intent (cross-sell, up-sell, personal), after business rules.',
        unit: units.Short,
        min: 0,
        queries: [{ expr: `sum by (intent) (rate(${items}_sum{${sel}}[${ri}])) / sum by (intent) (rate(${items}_count{${sel}}[${ri}]))`, legend: '{{intent}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Empty answers by intent',
        description: 'Share of recommendation answers with no item at all, by intent: a cold catalogue, stock-outs or rules that filter everything out.',
        unit: units.PercentUnit,
        min: 0,
        queries: [{ expr: `sum by (intent) (rate(${items}_bucket{${sel},le="0"}[${ri}])) / sum by (intent) (rate(${items}_count{${sel}}[${ri}]))`, legend: '{{intent}}' }],
      }),
    )

    .withRow(new RowBuilder('Model, cache and retraining'))
    .withPanel(
      timeseries({
        title: 'Scoring pods by model version',
        description: `How many scoring pods serve each model version. Pods look for a newer artifact every ${MODEL_WATCH_SECONDS} s; a version that never spreads was refused (corrupt or mismatched).`,
        unit: units.NoUnit,
        width: 8,
        min: 0,
        stacked: true,
        queries: [{ expr: `count by (version) (${modelInfo}{${sel}})`, legend: '{{version}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Candidate cache hit ratio',
        description:
          'Share of candidate lookups served by each cache tier: memory (in the pod) and redis (the shared tier, asked on a memory miss). ' +
          'Redis errors (an outage) count as lookups that were not hits.',
        unit: units.PercentUnit,
        width: 8,
        min: 0,
        max: 1,
        queries: [{ expr: `sum by (tier) (rate(${cacheRequests}{${sel},result="hit"}[${ri}])) / sum by (tier) (rate(${cacheRequests}{${sel}}[${ri}]))`, legend: '{{tier}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Time since the last successful retrain',
        description: `Age of the last successful run of the retraining CronJob ${names.retrain} (kube-state-metrics). It should stay below the interval of spec.training.schedule.`,
        unit: units.Seconds,
        width: 8,
        min: 0,
        queries: [{ expr: `time() - kube_cronjob_status_last_successful_time{namespace="${names.namespace}",cronjob="${names.retrain}"}`, legend: 'since last success' }],
      }),
    )

    .withRow(new RowBuilder('Ingestion'))
    .withPanel(
      timeseries({
        title: 'Records ingested by kind and outcome',
        description: 'Catalogue items, inventory updates and events received per second by the ingestion endpoints, accepted or rejected.',
        unit: units.RecordsPerSecond,
        min: 0,
        queries: [{ expr: `sum by (kind, outcome) (rate(${ingested}{${sel}}[${ri}]))`, legend: '{{kind}} {{outcome}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Rejected records by kind',
        description: 'Share of ingested records rejected (invalid or unknown), by kind. A jump usually means a feed changed its format.',
        unit: units.PercentUnit,
        min: 0,
        queries: [{ expr: `sum by (kind) (rate(${ingested}{${sel},outcome="rejected"}[${ri}])) / sum by (kind) (rate(${ingested}{${sel}}[${ri}]))`, legend: '{{kind}}' }],
      }),
    )

    .withRow(new RowBuilder('Pods'))
    .withPanel(
      timeseries({
        title: 'Replicas',
        description:
          `Scoring Deployment ${names.scoring}: desired and available replicas; its HorizontalPodAutoscaler's desired and maximum (with spec.autoscaling); ` +
          `ready Redis pods of ${names.redis} (with spec.cache.enabled). From kube-state-metrics.`,
        unit: units.NoUnit,
        min: 0,
        queries: [
          { expr: `kube_deployment_spec_replicas{namespace="${names.namespace}",deployment="${names.scoring}"}`, legend: 'scoring desired' },
          { expr: `kube_deployment_status_replicas_available{namespace="${names.namespace}",deployment="${names.scoring}"}`, legend: 'scoring available' },
          { expr: `kube_horizontalpodautoscaler_status_desired_replicas{namespace="${names.namespace}",horizontalpodautoscaler="${names.scoring}"}`, legend: 'autoscaler desired' },
          { expr: `kube_horizontalpodautoscaler_spec_max_replicas{namespace="${names.namespace}",horizontalpodautoscaler="${names.scoring}"}`, legend: 'autoscaler max', reference: true },
          { expr: `kube_statefulset_status_replicas_ready{namespace="${names.namespace}",statefulset="${names.redis}"}`, legend: 'redis ready' },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'CPU per scoring pod',
        description: 'CPU time used per second (cores) by each scoring pod’s Node process.',
        unit: units.Short,
        min: 0,
        queries: [{ expr: `sum by (pod) (rate(process_cpu_seconds_total{${sel}}[${ri}]))`, legend: '{{pod}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Memory per scoring pod',
        description: 'Resident set size and used V8 heap of each scoring pod. The in-memory indexes of the model live on the heap.',
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
