/**
 * Assembles the operator: metrics and health servers, leader election, and the controller, which
 * runs only while this replica leads. Returns a handle whose `stop()` finishes in-flight work and
 * then releases the Lease.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { OperatorConfig } from './config.js';
import { EndpointModelProbe } from './model-probe.js';
import { Controller } from './controller.js';
import { KubeWriter } from './kube-writer.js';
import { withConnectionReuse } from './kubeconfig.js';
import { LeaderElector } from './leader.js';
import { createOperatorMetrics, type OperatorMetrics } from './metrics.js';

export interface RunningOperator {
  readonly metrics: OperatorMetrics;
  readonly metricsPort: number;
  readonly healthPort: number;
  readonly identity: string;
  isLeader(): boolean;
  stop(): Promise<void>;
}

export interface OperatorTimings {
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
}

export async function startOperator(kc: KubeConfig, config: OperatorConfig, log: Logger, timings: OperatorTimings = {}): Promise<RunningOperator> {
  withConnectionReuse(kc);
  const metrics = createOperatorMetrics();
  // A standby reports 0 from the start, so dashboards and alerts see every replica.
  metrics.leader.set({ name: config.leaseName }, 0);
  let leading = !config.leaderElect;
  let controller: Controller | undefined;
  let transition = Promise.resolve();
  const writer = new KubeWriter(kc, metrics, config.identity, () => leading);
  const controllerOptions = {
    namespaces: config.namespaces,
    workers: config.workers,
    resyncMs: config.resyncSeconds * 1000,
    log,
    metrics,
    writer,
    operatorNamespace: config.leaseNamespace,
    ...(config.modelProbeSeconds > 0 ? { models: new EndpointModelProbe(kc, log), modelProbeMs: config.modelProbeSeconds * 1000 } : {}),
  };

  // Start and stop are serialised so a quick lose/regain never runs two controllers.
  const lead = () => {
    transition = transition.then(async () => {
      if (!leading || controller) return;
      controller = new Controller(kc, controllerOptions);
      await controller.start();
    });
  };
  const follow = () => {
    transition = transition.then(async () => {
      const running = controller;
      controller = undefined;
      await running?.stop();
    });
  };

  const elector = config.leaderElect
    ? new LeaderElector(kc, {
        namespace: config.leaseNamespace,
        name: config.leaseName,
        identity: config.identity,
        log,
        ...timings,
        onStartedLeading: () => {
          leading = true;
          metrics.leader.set({ name: config.leaseName }, 1);
          lead();
        },
        onStoppedLeading: () => {
          leading = false;
          metrics.leader.set({ name: config.leaseName }, 0);
          follow();
        },
      })
    : undefined;

  const metricsServer = await listen(config.metricsPort, async (path) => (path === '/metrics' ? { status: 200, type: metrics.register.contentType, body: await metrics.register.metrics() } : undefined));
  const healthServer = await listen(config.healthPort, async (path) => {
    if (path === '/healthz') return { status: 200, type: 'text/plain', body: 'ok' };
    if (path === '/readyz') {
      const ready = !leading || controller?.hasSynced === true;
      return { status: ready ? 200 : 503, type: 'text/plain', body: ready ? 'ok' : 'informers not synced' };
    }
    return undefined;
  });

  if (elector) elector.start();
  else {
    metrics.leader.set({ name: config.leaseName }, 1);
    lead();
    await transition;
  }
  log.info({ identity: config.identity, leaderElect: config.leaderElect, metricsPort: port(metricsServer), healthPort: port(healthServer) }, 'operator started');

  return {
    metrics,
    metricsPort: port(metricsServer),
    healthPort: port(healthServer),
    identity: config.identity,
    isLeader: () => leading,
    async stop() {
      // In-flight reconciles finish (still allowed to write), then the Lease is released.
      follow();
      await transition;
      leading = false;
      await elector?.release();
      await Promise.all([close(metricsServer), close(healthServer)]);
      log.info('operator stopped');
    },
  };
}

type Handler = (path: string) => Promise<{ status: number; type: string; body: string } | undefined>;

async function listen(portNumber: number, handler: Handler): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    handler(path)
      .then((answer) => {
        const { status, type, body } = answer ?? { status: 404, type: 'text/plain', body: 'not found' };
        res.writeHead(status, { 'Content-Type': type }).end(body);
      })
      .catch((err: unknown) => res.writeHead(500).end(String(err)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(portNumber, () => resolve());
  });
  return server;
}

function port(server: Server): number {
  return (server.address() as AddressInfo).port;
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
