/**
 * The operator's own Prometheus metrics, named after controller-runtime's
 * (`controller_runtime_reconcile_total`, `workqueue_depth`, …) under a `tandem_operator_` prefix. The names are
 * `OperatorMetricNames` in cdk8s/constants.ts, which the operator's alerts and dashboard read too.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { OperatorMetricNames as N } from '../cdk8s/constants.js';

export function createOperatorMetrics(register = new Registry()) {
  collectDefaultMetrics({ register });
  const controller = ['controller'] as const;
  return {
    register,
    reconcileTotal: new Counter({ name: N.RECONCILE_TOTAL, help: 'Reconciliations by result (success, error, requeue).', labelNames: [...controller, 'result'], registers: [register] }),
    reconcileErrors: new Counter({ name: N.RECONCILE_ERRORS_TOTAL, help: 'Reconciliations that returned an error.', labelNames: controller, registers: [register] }),
    reconcileTime: new Histogram({
      name: N.RECONCILE_TIME_SECONDS,
      help: 'Time per reconciliation.',
      labelNames: controller,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [register],
    }),
    workqueueDepth: new Gauge({ name: N.WORKQUEUE_DEPTH, help: 'Keys waiting in the work queue.', labelNames: ['name'], registers: [register] }),
    workqueueAdds: new Counter({ name: N.WORKQUEUE_ADDS_TOTAL, help: 'Keys handled by the work queue.', labelNames: ['name'], registers: [register] }),
    workqueueRetries: new Counter({ name: N.WORKQUEUE_RETRIES_TOTAL, help: 'Rate-limited re-adds after a failure.', labelNames: ['name'], registers: [register] }),
    workqueueQueueDuration: new Histogram({
      name: N.WORKQUEUE_QUEUE_DURATION_SECONDS,
      help: 'Time a key waits in the queue before a worker takes it.',
      labelNames: ['name'],
      buckets: [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 60],
      registers: [register],
    }),
    workqueueInFlight: new Gauge({ name: N.WORKQUEUE_UNFINISHED_WORK, help: 'Keys being processed by workers.', labelNames: ['name'], registers: [register] }),
    apiWrites: new Counter({ name: N.API_WRITES_TOTAL, help: 'Write requests sent to the API server, by kind and verb.', labelNames: ['kind', 'verb'], registers: [register] }),
    leader: new Gauge({ name: N.LEADER, help: '1 when this replica is the leader.', labelNames: ['name'], registers: [register] }),
    informerRestarts: new Counter({ name: N.INFORMER_RESTARTS_TOTAL, help: 'Watches restarted after an error.', labelNames: ['informer'], registers: [register] }),
  };
}

export type OperatorMetrics = ReturnType<typeof createOperatorMetrics>;
