/**
 * The operator dashboard: reconcile rate, errors and duration, the work queue, writes to the API server,
 * leader election, informer restarts, and the process (RSS, heap against the old-space limit, CPU, event loop).
 *
 * The metric names are `OperatorMetricNames` (cdk8s/constants.ts), which `operator/metrics.ts` registers; the heap
 * limit comes from the operator's command (`OPERATOR_COMMAND`). The operator's series carry no Recommender label (one
 * series per Recommender would grow with the cluster), so this dashboard has no Recommender variable.
 */
import { RowBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { OperatorAlerts } from '../cdk8s/alerts/operator.js';
import { OPERATOR_COMMAND, OperatorMetricNames } from '../cdk8s/constants.js';
import { build, dashboard, datasourceVariable, queryVariable, stat, timeseries } from './panels.js';

export const OPERATOR_DASHBOARD_UID = 'tandem-operator';

export const OperatorVariables = {
  NAMESPACE: 'namespace',
  JOB: 'job',
  POD: 'pod',
} as const;

/** The V8 old-space limit the operator runs with, in bytes (`--max-old-space-size=<MiB>` in its command). */
export function oldSpaceLimitBytes(command: readonly string[] = OPERATOR_COMMAND): number {
  const flag = command.find((a) => a.startsWith('--max-old-space-size='));
  const mib = Number(flag?.split('=')[1]);
  if (!flag || !Number.isInteger(mib) || mib <= 0) throw new Error(`failed to read --max-old-space-size=<MiB> from the operator command: ${command.join(' ')}`);
  return mib * 1024 * 1024;
}

export function operatorDashboard(): Dashboard {
  const v = OperatorVariables;
  const m = OperatorMetricNames;
  const reconcileTotal = m.RECONCILE_TOTAL;
  const reconcileErrors = m.RECONCILE_ERRORS_TOTAL;
  const reconcileTime = m.RECONCILE_TIME_SECONDS;
  const depth = m.WORKQUEUE_DEPTH;
  const adds = m.WORKQUEUE_ADDS_TOTAL;
  const retries = m.WORKQUEUE_RETRIES_TOTAL;
  const queueDuration = m.WORKQUEUE_QUEUE_DURATION_SECONDS;
  const inFlight = m.WORKQUEUE_UNFINISHED_WORK;
  const apiWrites = m.API_WRITES_TOTAL;
  const leader = m.LEADER;
  const informerRestarts = m.INFORMER_RESTARTS_TOTAL;

  const sel = `namespace="$${v.NAMESPACE}",job="$${v.JOB}",pod=~"$${v.POD}"`;
  const ri = '$__rate_interval';
  const quantile = (q: number, histogram: string) => `histogram_quantile(${q}, sum by (le) (rate(${histogram}_bucket{${sel}}[${ri}])))`;

  const b = dashboard({
    uid: OPERATOR_DASHBOARD_UID,
    title: 'Tandem / Operator',
    description: 'The tandem-operator: reconciles, work queue, API writes, leader election, informers and the Node process.',
  })
    .withVariable(datasourceVariable())
    .withVariable(
      queryVariable({
        name: v.NAMESPACE,
        label: 'Namespace',
        description: 'Namespaces where an operator replica is scraped.',
        selector: leader,
        labelName: 'namespace',
      }),
    )
    .withVariable(
      queryVariable({
        name: v.JOB,
        label: 'Job',
        description: "The scrape job of the operator's metrics Service.",
        selector: `${leader}{namespace="$${v.NAMESPACE}"}`,
        labelName: 'job',
      }),
    )
    .withVariable(
      queryVariable({
        name: v.POD,
        label: 'Pod',
        description: 'Operator replicas (only the leader reconciles).',
        selector: `up{namespace="$${v.NAMESPACE}",job="$${v.JOB}"}`,
        labelName: 'pod',
        multi: true,
      }),
    )

    .withRow(new RowBuilder('Overview'))
    .withPanel(
      stat({
        title: 'Firing alerts',
        description: `The operator's alerts firing now: ${Object.values(OperatorAlerts).join(', ')}.`,
        unit: units.NoUnit,
        width: 4,
        queries: [{ expr: `count(ALERTS{alertstate="firing",alertname=~"${Object.values(OperatorAlerts).join('|')}",namespace="$${v.NAMESPACE}"}) or vector(0)`, legend: 'firing' }],
        steps: [
          { color: 'green', value: null },
          { color: 'orange', value: 1 },
        ],
      }),
    )
    .withPanel(
      stat({
        title: 'Leaders',
        description: 'Replicas that hold the leader Lease. Exactly 1 is healthy; 0 means nothing reconciles, 2 means a split brain.',
        unit: units.NoUnit,
        width: 5,
        queries: [{ expr: `sum(${leader}{${sel}})`, legend: 'leaders' }],
        steps: [
          { color: 'red', value: null },
          { color: 'green', value: 1 },
          { color: 'red', value: 2 },
        ],
      }),
    )
    .withPanel(
      stat({
        title: 'Reconciles per second',
        description: 'Reconciliations finished per second, all results.',
        unit: units.OpsPerSecond,
        width: 5,
        queries: [{ expr: `sum(rate(${reconcileTotal}{${sel}}[${ri}]))`, legend: 'reconciles' }],
      }),
    )
    .withPanel(
      stat({
        title: 'Reconcile error ratio',
        description: 'Share of reconciliations that returned an error (they are retried with backoff). Check the Recommenders’ status conditions and the operator log.',
        unit: units.PercentUnit,
        decimals: 2,
        width: 5,
        queries: [{ expr: `sum(rate(${reconcileErrors}{${sel}}[${ri}])) / sum(rate(${reconcileTotal}{${sel}}[${ri}]))`, legend: 'errors' }],
        steps: [
          { color: 'green', value: null },
          { color: 'orange', value: 0.01 },
          { color: 'red', value: 0.1 },
        ],
      }),
    )
    .withPanel(
      stat({
        title: 'Work queue depth',
        description: 'Keys waiting for a worker now. It should drain to 0 between bursts; a depth that only grows means the workers cannot keep up.',
        unit: units.NoUnit,
        width: 5,
        queries: [{ expr: `sum(${depth}{${sel}})`, legend: 'depth' }],
      }),
    )

    .withRow(new RowBuilder('Reconcile'))
    .withPanel(
      timeseries({
        title: 'Reconcile rate by result',
        description: 'Reconciliations per second by result (success, error), by controller.',
        unit: units.OpsPerSecond,
        min: 0,
        queries: [{ expr: `sum by (controller, result) (rate(${reconcileTotal}{${sel}}[${ri}]))`, legend: '{{controller}} {{result}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Reconcile duration p50 / p99',
        description: 'Time per reconciliation (render, server-side apply, prune, status), from the reconcile time histogram (top bucket 30 s).',
        unit: units.Seconds,
        min: 0,
        queries: [
          { expr: quantile(0.5, reconcileTime), legend: 'p50' },
          { expr: quantile(0.99, reconcileTime), legend: 'p99' },
        ],
      }),
    )

    .withRow(new RowBuilder('Work queue'))
    .withPanel(
      timeseries({
        title: 'Work queue depth and in flight',
        description: 'Keys waiting in the work queue, and keys being reconciled by workers, by queue.',
        unit: units.NoUnit,
        width: 8,
        min: 0,
        queries: [
          { expr: `sum by (name) (${depth}{${sel}})`, legend: '{{name}} waiting' },
          { expr: `sum by (name) (${inFlight}{${sel}})`, legend: '{{name}} in flight' },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Work queue adds and retries',
        description: 'Keys handled per second, and rate-limited re-adds after a failed reconcile (retries), by queue. Retries that never stop mean a Recommender keeps failing.',
        unit: units.OpsPerSecond,
        width: 8,
        min: 0,
        queries: [
          { expr: `sum by (name) (rate(${adds}{${sel}}[${ri}]))`, legend: '{{name}} adds' },
          { expr: `sum by (name) (rate(${retries}{${sel}}[${ri}]))`, legend: '{{name}} retries' },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Queue wait p50 / p99',
        description: 'Time a key waits in the queue before a worker takes it.',
        unit: units.Seconds,
        width: 8,
        min: 0,
        queries: [
          { expr: quantile(0.5, queueDuration), legend: 'p50' },
          { expr: quantile(0.99, queueDuration), legend: 'p99' },
        ],
      }),
    )

    .withRow(new RowBuilder('API server and informers'))
    .withPanel(
      timeseries({
        title: 'API writes by kind and verb',
        description: 'Write requests sent to the API server per second, by object kind and verb (apply, delete, apply-status, create). A steady cluster should see almost none: unchanged objects are skipped.',
        unit: units.WritesPerSecond,
        width: 12,
        min: 0,
        queries: [{ expr: `sum by (kind, verb) (rate(${apiWrites}{${sel}}[${ri}]))`, legend: '{{kind}} {{verb}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Informer restarts',
        description: 'Watches restarted after an error, per informer, in each interval. Occasional restarts are normal (the API server closes watches); a steady stream is not.',
        unit: units.Short,
        width: 6,
        min: 0,
        queries: [{ expr: `sum by (informer) (increase(${informerRestarts}{${sel}}[${ri}]))`, legend: '{{informer}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Leader by pod',
        description: 'Which replica holds the leader Lease (1). A standby reports 0 once it has lost the lease, and nothing before it first leads.',
        unit: units.NoUnit,
        width: 6,
        min: 0,
        max: 1,
        queries: [{ expr: `max by (pod) (${leader}{${sel}})`, legend: '{{pod}}' }],
      }),
    )

    .withRow(new RowBuilder('Process'))
    .withPanel(
      timeseries({
        title: 'Memory per pod',
        description: 'Resident set size, used V8 heap and used old space of each replica, against the old-space limit of the operator command (--max-old-space-size).',
        unit: units.BytesIEC,
        width: 12,
        min: 0,
        queries: [
          { expr: `sum by (pod) (process_resident_memory_bytes{${sel}})`, legend: '{{pod}} RSS' },
          { expr: `sum by (pod) (nodejs_heap_size_used_bytes{${sel}})`, legend: '{{pod}} heap used' },
          { expr: `sum by (pod) (nodejs_heap_space_size_used_bytes{${sel},space="old"})`, legend: '{{pod}} old space used' },
          { expr: `vector(${oldSpaceLimitBytes()})`, legend: 'old-space limit', reference: true },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'CPU per pod',
        description: 'CPU time used per second (cores) by each replica.',
        unit: units.Short,
        width: 6,
        min: 0,
        queries: [{ expr: `sum by (pod) (rate(process_cpu_seconds_total{${sel}}[${ri}]))`, legend: '{{pod}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Event loop lag p99 per pod',
        description: 'The p99 event loop delay of each replica. Rendering and JSON work run on the event loop; lag delays watches and Lease renewals.',
        unit: units.Seconds,
        width: 6,
        min: 0,
        queries: [{ expr: `max by (pod) (nodejs_eventloop_lag_p99_seconds{${sel}})`, legend: '{{pod}}' }],
      }),
    );

  return build(b);
}
