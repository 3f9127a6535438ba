/**
 * The operator's own Prometheus metrics, named after controller-runtime's
 * (`controller_runtime_reconcile_total`, `workqueue_depth`, …) under a `tandem_operator_` prefix.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createOperatorMetrics(register = new Registry()) {
  collectDefaultMetrics({ register });
  const controller = ['controller'] as const;
  return {
    register,
    reconcileTotal: new Counter({ name: 'tandem_operator_reconcile_total', help: 'Reconciliations by result (success, error, requeue).', labelNames: [...controller, 'result'], registers: [register] }),
    reconcileErrors: new Counter({ name: 'tandem_operator_reconcile_errors_total', help: 'Reconciliations that returned an error.', labelNames: controller, registers: [register] }),
    reconcileTime: new Histogram({
      name: 'tandem_operator_reconcile_time_seconds',
      help: 'Time per reconciliation.',
      labelNames: controller,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [register],
    }),
    workqueueDepth: new Gauge({ name: 'tandem_operator_workqueue_depth', help: 'Keys waiting in the work queue.', labelNames: ['name'], registers: [register] }),
    workqueueAdds: new Counter({ name: 'tandem_operator_workqueue_adds_total', help: 'Keys handled by the work queue.', labelNames: ['name'], registers: [register] }),
    workqueueRetries: new Counter({ name: 'tandem_operator_workqueue_retries_total', help: 'Rate-limited re-adds after a failure.', labelNames: ['name'], registers: [register] }),
    workqueueQueueDuration: new Histogram({
      name: 'tandem_operator_workqueue_queue_duration_seconds',
      help: 'Time a key waits in the queue before a worker takes it.',
      labelNames: ['name'],
      buckets: [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 60],
      registers: [register],
    }),
    workqueueInFlight: new Gauge({ name: 'tandem_operator_workqueue_unfinished_work', help: 'Keys being processed by workers.', labelNames: ['name'], registers: [register] }),
    apiWrites: new Counter({ name: 'tandem_operator_api_writes_total', help: 'Write requests sent to the API server, by kind and verb.', labelNames: ['kind', 'verb'], registers: [register] }),
    leader: new Gauge({ name: 'tandem_operator_leader_election_master_status', help: '1 when this replica is the leader.', labelNames: ['name'], registers: [register] }),
    informerRestarts: new Counter({ name: 'tandem_operator_informer_restarts_total', help: 'Watches restarted after an error.', labelNames: ['informer'], registers: [register] }),
  };
}

export type OperatorMetrics = ReturnType<typeof createOperatorMetrics>;
