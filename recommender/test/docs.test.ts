import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../cdk8s/constants.js';
import { generatedSections } from '../../hack/recommender-docs.js';
import { createMetrics } from '../src/api/metrics.js';

describe('the generated tables of the docs', () => {
  it('When the metrics and environment tables are generated, Then docs/metrics.md and docs/recommender.md hold exactly them', async () => {
    for (const { page, section, content } of await generatedSections()) {
      const block = new RegExp(`<!-- ${section}:start -->\\n([\\s\\S]*?)\\n<!-- ${section}:end -->`).exec(readFileSync(page, 'utf8'))?.[1];
      expect(block, `${page} ${section} table is stale: run \`npm run docs:recommender\``).toBe(content);
    }
  });
});

describe('the metric names contract', () => {
  it.each([
    [Metrics.REQUEST_DURATION_SECONDS, ['route', 'method', 'status']],
    [Metrics.RECOMMENDATIONS_TOTAL, ['intent', 'variant']],
    [Metrics.RECOMMENDED_ITEMS_TOTAL, ['intent', 'source']],
    [Metrics.CANDIDATES_TOTAL, ['intent']],
    [Metrics.FILTERED_ITEMS_TOTAL, ['intent', 'reason']],
    [Metrics.CACHE_REQUESTS_TOTAL, ['tier', 'result']],
    [Metrics.CACHE_UP, []],
    [Metrics.MODEL_INFO, ['version']],
    [Metrics.MODEL_AGE_SECONDS, []],
    [Metrics.MODEL_REFUSED_TOTAL, ['reason']],
    [Metrics.INGESTED_RECORDS_TOTAL, ['kind', 'outcome']],
    [Metrics.AUTH_FAILURES_TOTAL, ['reason']],
  ])('When the registry is built, Then %s is registered with the labels %j', (name, labels) => {
    const metric = createMetrics().registry.getSingleMetric(name) as unknown as { labelNames?: string[] } | undefined;
    expect(metric, `${name} is registered`).toBeDefined();
    expect(metric!.labelNames ?? []).toEqual(labels);
  });
});
