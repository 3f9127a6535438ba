import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../cdk8s/constants.js';
import { createMetrics } from '../src/api/metrics.js';
import { METRICS_DOC_END, METRICS_DOC_START, metricsTable } from '../src/api/metrics-doc.js';

const page = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'metrics.md');

describe('the metrics page', () => {
  it('When the table is generated from the registry, Then docs/metrics.md holds exactly it', async () => {
    const text = readFileSync(page, 'utf8');
    const a = text.indexOf(METRICS_DOC_START);
    const b = text.indexOf(METRICS_DOC_END);
    expect(a, 'docs/metrics.md has the markers').toBeGreaterThanOrEqual(0);
    const want = `${text.slice(0, a + METRICS_DOC_START.length)}\n${await metricsTable()}\n${text.slice(b)}`;
    if (process.env.UPDATE_DOCS) writeFileSync(page, want);
    expect(text).toBe(want);
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
