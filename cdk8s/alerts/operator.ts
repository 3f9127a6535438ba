/**
 * The operator's own alerts, shipped with the install bundle and the chart. They select the operator's series by
 * the namespace it runs in (its metric names are its own, so no job label is needed). None of them pages: the
 * Recommenders keep serving while the operator is away; only changes and self-healing wait.
 */
import { OperatorMetricNames } from '../constants.js';
import { round, runbookUrl, type Alert, type RuleGroup } from './types.js';

/** Reconciles that error, as a share of all, above which the operator is failing rather than retrying. */
export const RECONCILE_ERROR_RATIO = 0.1;
/** Keys waiting in the work queue above which, for 15 minutes, the workers are not keeping up. */
export const QUEUE_BACKLOG_DEPTH = 10;

export const OperatorAlerts = {
  RECONCILE_ERRORS: 'TandemOperatorReconcileErrors',
  NO_LEADER: 'TandemOperatorNoLeader',
  QUEUE_BACKLOG: 'TandemOperatorQueueBacklog',
} as const;

export function operatorAlerts(namespace: string): Alert[] {
  const sel = `namespace="${namespace}"`;
  const m = OperatorMetricNames;
  const labels = { namespace };
  const rate = (metric: string, w = '5m') => `sum by (namespace) (rate(${metric}{${sel}}[${w}]))`;
  return [
    {
      rule: {
        alert: OperatorAlerts.RECONCILE_ERRORS,
        expr: `${rate(m.RECONCILE_ERRORS_TOTAL)}\n  / on (namespace)\n${rate(m.RECONCILE_TOTAL)} > ${RECONCILE_ERROR_RATIO}`,
        for: '15m',
        labels: { severity: 'warning', ...labels },
        annotations: {
          summary: 'The Tandem operator fails a large share of its reconciles.',
          description: `{{ $value | humanizePercentage }} of the reconciles of the operator in {{ $labels.namespace }} have failed for 15 minutes (the threshold is ${round(RECONCILE_ERROR_RATIO * 100)}%). The Recommenders' Ready conditions say which and why.`,
          runbook_url: runbookUrl(OperatorAlerts.RECONCILE_ERRORS),
        },
      },
      signals: [rate(m.RECONCILE_TOTAL), rate(m.RECONCILE_ERRORS_TOTAL)],
    },
    {
      rule: {
        alert: OperatorAlerts.NO_LEADER,
        // Two leaders is as wrong as none; `0 * absent()` counts an operator that is not scraped at all as 0 leaders.
        expr: `sum by (namespace) (${m.LEADER}{${sel}}) != 1\nor\n0 * absent(${m.LEADER}{${sel}})`,
        for: '5m',
        labels: { severity: 'warning', ...labels },
        annotations: {
          summary: 'The Tandem operator has no single leader.',
          description:
            '{{ $value }} replicas of the operator in {{ $labels.namespace }} have held the leader Lease for 5 minutes; exactly one should. ' +
            'With none, nothing reconciles: Recommender changes wait and drift is not corrected (serving goes on).',
          runbook_url: runbookUrl(OperatorAlerts.NO_LEADER),
        },
      },
      signals: [`sum by (namespace) (${m.LEADER}{${sel}})`],
    },
    {
      rule: {
        alert: OperatorAlerts.QUEUE_BACKLOG,
        expr: `sum by (namespace) (${m.WORKQUEUE_DEPTH}{${sel}}) > ${QUEUE_BACKLOG_DEPTH}`,
        for: '15m',
        labels: { severity: 'warning', ...labels },
        annotations: {
          summary: "The Tandem operator's work queue is not draining.",
          description: `{{ $value }} Recommenders have been waiting in the work queue of the operator in {{ $labels.namespace }} for 15 minutes (the threshold is ${QUEUE_BACKLOG_DEPTH}): changes reach the cluster late.`,
          runbook_url: runbookUrl(OperatorAlerts.QUEUE_BACKLOG),
        },
      },
      signals: [`sum by (namespace) (${m.WORKQUEUE_DEPTH}{${sel}})`],
    },
  ];
}

export function operatorRuleGroups(namespace: string): RuleGroup[] {
  return [{ name: 'tandem.operator', rules: operatorAlerts(namespace).map((a) => a.rule) }];
}
