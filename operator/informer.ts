/**
 * A list+watch cache that never gives up. @kubernetes/client-node 2.0.1's informer stops for good on
 * a connection reset, a 5xx or a failed list; this wrapper restarts it with capped, jittered backoff.
 * A restart resumes the watch from the last resourceVersion (a 410 Gone makes the library relist),
 * and a handler only hears about an object whose resourceVersion it has not seen, so a reconnect
 * does not replay every object into the queue.
 */
import { makeInformer, type Informer, type KubeConfig, type KubernetesListObject, type KubernetesObject, type ObjectCache } from '@kubernetes/client-node';
import type { Logger } from 'pino';

export type InformerEvent = 'add' | 'update' | 'delete';

export interface ResilientInformerOptions<T extends KubernetesObject> {
  /** Watch path, e.g. `/apis/apps/v1/namespaces/shop/deployments`. */
  readonly path: string;
  readonly list: () => Promise<KubernetesListObject<T>>;
  readonly labelSelector?: string;
  /** Label for logs and metrics, e.g. `apps/v1 Deployment`. */
  readonly name: string;
  /** Called for each change; must not mutate the object (it is the cached one). */
  readonly onEvent: (event: InformerEvent, obj: T) => void;
  readonly onRestart?: () => void;
  /** Slims an object as it enters the cache (like client-go's cache transforms). */
  readonly transform?: (obj: T) => void;
  readonly log: Logger;
  readonly maxBackoffMs?: number;
}

export class ResilientInformer<T extends KubernetesObject> {
  private readonly informer: Informer<T> & ObjectCache<T>;
  private readonly seen = new Map<string, string | undefined>();
  private failures = 0;
  private stopped = true;
  private synced = false;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(
    kc: KubeConfig,
    private readonly opts: ResilientInformerOptions<T>,
  ) {
    this.informer = makeInformer<T>(kc, opts.path, opts.list, opts.labelSelector);
    const key = (o: T) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
    const changed = (event: InformerEvent) => (obj: T) => {
      opts.transform?.(obj);
      const k = key(obj);
      if (event === 'delete') this.seen.delete(k);
      else if (this.seen.get(k) === obj.metadata?.resourceVersion) return;
      else this.seen.set(k, obj.metadata?.resourceVersion);
      this.opts.onEvent(event, obj);
    };
    this.informer.on('add', changed('add'));
    this.informer.on('update', changed('update'));
    this.informer.on('delete', changed('delete'));
    this.informer.on('connect', () => {
      this.failures = 0;
    });
    this.informer.on('error', (err: unknown) => this.scheduleRestart(err));
  }

  /** Starts the informer; resolves once the first list has landed (or failed and been scheduled for retry). */
  async start(): Promise<void> {
    this.stopped = false;
    await this.informer.start();
    if (!this.restartTimer) this.synced = true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    await this.informer.stop();
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  list(namespace?: string): ReadonlyArray<T> {
    return this.informer.list(namespace);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.informer.get(name, namespace);
  }

  private scheduleRestart(err: unknown): void {
    if (this.stopped || this.restartTimer) return;
    const base = Math.min(this.opts.maxBackoffMs ?? 30_000, 500 * 2 ** this.failures);
    const delay = Math.round(base * (0.5 + Math.random() * 0.5));
    this.failures++;
    this.opts.log.warn({ informer: this.opts.name, err: describe(err), retryInMs: delay }, 'watch failed; restarting');
    this.opts.onRestart?.();
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopped) return;
      void this.start();
    }, delay);
    this.restartTimer.unref();
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'object' ? JSON.stringify(err) : String(err);
}
