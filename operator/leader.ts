/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's timings (15 s lease, 10 s renew
 * deadline, 2 s retry). Optimistic concurrency on resourceVersion decides races: a 409 means another
 * candidate won. Leadership is given up at once when a renewal cannot succeed within the deadline,
 * and released (holder cleared) on `release()`, so a standby takes over without waiting for expiry.
 */
import { ApiException, CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';

export interface LeaderElectionOptions {
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  readonly onStartedLeading: () => void;
  readonly onStoppedLeading: () => void;
  readonly log: Logger;
}

export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private leading = false;
  private lastRenew = 0;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    kc: KubeConfig,
    private readonly opts: LeaderElectionOptions,
  ) {
    this.api = kc.makeApiClient(CoordinationV1Api);
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.stopped = false;
    void this.tick();
  }

  /** Stops campaigning; if leading, clears the holder so another replica can take over at once. */
  async release(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.leading) return;
    this.setLeading(false);
    try {
      const lease = await this.api.readNamespacedLease({ name: this.opts.name, namespace: this.opts.namespace });
      if (lease.spec?.holderIdentity !== this.opts.identity) return;
      lease.spec = { ...lease.spec, holderIdentity: undefined, leaseDurationSeconds: 1, renewTime: now() };
      await this.api.replaceNamespacedLease({ name: this.opts.name, namespace: this.opts.namespace, body: lease });
      this.opts.log.info({ lease: `${this.opts.namespace}/${this.opts.name}` }, 'released leadership');
    } catch (err) {
      this.opts.log.warn({ err: String(err) }, 'could not release the lease; it will expire');
    }
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    let outcome: 'held' | 'taken' | 'error';
    try {
      outcome = (await this.tryAcquireOrRenew()) ? 'held' : 'taken';
    } catch (err) {
      outcome = 'error';
      this.opts.log.warn({ err: String(err) }, 'leader election request failed');
    }
    if (this.stopped) return;
    if (outcome === 'held') {
      this.lastRenew = Date.now();
      if (!this.leading) this.setLeading(true);
    } else if (this.leading && (outcome === 'taken' || Date.now() - this.lastRenew >= this.renewDeadlineMs)) {
      // Someone else holds the lease, or we could not renew within the deadline: stop at once.
      this.setLeading(false);
    }
    this.timer = setTimeout(() => void this.tick(), this.retryPeriodMs);
    this.timer.unref();
  }

  private setLeading(leading: boolean): void {
    this.leading = leading;
    this.opts.log.info({ lease: `${this.opts.namespace}/${this.opts.name}`, identity: this.opts.identity }, leading ? 'became leader' : 'lost leadership');
    if (leading) this.opts.onStartedLeading();
    else this.opts.onStoppedLeading();
  }

  /** One round of client-go's tryAcquireOrRenew; true when we hold the lease afterwards. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { name, namespace, identity } = this.opts;
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.round(this.leaseDurationMs / 1000),
      renewTime: now(),
    };
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (!(err instanceof ApiException) || err.code !== 404) throw err;
      return this.write(() => this.api.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec: { ...spec, acquireTime: spec.renewTime, leaseTransitions: 0 } } }));
    }
    const holder = lease.spec?.holderIdentity;
    const renewed = lease.spec?.renewTime ? new Date(lease.spec.renewTime as unknown as string).getTime() : 0;
    const expired = renewed + (lease.spec?.leaseDurationSeconds ?? 0) * 1000 < Date.now();
    if (holder && holder !== identity && !expired) return false;
    const takingOver = holder !== identity;
    lease.spec = {
      ...lease.spec,
      ...spec,
      acquireTime: takingOver ? spec.renewTime : lease.spec?.acquireTime,
      leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + (takingOver ? 1 : 0),
    };
    return this.write(() => this.api.replaceNamespacedLease({ name, namespace, body: lease }));
  }

  private async write(call: () => Promise<unknown>): Promise<boolean> {
    try {
      await call();
      return true;
    } catch (err) {
      if (err instanceof ApiException && (err.code === 409 || err.code === 422)) return false;
      throw err;
    }
  }
}

function now(): V1MicroTime {
  return new V1MicroTime();
}
