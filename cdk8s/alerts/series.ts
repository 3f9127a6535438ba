/**
 * How the rules select a Recommender's series: by the `namespace` and `service` labels that prometheus-operator
 * puts on everything scraped through the Recommender's ServiceMonitor, and (for the objectives) the API routes only.
 */
import { REQUEST_DURATION_BUCKETS } from '../constants.js';
import type { RecommenderNames } from '../names.js';

/** The recommendation API's requests: objectives and autoscaling are about them, not probes and scrapes. */
export const API_ROUTES = 'route=~"/v1/.*"';

/** The matchers of one Recommender's scoring series. */
export function scoringSelector(names: RecommenderNames): string {
  return `namespace="${names.namespace}",service="${names.scoring}"`;
}

/** The labels the rules aggregate to: one series per Recommender. */
export const BY_RECOMMENDER = 'namespace, service';

/**
 * The bucket whose count is "requests at or under the latency threshold": the largest bucket bound at or below it
 * (stricter than the threshold, never laxer), or the smallest bound when the threshold is below every bucket.
 */
export function latencyBucket(thresholdMs: number, buckets: readonly number[] = REQUEST_DURATION_BUCKETS): number {
  const seconds = thresholdMs / 1000;
  const below = buckets.filter((b) => b <= seconds + 1e-12);
  return below.length > 0 ? Math.max(...below) : Math.min(...buckets);
}

/**
 * A matcher for the `le` label of a bucket bound. prom-client writes `le="1"`; Prometheus 3 normalises integer bounds
 * to `le="1.0"` at scrape time, Prometheus 2 keeps them, so an integer bound matches both spellings.
 */
export function leMatcher(bound: number): string {
  return Number.isInteger(bound) ? `le=~"${bound}(\\\\.0)?"` : `le="${bound}"`;
}
