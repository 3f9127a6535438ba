/** Prometheus metrics of the service, on a registry of its own (several apps can live in one process). */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  duration: Histogram<'route' | 'method' | 'status'>;
  modelInfo: Gauge<'version'>;
  items: Histogram<'intent'>;
  ingested: Counter<'kind' | 'outcome'>;
  cacheLookups: Gauge<'result'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    duration: new Histogram({
      name: 'tandem_http_request_duration_seconds',
      help: 'HTTP request duration by route, method and status (its _count is the request count).',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    modelInfo: new Gauge({
      name: 'tandem_model_info',
      help: 'The active model version (value 1).',
      labelNames: ['version'],
      registers: [registry],
    }),
    items: new Histogram({
      name: 'tandem_recommendation_items',
      help: 'Items per recommendation answer, by intent.',
      labelNames: ['intent'],
      buckets: [0, 1, 3, 5, 10, 20, 50, 100],
      registers: [registry],
    }),
    ingested: new Counter({
      name: 'tandem_ingested_records_total',
      help: 'Records received by the ingestion endpoints, by kind and outcome.',
      labelNames: ['kind', 'outcome'],
      registers: [registry],
    }),
    cacheLookups: new Gauge({
      name: 'tandem_candidate_cache_lookups',
      help: 'Candidate cache lookups since start, by result (hit, miss).',
      labelNames: ['result'],
      registers: [registry],
    }),
  };
}
