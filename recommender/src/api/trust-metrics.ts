/**
 * The metrics of the audit trail, the erasures and the experiments (names from cdk8s `Metrics`, the
 * contract the alerts and dashboards read), and the hooks that feed them from the service and the sinks.
 */
import { Counter, type Registry } from 'prom-client';
import { Metrics as Names } from '../../../cdk8s/constants.js';
import type { SinkEvents } from '../audit/sink.js';
import type { ServiceObserver } from '../service.js';

export interface TrustMetrics {
  auditRecords: Counter<'outcome'>;
  auditSinkErrors: Counter<'sink'>;
  erasures: Counter;
  impressions: Counter<'experiment' | 'variant'>;
  clicks: Counter<'experiment' | 'variant'>;
  addToCarts: Counter<'experiment' | 'variant'>;
  conversions: Counter<'experiment' | 'variant'>;
  revenue: Counter<'experiment' | 'variant'>;
}

export function createTrustMetrics(registry: Registry): TrustMetrics {
  const counter = <L extends string>(name: string, help: string, labelNames: L[]) => new Counter<L>({ name, help, labelNames, registers: [registry] });
  const variant = ['experiment', 'variant'] as ('experiment' | 'variant')[];
  return {
    auditRecords: counter(Names.AUDIT_RECORDS_TOTAL, 'Audit records by outcome: written to the durable sink, or dropped (queue full, write failed).', ['outcome']),
    auditSinkErrors: counter(Names.AUDIT_SINK_ERRORS_TOTAL, 'Audit sink write failures, by sink (file, stdout, memory).', ['sink']),
    erasures: counter(Names.ERASURES_TOTAL, 'Shoppers erased (DELETE /v1/users/{id}).', []),
    impressions: counter(Names.EXPERIMENT_IMPRESSIONS_TOTAL, 'Answers shown in an experiment, by experiment and variant.', variant),
    clicks: counter(Names.EXPERIMENT_CLICKS_TOTAL, 'Answers clicked (a view or add-to-cart with their recommendationId), by experiment and variant.', variant),
    addToCarts: counter(Names.EXPERIMENT_ADD_TO_CARTS_TOTAL, 'Add-to-cart events carrying an answer\'s recommendationId, by experiment and variant.', variant),
    conversions: counter(Names.EXPERIMENT_CONVERSIONS_TOTAL, 'Answers converted (a purchase with their recommendationId), by experiment and variant.', variant),
    revenue: counter(Names.EXPERIMENT_REVENUE_TOTAL, 'Revenue (price × quantity) of the purchases credited to an answer, by experiment and variant.', variant),
  };
}

/** The service's metrics with the trust counters registered beside them, as `serve` builds its registry. */
export function withTrustMetrics<M extends { registry: Registry }>(metrics: M): M & { trust: TrustMetrics } {
  return { ...metrics, trust: createTrustMetrics(metrics.registry) };
}

/** The service's observer, counting into the metrics (valid events not used count as ingested with outcome `erased` or `expired`). */
export function serviceObserver(m: TrustMetrics, ingested: Counter<'kind' | 'outcome'>): ServiceObserver {
  const by = { impression: m.impressions, click: m.clicks, add_to_cart: m.addToCarts, conversion: m.conversions, revenue: m.revenue };
  return {
    experiment: (kind, experiment, variant, amount) => by[kind].inc({ experiment, variant }, amount),
    eventsDropped: (reason, n) => ingested.inc({ kind: 'event', outcome: reason }, n),
    erased: () => m.erasures.inc(),
  };
}

/**
 * A sink's events. Records count once, by the durable sink (file, or memory in the demo); the stdout
 * copy counts only its errors.
 */
export function sinkEvents(m: TrustMetrics, sink: string, onError: (err: Error) => void): SinkEvents {
  const durable = sink !== 'stdout';
  return {
    ...(durable ? { written: (n: number) => m.auditRecords.inc({ outcome: 'written' }, n), dropped: (n: number) => m.auditRecords.inc({ outcome: 'dropped' }, n) } : {}),
    error: (err) => {
      m.auditSinkErrors.inc({ sink });
      onError(err);
    },
  };
}
