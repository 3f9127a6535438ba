/**
 * A real monitoring stack on this machine, for the end-to-end test and the dashboard pictures: the scoring service
 * (`recommender/src/main.ts serve` on the demo shop, as a process), the operator (a process, against a control
 * plane), a Prometheus server built from the pinned module (hack/tools/prometheus) that scrapes both every second
 * with the labels a ServiceMonitor would give them and evaluates the rules the PrometheusRules ship, and a load
 * generator. Faults are injected through test/fault-injection.ts, which only the harness loads.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { startRedisServer, type RedisServer } from './redis-server.js';
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { operatorRuleGroups } from '../cdk8s/alerts/operator.js';
import { recommenderRuleGroups } from '../cdk8s/alerts/render.js';
import type { RecommenderSpec } from '../cdk8s/api/v1alpha1/recommender.js';
import { OPERATOR_NAME } from '../cdk8s/constants.js';
import { recommenderNames } from '../cdk8s/names.js';
import { freePort } from './control-plane.js';
import { startPrometheus, type PrometheusServer, type PromSample } from './prometheus-server.js';
import { startShopLoad, type ShopLoad } from './shop-load.js';

export type { PromSample } from './prometheus-server.js';

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

/** The A/B experiment the service runs here (the business dashboard's variables select it). */
export const EXPERIMENT = { name: 'ranking', control: 'control' } as const;

/** The Prometheus configuration: both processes as static targets, labelled as their ServiceMonitors label them. */
export function prometheusConfig(p: { namespace: string; recommender: string; servicePort: number; operatorPort: number }) {
  return {
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
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
  const [apiPort, metricsPort, operatorPort, healthPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const node = [process.execPath, '--import', 'tsx'];
  let redis: RedisServer | undefined;
  let prometheus: PrometheusServer | undefined;
  const stop = async () => {
    await Promise.all(procs.map(terminate));
    await prometheus?.stop();
    await redis?.stop('SIGTERM');
  };
  try {
    // The cache tier and an A/B experiment, so their metrics have series as in production.
    redis = await startRedisServer();
    const experiments = join(o.dir, 'experiments.json');
    writeFileSync(experiments, JSON.stringify({ experiments: [{ name: EXPERIMENT.name, variants: [{ name: EXPERIMENT.control, weight: 50 }, { name: 'sharp', weight: 50 }] }] }));
    log('starting the scoring service on the demo shop');
    const service = start('service', [...node, '--import', './test/fault-injection.ts', 'recommender/src/main.ts', 'serve', '--skip-metrics'], {
      PORT: String(apiPort),
      METRICS_PORT: String(metricsPort),
      LOG_LEVEL: 'warn',
      REDIS_URL: redis.url,
      TANDEM_EXPERIMENTS_FILE: experiments,
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

    log('starting Prometheus');
    const names = recommenderNames(o.recommender, o.namespace);
    prometheus = await startPrometheus({
      dir: o.dir,
      config: prometheusConfig({ namespace: o.namespace, recommender: o.recommender, servicePort: metricsPort, operatorPort }),
      rules: [...recommenderRuleGroups(names, o.spec), ...operatorRuleGroups(o.namespace)],
    });
    await waitHttp(`http://127.0.0.1:${healthPort}/healthz`, 'the operator', operator);
    await waitHttp(`http://127.0.0.1:${apiPort}/readyz`, 'the scoring service (training the demo shop)', service, 180_000);
  } catch (err) {
    await stop();
    throw err;
  }

  const serviceUrl = `http://127.0.0.1:${apiPort}`;
  let load: ShopLoad | undefined;
  return {
    prometheusUrl: prometheus.url,
    serviceUrl,
    fault(on) {
      if (on) writeFileSync(faultFile, 'on');
      else rmSync(faultFile, { force: true });
    },
    startLoad(rps) {
      load = startShopLoad(serviceUrl, DEMO_API_KEY, rps);
    },
    async stopLoad() {
      return (await load?.stop()) ?? { sent: 0, failed: 0 };
    },
    query: (expr) => prometheus.query(expr),
    async stop() {
      await load?.stop();
      await stop();
    },
  };
}
