import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { toolPath } from '../hack/control-plane.js';
import { recommenderAlertRules } from './monitoring.js';
import { recommenderNames } from './names.js';
import { renderRecommender } from './recommender-chart.js';
import { find, recommender } from './test/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'tandem-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the alert rules', () => {
  const names = recommenderNames('storefront', 'shop');

  it('pass promtool check rules', () => {
    const rules = find(renderRecommender(recommender()), 'PrometheusRule').spec;
    const file = join(dir, 'rules.yaml');
    writeFileSync(file, stringify(rules, { version: '1.1' }));
    const run = spawnSync(toolPath('promtool'), ['check', 'rules', file], { encoding: 'utf8' });
    expect(run.stdout + run.stderr).toContain('SUCCESS: 3 rules found');
    expect(run.status).toBe(0);
  });

  it('include an availability alert and a latency alert built from the SLO', () => {
    const rules = recommenderAlertRules(names, recommender({ slo: { availabilityTarget: 99.5, latencyThresholdMs: 120 } }).spec);
    const byName = Object.fromEntries(rules.map((r) => [r.alert, r]));
    // 14.4 × (1 − 0.995): the fast-burn threshold of a 99.5% objective.
    expect(byName.TandemRecommenderAvailabilityBurn?.expr).toContain('> 0.072');
    expect(byName.TandemRecommenderAvailabilityBurn?.expr).toContain('tandem_http_requests_total{namespace="shop",service="storefront",status=~"5.."}[1h]');
    expect(byName.TandemRecommenderLatencyHigh?.expr).toBe(
      'histogram_quantile(0.99, sum by (le) (rate(tandem_http_request_duration_seconds_bucket{namespace="shop",service="storefront"}[5m]))) > 0.12',
    );
    for (const r of rules) expect(r.annotations.runbook_url).toMatch(/^https:\/\/.+#tandemrecommender/);
  });

  it('scrape the metrics port of the scoring Service in its own namespace', () => {
    const monitor = find(renderRecommender(recommender()), 'ServiceMonitor');
    expect(monitor.spec).toMatchObject({
      selector: { matchLabels: { 'app.kubernetes.io/component': 'scoring', 'app.kubernetes.io/instance': 'storefront' } },
      namespaceSelector: { matchNames: ['shop'] },
      endpoints: [{ port: 'metrics', path: '/metrics' }],
    });
  });
});
