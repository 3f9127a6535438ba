/**
 * A real monitoring stack on this machine, for the end-to-end test and the dashboard pictures: the scoring service
 * (`recommender/src/main.ts serve` on the demo shop, as a process), the operator (a process, against a control
 * plane), a Prometheus server built from the pinned module (hack/tools/prometheus) that scrapes both every second
 * with the labels a ServiceMonitor would give them and evaluates the rules the PrometheusRules ship, and a load
 * generator. Faults are injected through test/fault-injection.ts, which only the harness loads.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { operatorRuleGroups } from '../cdk8s/alerts/operator.js';
import { recommenderRuleGroups, ruleFile } from '../cdk8s/alerts/render.js';
import type { RecommenderSpec } from '../cdk8s/api/v1alpha1/recommender.js';
import { OPERATOR_NAME } from '../cdk8s/constants.js';
import { recommenderNames } from '../cdk8s/names.js';
import { freePort, toolPath } from './control-plane.js';

const ROOT = join(import.meta.dirname, '..');
const DEMO_API_KEY = 'tandem-demo-key';

export interface MonitoringStackOptions {
  readonly dir: string;
  readonly kubeconfigPath: string;
  /** The namespace the operator watches and leads in, and the series' `namespace` label. */
  readonly namespace: string;
  readonly recommender: string;
  /** The Recommender's spec: its rules are loaded into Prometheus. */
  readonly spec: RecommenderSpec;
  readonly log?: (line: string) => void;
}

export interface MonitoringStack {
  readonly prometheusUrl: string;
  readonly serviceUrl: string;
  /** While on, every recommendation request of the service fails with a 500 (test/fault-injection.ts). */
  fault(on: boolean): void;
  /** Runs a paced load on the recommendation API until `stopLoad()`. */
  startLoad(requestsPerSecond: number): void;
  stopLoad(): Promise<{ sent: number; failed: number }>;
  /** An instant query; throws on an error answer. */
  query(expr: string): Promise<PromSample[]>;
  stop(): Promise<void>;
}

export interface PromSample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

function start(name: string, args: readonly string[], env: NodeJS.ProcessEnv, dir: string): ChildProcess {
  const out = openSync(join(dir, `${name}.log`), 'a');
  const proc = spawn(args[0]!, args.slice(1), { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', out, out] });
  closeSync(out);
  return proc;
}

async function waitHttp(url: string, what: string, proc: ChildProcess, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`failed to start ${what}: it exited with ${proc.exitCode}`);
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`failed to start ${what}: ${url} not ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function terminate(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** The Prometheus configuration: both processes as static targets, labelled as their ServiceMonitors label them. */
export function prometheusConfig(p: { namespace: string; recommender: string; servicePort: number; operatorPort: number; ruleFile: string }) {
  return {
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    rule_files: [p.ruleFile],
    scrape_configs: [
      {
        job_name: p.recommender,
        static_configs: [
          {
            targets: [`127.0.0.1:${p.servicePort}`],
            labels: { namespace: p.namespace, service: p.recommender, pod: `${p.recommender}-0`, endpoint: 'metrics', app_kubernetes_io_instance: p.recommender, app_kubernetes_io_component: 'scoring' },
          },
        ],
      },
      {
        job_name: `${OPERATOR_NAME}-metrics`,
        static_configs: [{ targets: [`127.0.0.1:${p.operatorPort}`], labels: { namespace: p.namespace, service: `${OPERATOR_NAME}-metrics`, pod: `${OPERATOR_NAME}-0`, endpoint: 'metrics' } }],
      },
    ],
  };
}

export async function startMonitoringStack(o: MonitoringStackOptions): Promise<MonitoringStack> {
  const log = o.log ?? (() => {});
  mkdirSync(o.dir, { recursive: true });
  const faultFile = join(o.dir, 'fault');
  const procs: ChildProcess[] = [];
  const [apiPort, metricsPort, operatorPort, healthPort, promPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const node = [process.execPath, '--import', 'tsx'];
  const stop = async () => {
    await Promise.all(procs.map(terminate));
  };
  try {
    log('starting the scoring service on the demo shop');
    const service = start('service', [...node, '--import', './test/fault-injection.ts', 'recommender/src/main.ts', 'serve', '--skip-metrics'], {
      PORT: String(apiPort),
      METRICS_PORT: String(metricsPort),
      LOG_LEVEL: 'warn',
      TANDEM_TEST_FAULT_FILE: faultFile,
    }, o.dir);
    procs.push(service);
    log('starting the operator');
    const operator = start(
      'operator',
      [...node, 'operator/main.ts', `--namespaces=${o.namespace}`, '--leader-elect=true', `--lease-namespace=${o.namespace}`, `--metrics-port=${operatorPort}`, `--health-port=${healthPort}`],
      { KUBECONFIG: o.kubeconfigPath, POD_NAME: `${OPERATOR_NAME}-0`, LOG_LEVEL: 'warn' },
      o.dir,
    );
    procs.push(operator);

    const rules = join(o.dir, 'rules.yaml');
    const names = recommenderNames(o.recommender, o.namespace);
    writeFileSync(rules, stringify(ruleFile([...recommenderRuleGroups(names, o.spec), ...operatorRuleGroups(o.namespace)]), { lineWidth: 0, version: '1.1' }));
    const config = join(o.dir, 'prometheus.yaml');
    writeFileSync(config, stringify(prometheusConfig({ namespace: o.namespace, recommender: o.recommender, servicePort: metricsPort, operatorPort, ruleFile: rules })));
    rmSync(join(o.dir, 'tsdb'), { recursive: true, force: true });
    log('starting Prometheus');
    const prometheus = start('prometheus', [toolPath('prometheus'), `--config.file=${config}`, `--storage.tsdb.path=${join(o.dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`], {}, o.dir);
    procs.push(prometheus);

    await waitHttp(`http://127.0.0.1:${promPort}/-/ready`, 'Prometheus', prometheus);
    await waitHttp(`http://127.0.0.1:${healthPort}/healthz`, 'the operator', operator);
    await waitHttp(`http://127.0.0.1:${apiPort}/readyz`, 'the scoring service (training the demo shop)', service, 180_000);
  } catch (err) {
    await stop();
    throw err;
  }

  const prometheusUrl = `http://127.0.0.1:${promPort}`;
  const serviceUrl = `http://127.0.0.1:${apiPort}`;
  let load: { running: boolean; done: Promise<void>; sent: number; failed: number } | undefined;
  // Demo-shop items and shoppers, and one unknown intent path (a 404 is a client error, not an SLO error).
  const paths = [
    '/v1/recommendations/cross-sell?items=sku-0001,sku-0002&limit=5',
    '/v1/recommendations/cross-sell?items=sku-0010&limit=5',
    '/v1/recommendations/up-sell?item=sku-0003&limit=5',
    '/v1/recommendations/personal?user=u-1&limit=5',
    '/v1/recommendations/personal?user=u-2&limit=5',
    '/v1/decisions/not-a-recommendation',
  ];
  const events = (i: number) => [
    { type: 'view', userId: `u-${i % 50}`, itemId: 'sku-0001', timestamp: new Date().toISOString() },
    { type: 'teleport', userId: 'u-1', itemId: 'sku-0001', timestamp: 'yesterday' },
  ];
  return {
    prometheusUrl,
    serviceUrl,
    fault(on) {
      if (on) writeFileSync(faultFile, 'on');
      else rmSync(faultFile, { force: true });
    },
    startLoad(rps) {
      const state = { running: true, sent: 0, failed: 0, done: Promise.resolve() };
      state.done = (async () => {
        for (let i = 0; state.running; i++) {
          const t0 = Date.now();
          const headers = { Authorization: `Bearer ${DEMO_API_KEY}`, 'Content-Type': 'application/json' };
          // Every tenth request ingests two events, one of them invalid (the ingestion panels count both).
          const res = await (i % 10 === 9
            ? fetch(`${serviceUrl}/v1/events`, { method: 'POST', headers, body: JSON.stringify(events(i)) })
            : fetch(serviceUrl + paths[i % paths.length]!, { headers })
          ).catch(() => undefined);
          await res?.arrayBuffer();
          state.sent++;
          if (!res || res.status >= 500) state.failed++;
          await new Promise((r) => setTimeout(r, Math.max(0, 1000 / rps - (Date.now() - t0))));
        }
      })();
      load = state;
    },
    async stopLoad() {
      if (!load) return { sent: 0, failed: 0 };
      load.running = false;
      await load.done;
      return { sent: load.sent, failed: load.failed };
    },
    async query(expr) {
      const res = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: PromSample[] | [number, string] } };
      if (body.status !== 'success') throw new Error(`failed to query ${expr}: ${body.error}`);
      const data = body.data!;
      return data.resultType === 'scalar' ? [{ metric: {}, value: data.result as [number, string] }] : (data.result as PromSample[]);
    },
    async stop() {
      if (load) load.running = false;
      await load?.done;
      await stop();
    },
  };
}
