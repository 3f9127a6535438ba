/**
 * The Recommender controller: informers feed a de-duplicating work queue, N workers reconcile
 * (never two on the same key), failures retry with per-key backoff, and a periodic resync
 * re-enqueues every Recommender so nothing drifts unnoticed for long.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { ClusterCache } from './cluster-cache.js';
import { AppliedFingerprints } from './compare.js';
import { objectKey } from './desired.js';
import type { OperatorMetrics } from './metrics.js';
import { WorkQueue } from './queue.js';
import type { ModelProbe } from './model-probe.js';
import { ReconcileError, reconcile, type ClusterWriter } from './reconciler.js';

export interface ControllerOptions {
  readonly namespaces: readonly string[];
  readonly workers: number;
  readonly resyncMs: number;
  readonly log: Logger;
  readonly metrics: OperatorMetrics;
  readonly writer: ClusterWriter;
  /** Reads the served model version; with `modelProbeMs`, a Recommender with ready pods is read again that often. */
  readonly models?: ModelProbe;
  readonly modelProbeMs?: number;
  /** Where the operator runs (the Recommenders' NetworkPolicies let its pods read the scoring pods' metrics). */
  readonly operatorNamespace?: string;
}

const NAME = 'recommender';

export class Controller {
  private readonly queue: WorkQueue;
  private readonly cache: ClusterCache;
  private readonly fingerprints = new AppliedFingerprints();
  private readonly workers: Promise<void>[] = [];
  private resyncTimer: NodeJS.Timeout | undefined;

  constructor(
    kc: KubeConfig,
    private readonly opts: ControllerOptions,
  ) {
    const { metrics } = opts;
    this.queue = new WorkQueue({
      onDepthChange: (depth) => metrics.workqueueDepth.set({ name: NAME }, depth),
      onRetry: () => metrics.workqueueRetries.inc({ name: NAME }),
    });
    // Exported at 0 from the start, so dashboards and alerts see "no errors", not "no data".
    metrics.reconcileTotal.inc({ controller: NAME, result: 'error' }, 0);
    metrics.reconcileErrors.inc({ controller: NAME }, 0);
    metrics.workqueueRetries.inc({ name: NAME }, 0);
    this.cache = new ClusterCache(kc, {
      namespaces: opts.namespaces,
      log: opts.log,
      metrics,
      enqueue: (key) => {
        metrics.workqueueAdds.inc({ name: NAME });
        this.queue.add(key);
      },
      onChildDeleted: (obj) => this.fingerprints.forget(objectKey(obj)),
    });
  }

  get hasSynced(): boolean {
    return this.cache.hasSynced;
  }

  async start(): Promise<void> {
    await this.cache.start();
    for (let i = 0; i < this.opts.workers; i++) this.workers.push(this.work());
    this.resyncTimer = setInterval(() => {
      for (const key of this.cache.recommenderKeys()) this.queue.add(key);
    }, this.opts.resyncMs);
    this.resyncTimer.unref();
    this.opts.log.info({ workers: this.opts.workers, namespaces: this.opts.namespaces.length ? this.opts.namespaces : 'all' }, 'controller started');
  }

  /** Stops taking work, lets in-flight reconciles finish, then stops the informers. */
  async stop(): Promise<void> {
    clearInterval(this.resyncTimer);
    this.queue.shutdown();
    await Promise.all(this.workers.splice(0));
    await this.cache.stop();
    this.opts.log.info('controller stopped');
  }

  private async work(): Promise<void> {
    const { metrics, log } = this.opts;
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      metrics.workqueueQueueDuration.observe({ name: NAME }, this.queue.takeWaitSeconds(key));
      metrics.workqueueInFlight.set({ name: NAME }, this.queue.inFlight);
      const end = metrics.reconcileTime.startTimer({ controller: NAME });
      const keyLog = log.child({ recommender: key });
      try {
        const result = await reconcile(key, { view: this.cache, writer: this.opts.writer, fingerprints: this.fingerprints, log: keyLog, models: this.opts.models, render: { operatorNamespace: this.opts.operatorNamespace } });
        this.queue.forget(key);
        // Pods swap models without any Kubernetes event: read the version again while pods serve.
        if (result.servingPods && this.opts.modelProbeMs) this.queue.addAfter(key, this.opts.modelProbeMs);
        metrics.reconcileTotal.inc({ controller: NAME, result: 'success' });
        if (result.applied || result.pruned || result.statusWritten) keyLog.info(result, 'reconciled');
      } catch (err) {
        metrics.reconcileTotal.inc({ controller: NAME, result: 'error' });
        metrics.reconcileErrors.inc({ controller: NAME });
        const delayMs = this.queue.addRateLimited(key);
        if (!(err instanceof ReconcileError)) keyLog.error({ err: err instanceof Error ? err.message : String(err), retryInMs: Math.round(delayMs) }, 'reconcile failed');
      } finally {
        end();
        this.queue.done(key);
        metrics.workqueueInFlight.set({ name: NAME }, this.queue.inFlight);
      }
    }
  }
}
