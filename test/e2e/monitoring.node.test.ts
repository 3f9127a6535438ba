/**
 * The alerts and panels that read series Tandem does not export, proven on the real node: a Prometheus (built from
 * the pinned module, on the node's host) scrapes kube-state-metrics, the kubelet's cAdvisor endpoint, and the
 * scoring pods and operator pod through their ServiceMonitors (the Recommender's as the operator created it, the
 * operator's as the chart renders it), and evaluates the Recommender's PrometheusRule as the operator created it.
 * Only `for` is shortened, for the two alerts the test waits on; every expression is the shipped one.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { recommenderAlerts } from '../../cdk8s/alerts/render.js';
import { SymptomAlerts, symptomAlerts } from '../../cdk8s/alerts/symptoms.js';
import { isAlert, type RuleGroup } from '../../cdk8s/alerts/types.js';
import type { RecommenderSpecInput } from '../../cdk8s/api/v1alpha1/recommender.js';
import { EVENTS_FILE, OPERATOR_NAME, OPERATOR_NAMESPACE } from '../../cdk8s/constants.js';
import { recommenderNames } from '../../cdk8s/names.js';
import { quantityValue } from '../../cdk8s/quantity.js';
import { recommender } from '../../cdk8s/test/fixtures.js';
import { CHART_DIR } from '../../charts/generate.js';
import { dashboardQueries, expandVariables, metricNames } from '../../dashboards/inspect.js';
import { EXTERNAL_SERIES } from '../../dashboards/metric-names.js';
import { RECOMMENDER_DASHBOARD_UID } from '../../dashboards/recommender.js';
import { DASHBOARDS } from '../../dashboards/render.js';
import { cadvisorScrapeConfig, kubeStateMetricsScrapeConfig, serviceMonitorScrapeConfigs, type ServiceMonitor } from '../../hack/node/scrape-configs.js';
import { startPrometheus, type PrometheusServer } from '../../hack/prometheus-server.js';
import { expectHardenedAndStable } from './hardening.js';
import { createRecommender, deleteNamespace, ensureOperator, helm, k, kJson, restrictedNamespace, seedAndTrain, until, waitRecommenderReady } from './stack.js';

const NAME = 'shop';
/** The HPA pinned at its maximum: min = max. */
const INPUT: RecommenderSpecInput = { replicas: { min: 2, max: 2 } };
/** Scrapes and rule evaluations this often (the shipped ServiceMonitors say 30 s). */
const INTERVAL = '2s';
/** The `for` of the alerts the test waits to fire (shipped: 15m). */
const TEST_FOR = '6s';
const WAIT_MS = 90_000;

const kubeconfigPath = inject('kubeconfigPath');
const dir = mkdtempSync(join(tmpdir(), 'tandem-monitoring-node-'));
let ns = '';
let prom: PrometheusServer | undefined;

const spec = () => recommender(INPUT, NAME, ns).spec;
const names = () => recommenderNames(NAME, ns);
/** The pinned spec renders no AutoscalerAtMax (pinned is not a warning); the same alert with a range, whose expression does not depend on it. */
const autoscalerAtMax = () => symptomAlerts(names(), recommender({ replicas: { min: 1, max: 2 } }, NAME, ns).spec).find((a) => a.rule.alert === SymptomAlerts.AUTOSCALER_AT_MAX)!;

/** The series of `expr` that kube-state-metrics or cAdvisor export (not Prometheus' own `up` and `ALERTS`). */
const external = (expr: string) => metricNames(expr).filter((m) => m in EXTERNAL_SERIES && !EXTERNAL_SERIES[m]!.source.startsWith('Prometheus'));

/** The rules with `for` shortened for `alerts`; the expressions untouched. */
function shortened(groups: readonly RuleGroup[], alerts: readonly string[]): RuleGroup[] {
  return groups.map((g) => ({ ...g, rules: g.rules.map((r) => (isAlert(r) && alerts.includes(r.alert) ? { ...r, for: TEST_FOR } : r)) }));
}

/** A dashboard's queries with this test's namespace and Recommender in its variables. */
function queriesOf(source: (typeof DASHBOARDS)[number]) {
  const d = source.build();
  const own = Object.fromEntries(Object.entries({ namespace: ns, recommender: NAME }).filter(([v]) => d.templating?.list?.some((t) => t.name === v)));
  return dashboardQueries(d).map((q) => ({ where: `${source.file} ${q.where}`, expr: expandVariables(q.expr, d, own) }));
}

const recommenderQueries = () => queriesOf(DASHBOARDS.find((s) => s.build().uid === RECOMMENDER_DASHBOARD_UID)!);

async function query(expr: string) {
  return prom!.query(expr);
}

async function firing(alert: string, labels: Record<string, string> = {}) {
  return until(`${alert} firing`, async () => (await prom!.alerts()).find((a) => a.labels.alertname === alert && a.state === 'firing' && Object.entries(labels).every(([k, v]) => a.labels[k] === v)), WAIT_MS, 2000);
}

beforeAll(async () => {
  await ensureOperator();
  ns = await restrictedNamespace('monitoring');
  await createRecommender(ns, NAME, INPUT);
  await seedAndTrain(ns, NAME);
  await waitRecommenderReady(ns, NAME);

  const scoringMonitor = await kJson<ServiceMonitor>(['-n', ns, 'get', 'servicemonitor', names().scoring]);
  const operatorMonitor = parse(
    await helm(['template', OPERATOR_NAME, CHART_DIR, '-n', OPERATOR_NAMESPACE, '--set', 'serviceMonitor.enabled=true', '--show-only', 'templates/servicemonitor.yaml']),
  ) as ServiceMonitor;
  const rule = await kJson<{ spec: { groups: RuleGroup[] } }>(['-n', ns, 'get', 'prometheusrule', names().scoring]);
  const token = (parse(readFileSync(kubeconfigPath, 'utf8')) as { users: { user: { token: string } }[] }).users[0]!.user.token;
  const discovery = { kubeconfigFile: kubeconfigPath };
  prom = await startPrometheus({
    dir,
    config: {
      global: { scrape_interval: INTERVAL, scrape_timeout: INTERVAL, evaluation_interval: INTERVAL },
      scrape_configs: [
        ...serviceMonitorScrapeConfigs(scoringMonitor, discovery),
        ...serviceMonitorScrapeConfigs(operatorMonitor, discovery),
        kubeStateMetricsScrapeConfig(discovery, { namespace: 'kube-system', service: 'kube-state-metrics', port: 'http-metrics' }),
        cadvisorScrapeConfig(inject('nodeIp'), token),
      ],
    },
    rules: shortened([...rule.spec.groups, { name: 'test.autoscaler-at-max', rules: [autoscalerAtMax().rule] }], [SymptomAlerts.TRAINING_JOB_FAILED, SymptomAlerts.AUTOSCALER_AT_MAX]),
  });
});

afterAll(async () => {
  await prom?.stop();
  if (ns) {
    await expectHardenedAndStable(ns);
    await deleteNamespace(ns);
  }
  rmSync(dir, { recursive: true, force: true });
});

describe.sequential('alerts and dashboards on kube-state-metrics and cAdvisor, on a real node', () => {
  it('When Prometheus discovers its targets through the API server, Then kube-state-metrics, the kubelet, both scoring pods and the operator are up', async () => {
    const jobs = [names().scoring, `${OPERATOR_NAME}-metrics`, 'kube-state-metrics', 'kubelet'];
    const up = await until('every target up', async () => {
      const r = await query('up');
      const down = jobs.filter((j) => !r.some((s) => s.metric.job === j)).concat(r.filter((s) => s.value[1] !== '1').map((s) => `${s.metric.job} ${s.metric.instance}`));
      if (down.length > 0) throw new Error(`not up: ${down.join(', ')}`);
      return r.filter((s) => s.metric.job === names().scoring).length === 2 ? r : undefined;
    }, WAIT_MS, 2000);
    const scoring = up.filter((s) => s.metric.job === names().scoring);
    expect(scoring.map((s) => s.metric.namespace)).toEqual([ns, ns]);
    // The ServiceMonitor's targetLabels, which the dashboards select on.
    expect(scoring.every((s) => s.metric.app_kubernetes_io_instance === NAME && s.metric.pod?.startsWith(`${names().scoring}-`))).toBe(true);
  });

  it('When the HPA is pinned at its maximum (min = max), Then the AutoscalerAtMax expression is true with the replica count and the alert fires', async () => {
    const alert = autoscalerAtMax();
    expect(recommenderAlerts(names(), spec()).map((a) => a.rule.alert)).not.toContain(SymptomAlerts.AUTOSCALER_AT_MAX);
    const result = await until('the autoscaler-at-max expression', async () => {
      const r = await query(alert.rule.expr);
      return r.length > 0 ? r : undefined;
    }, WAIT_MS, 2000);
    expect(result.map((s) => [s.metric.namespace, s.metric.horizontalpodautoscaler, s.value[1]])).toEqual([[ns, names().scoring, '2']]);
    const fired = await firing(SymptomAlerts.AUTOSCALER_AT_MAX, { namespace: ns });
    expect(fired.labels).toMatchObject({ recommender: NAME, severity: 'warning' });
  });

  it("When Redis runs, Then the Redis memory panel shows its working set from cAdvisor and its limit from kube-state-metrics (spec.cache.memory)", async () => {
    const panel = recommenderQueries().filter((q) => q.where.includes('"Redis memory"'));
    expect(panel.length).toBe(2);
    const [usage, limit] = await until('the Redis memory series', async () => {
      const r = await Promise.all(panel.map((q) => query(q.expr)));
      return r.every((s) => s.length > 0) ? r : undefined;
    }, WAIT_MS, 2000);
    expect(usage!.map((s) => s.metric.pod)).toEqual([`${names().redis}-0`]);
    // A running redis-server holds at least a megabyte; a wrong container (the pause sandbox) would not.
    expect(Number(usage![0]!.value[1])).toBeGreaterThan(1 << 20);
    expect(Number(usage![0]!.value[1])).toBeLessThan(quantityValue(spec().cache.memory));
    expect(Number(limit![0]!.value[1])).toBe(quantityValue(spec().cache.memory));
  });

  it('When a Job made from the retraining CronJob fails (its events file missing), Then TrainingJobFailed goes from silent to firing for that Job', async () => {
    const alert = recommenderAlerts(names(), spec()).find((a) => a.rule.alert === SymptomAlerts.TRAINING_JOB_FAILED)!;
    // The first training succeeded: kube-state-metrics knows the CronJob's Job, and the expression is empty.
    await until('the first training Job in kube-state-metrics', async () => ((await query(alert.signals[0]!)).length > 0 ? true : undefined), WAIT_MS, 2000);
    expect(await query(alert.rule.expr)).toEqual([]);
    const failedPanel = recommenderQueries().find((q) => q.where.includes('"Failed retraining Jobs"'))!;
    expect((await query(failedPanel.expr)).map((s) => s.value[1])).toEqual(['0']);

    const job = `${NAME}-train-broken`;
    const manifest = JSON.parse(await k(['-n', ns, 'create', 'job', job, `--from=cronjob/${names().retrain}`, '--dry-run=client', '-o', 'json'])) as {
      metadata: { ownerReferences?: { kind: string }[] };
      spec: { backoffLimit?: number; template: { spec: { containers: { args: string[] }[] } } };
    };
    expect(manifest.metadata.ownerReferences?.map((o) => o.kind)).toEqual(['CronJob']);
    const args = manifest.spec.template.spec.containers[0]!.args;
    expect(args).toContain(EVENTS_FILE);
    args[args.indexOf(EVENTS_FILE)] = `${EVENTS_FILE}.missing`;
    // One attempt: the CronJob's retries would only delay the failure.
    manifest.spec.backoffLimit = 0;
    await k(['-n', ns, 'create', '-f', '-'], JSON.stringify(manifest));
    await until(`Job ${job} Failed`, async () => {
      const j = await kJson<{ status?: { conditions?: { type: string; status: string }[] } }>(['-n', ns, 'get', 'job', job]);
      return j.status?.conditions?.some((c) => c.type === 'Failed' && c.status === 'True') ? true : undefined;
    }, 180_000, 2000);

    const fired = await firing(SymptomAlerts.TRAINING_JOB_FAILED, { job_name: job });
    expect(fired.labels).toMatchObject({ namespace: ns, recommender: NAME, severity: 'warning' });
    expect((await query(failedPanel.expr)).map((s) => s.value[1])).toEqual(['1']);
  });

  it('When all of that has been scraped, Then every alert expression and dashboard query that reads kube-state-metrics or cAdvisor answers without error and with data', async () => {
    const alerts = [...recommenderAlerts(names(), spec()), autoscalerAtMax()];
    const exprs = [...alerts.flatMap((a) => [a.rule.expr, ...a.signals].map((expr) => ({ where: a.rule.alert, expr }))), ...DASHBOARDS.flatMap((s) => queriesOf(s))].filter(
      (e) => external(e.expr).length > 0,
    );
    // Every series of kube-state-metrics and cAdvisor in EXTERNAL_SERIES is read by one of them.
    const read = new Set(exprs.flatMap((e) => external(e.expr)));
    expect([...read].sort()).toEqual(Object.keys(EXTERNAL_SERIES).filter((m) => external(m).length > 0).sort());
    await until('data for every query', async () => {
      const empty: string[] = [];
      for (const e of exprs) if ((await query(e.expr)).length === 0) empty.push(`${e.where}: ${e.expr}`);
      if (empty.length > 0) throw new Error(`no data for ${empty.length} of ${exprs.length}:\n  ${empty.join('\n  ')}`);
      return true;
    }, WAIT_MS, 5000);
  });
});
