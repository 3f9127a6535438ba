/**
 * The metric contract: every PromQL expression the dashboards and the alert rules ship reads only series that the
 * scoring service and the operator export on their live /metrics, that the Recommender's PrometheusRule records,
 * or that a named exporter provides (kube-state-metrics, cAdvisor, Prometheus's `up` and `ALERTS`). Contract
 * metrics the service does not export yet are allowed only through the explicit PENDING_SERVICE_METRICS list.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorRuleGroups } from '../cdk8s/alerts/operator.js';
import { recommenderRuleGroups } from '../cdk8s/alerts/render.js';
import { Metrics } from '../cdk8s/constants.js';
import { recommenderNames } from '../cdk8s/names.js';
import { recommender } from '../cdk8s/test/fixtures.js';
import { createOperatorMetrics } from '../operator/metrics.js';
import { createMetricsApp } from '../recommender/src/api/app.js';
import { createMetrics } from '../recommender/src/api/metrics.js';
import { withTrustMetrics } from '../recommender/src/api/trust-metrics.js';
import { startServer, type Running } from '../recommender/src/server.js';
import { dashboardQueries, metricNames } from './inspect.js';
import { EXTERNAL_SERIES, PENDING_SERVICE_METRICS, RECORDED_SERIES, seriesNames } from './metric-names.js';
import { DASHBOARDS } from './render.js';

/** Every expression shipped: panels, annotations and variables of each dashboard, and every rule. */
const shipped = [
  ...DASHBOARDS.flatMap((s) => {
    const d = s.build();
    return dashboardQueries(d).map((q) => ({ where: `${d.uid} ${q.where}`, expr: q.expr }));
  }),
  ...[...recommenderRuleGroups(recommenderNames('storefront', 'shop'), recommender().spec), ...operatorRuleGroups('tandem-system')].flatMap((g) =>
    g.rules.map((r) => ({ where: `rule ${'alert' in r ? r.alert : r.record} (${g.name})`, expr: r.expr })),
  ),
];
const read = new Set(shipped.flatMap((q) => metricNames(q.expr)));

let service: Running;
let exported: Set<string>;
beforeAll(async () => {
  service = await startServer(createMetricsApp(withTrustMetrics(createMetrics())), 0, '127.0.0.1');
  const live = await (await fetch(`http://127.0.0.1:${service.port}/metrics`)).text();
  exported = new Set([...seriesNames(live), ...seriesNames(await createOperatorMetrics().register.metrics())]);
});
afterAll(() => service?.close());

describe('the metric contract', () => {
  it('When the service answers /metrics, Then it exports the request histogram the SLOs are built on', () => {
    expect(exported).toContain(`${Metrics.REQUEST_DURATION_SECONDS}_bucket`);
    expect(exported).toContain(Metrics.REQUESTS_TOTAL);
    expect(exported).toContain('tandem_operator_reconcile_total');
  });

  it('Every dashboard query and rule reads only exported, recorded, external or explicitly pending series', () => {
    const unknown = shipped.flatMap((q) =>
      metricNames(q.expr)
        .filter((name) => !exported.has(name) && !(name in RECORDED_SERIES) && !(name in EXTERNAL_SERIES) && !(name in PENDING_SERVICE_METRICS))
        .map((name) => `${q.where}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });

  it(`Pending service metrics (${Object.keys(PENDING_SERVICE_METRICS).length}): each is a contract name, read by something shipped, and not exported yet`, () => {
    const contract = new Set<string>(Object.values(Metrics));
    const pending = Object.keys(PENDING_SERVICE_METRICS);
    console.warn(`metric contract: ${pending.length} pending service metrics, not exported by the service yet: ${pending.join(', ')}`);
    for (const name of pending) {
      expect(contract, `${name} is pending but not in cdk8s/constants.ts Metrics`).toContain(name);
      expect(read, `${name} is pending but nothing reads it: remove it from PENDING_SERVICE_METRICS`).toContain(name);
      expect(exported, `${name} is exported now: remove it from PENDING_SERVICE_METRICS in dashboards/metric-names.ts`).not.toContain(name);
    }
  });

  it('Every recorded and external series is read by something shipped, and none of them is a Tandem or Node process metric', () => {
    for (const name of [...Object.keys(RECORDED_SERIES), ...Object.keys(EXTERNAL_SERIES)]) expect(read, `${name} is listed but nothing reads it`).toContain(name);
    for (const name of Object.keys(EXTERNAL_SERIES)) expect(name).not.toMatch(/^(tandem|process_|nodejs_)/);
  });
});
