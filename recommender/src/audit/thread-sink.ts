/**
 * The durable file sink on a thread of its own (a worker thread, as pino's transports do): the service
 * thread only queues what a record needs, and the audit thread chains, encodes, hashes and writes it
 * (sink-thread.ts runs a FileSink there). Encoding, hashing and writing were most of the audit's cost on
 * the service thread; there a record now costs a push and, per batch, one message.
 *
 * Bounded like every sink: entries sent and not yet taken by the audit thread count against `maxPending`;
 * past it a record is dropped and counted here, and the audit thread writes a gap record for it.
 */
import { Worker } from 'node:worker_threads';
import { FilteredJson, PackedCandidatesData, type Names } from './packed.js';
import { jsonText, type Outcome, type OutcomeParts } from './outcome.js';
import type { AuditEntry, AuditSink, SinkEvents } from './sink.js';
import { Columns, type FromThread, type NamesDelta, type ThreadSinkData, type ToThread, type WireEntry, type WireParts } from './thread-wire.js';

/** Entries that make a message worth sending at once. */
const BATCH = 64;
/** How long fewer entries wait for their message, ms (the audit thread's sink then waits its `flushMs`). */
const SEND_MS = 10;
/** The first wait before restarting a crashed audit thread; it doubles while restarts fail. */
const RESTART_MS = 1000;
const MAX_RESTART_MS = 30_000;

export interface ThreadSinkOptions extends ThreadSinkData {
  events?: SinkEvents;
  /** Records queued at most (sent and not yet taken, or waiting here); more are dropped. Default 10,000. */
  maxPending?: number;
  /** Outcomes sent with their parts before the audit thread is told to forget them. Default 8192. */
  epochOutcomes?: number;
}

/** Where an outcome was last sent: its id for the audit thread and the epoch it was sent in. */
interface Sent {
  oid: number;
  epoch: number;
}

export class ThreadSink implements AuditSink {
  readonly name = 'file';
  private pending: WireEntry[] = [];
  /** Entries sent and not yet reported taken. */
  private inFlight = 0;
  private lostSinceSent = 0;
  private readonly sent = new WeakMap<Outcome, Sent>();
  private nextOid = 1;
  private epoch = 0;
  private sentThisEpoch = 0;
  /** Names sets by their arrays: its id and how many of each were sent. */
  private readonly namesSent = new Map<readonly string[], { id: number; ids: readonly string[]; categories: readonly string[]; idsSent: number; categoriesSent: number }>();
  /** The numbers and bytes of the outcome parts in the message being gathered. */
  private columns = new Columns();
  private readonly flushes = new Map<number, () => void>();
  private nextFlush = 1;
  private soon = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The audit thread; undefined while it is restarted after a crash. */
  private worker: Worker | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private restartMs = RESTART_MS;
  private readonly maxPending: number;
  /** Bounds the audit thread's memory: it keeps the parts of the outcomes sent in the current epoch. */
  private readonly epochOutcomes: number;

  private constructor(
    worker: Worker,
    private readonly opts: ThreadSinkOptions,
  ) {
    this.maxPending = opts.maxPending ?? 10_000;
    this.epochOutcomes = opts.epochOutcomes ?? 8192;
    this.attach(worker);
  }

  /** Starts the audit thread and waits until its FileSink is open (its chain continued, old files swept). */
  static async open(opts: ThreadSinkOptions): Promise<ThreadSink> {
    return new ThreadSink(await startThread(opts), opts);
  }

  private attach(worker: Worker): void {
    this.worker = worker;
    worker.on('message', (m: FromThread) => this.onMessage(m));
    worker.on('error', (err) => this.lose(worker, err.message));
    worker.on('exit', (code) => this.lose(worker, `the audit thread exited (code ${code})`));
  }

  write(entry: AuditEntry): void {
    if (this.closed || this.worker === undefined || this.inFlight + this.pending.length >= this.maxPending) {
      this.lostSinceSent++;
      this.opts.events?.dropped?.(1);
      return;
    }
    this.pending.push('decision' in entry ? this.wireDecision(entry) : entry);
    if (this.pending.length >= BATCH && !this.soon) {
      this.soon = true;
      setImmediate(() => {
        this.soon = false;
        this.send();
      });
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.send();
    }, SEND_MS);
  }

  flush(): Promise<void> {
    if (this.worker === undefined) return Promise.resolve();
    this.send();
    const id = this.nextFlush++;
    return new Promise((resolve) => {
      this.flushes.set(id, resolve);
      this.post({ type: 'flush', id });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    clearTimeout(this.restartTimer);
    const worker = this.worker;
    if (worker) {
      const id = this.nextFlush++;
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      this.post({ type: 'close', id });
      await exited;
    }
  }

  private wireDecision(entry: Extract<AuditEntry, { decision: unknown }>): WireEntry {
    let s = this.sent.get(entry.outcome);
    if (s?.epoch === this.epoch) return { decision: entry.decision, user: entry.user, oid: s.oid };
    if (this.sentThisEpoch >= this.epochOutcomes) {
      this.pending.push({ epoch: true });
      this.epoch++;
      this.sentThisEpoch = 0;
    }
    if (!s) this.sent.set(entry.outcome, (s = { oid: this.nextOid++, epoch: this.epoch }));
    else s.epoch = this.epoch;
    this.sentThisEpoch++;
    return { decision: entry.decision, user: entry.user, oid: s.oid, parts: this.wireParts(entry.outcome.parts()) };
  }

  private wireParts(p: OutcomeParts): WireParts {
    const c = p.candidates;
    const f = p.filtered;
    const cols = this.columns;
    let candidates: WireParts['candidates'];
    if (c instanceof PackedCandidatesData) {
      const at = cols.putNums(c.idx);
      cols.putNums(c.stocks);
      cols.putNums(c.categories);
      cols.putNums(c.sources);
      const whyAt = cols.putBytes(c.whyBytes);
      candidates = { names: this.namesId(c.names), at, n: c.idx.length, sources: c.sources.length, whyAt, whyBytes: c.whyBytes.length, reasons: c.reasons };
    } else candidates = jsonText(c);
    let filtered: WireParts['filtered'];
    if (f instanceof FilteredJson) {
      const idx = f.filtered.map((x) => x.idx);
      filtered = { names: this.namesId(f.names), at: cols.putNums(idx), rules: f.filtered.map((x) => x.rule) };
    } else filtered = jsonText(f);
    return { candidates, filtered, items: p.items, promotions: p.promotions };
  }

  private namesId(names: Names): number {
    let n = this.namesSent.get(names.ids);
    if (!n) this.namesSent.set(names.ids, (n = { id: this.namesSent.size + 1, ids: names.ids, categories: names.categories, idsSent: 0, categoriesSent: 0 }));
    return n.id;
  }

  /** Names appended since they were last sent, for the entries about to go. */
  private namesDeltas(): NamesDelta[] {
    const out: NamesDelta[] = [];
    for (const n of this.namesSent.values()) {
      if (n.ids.length === n.idsSent && n.categories.length === n.categoriesSent) continue;
      out.push({ names: n.id, idsFrom: n.idsSent, ids: n.ids.slice(n.idsSent), categoriesFrom: n.categoriesSent, categories: n.categories.slice(n.categoriesSent) });
      n.idsSent = n.ids.length;
      n.categoriesSent = n.categories.length;
    }
    return out;
  }

  private send(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.worker === undefined) return;
    if (this.lostSinceSent > 0) {
      this.pending.push({ lost: this.lostSinceSent });
      this.lostSinceSent = 0;
    }
    if (this.pending.length === 0) return;
    const entries = this.pending;
    this.pending = [];
    this.inFlight += entries.length;
    const { nums, bytes } = this.columns.take();
    this.post({ type: 'entries', names: this.namesDeltas(), entries, nums, bytes }, [nums.buffer, bytes.buffer]);
  }

  private post(m: ToThread, transfer: ArrayBuffer[] = []): void {
    this.worker?.postMessage(m, transfer);
  }

  private onMessage(m: FromThread): void {
    if (m.type !== 'events') return;
    const ev = this.opts.events;
    this.inFlight -= m.taken;
    if (m.written > 0) ev?.written?.(m.written);
    if (m.dropped > 0) ev?.dropped?.(m.dropped);
    for (const e of m.errors) ev?.error?.(new Error(e));
    if (m.flushed !== undefined) {
      this.flushes.get(m.flushed)?.();
      this.flushes.delete(m.flushed);
    }
  }

  /**
   * The audit thread is gone (a crash, or its exit after `close`). What it had not taken is lost, and so is
   * what comes until a new thread has continued the chain from the file (the next gap record counts both).
   */
  private lose(worker: Worker, why: string): void {
    if (worker !== this.worker) return;
    this.worker = undefined;
    if (!this.closed) {
      const lost = this.inFlight + this.pending.length;
      this.pending = [];
      this.inFlight = 0;
      this.lostSinceSent += lost;
      if (lost > 0) this.opts.events?.dropped?.(lost);
      this.opts.events?.error?.(new Error(`the audit thread stopped; records are dropped until it is restarted: ${why}`));
      // A new thread knows no outcome and no name yet.
      this.epoch++;
      this.sentThisEpoch = 0;
      for (const n of this.namesSent.values()) n.idsSent = n.categoriesSent = 0;
      this.columns = new Columns();
      this.scheduleRestart();
    }
    for (const resolve of this.flushes.values()) resolve();
    this.flushes.clear();
  }

  private scheduleRestart(): void {
    this.restartTimer = setTimeout(() => {
      startThread(this.opts).then(
        (worker) => {
          if (this.closed) void worker.terminate();
          else {
            this.restartMs = RESTART_MS;
            this.attach(worker);
          }
        },
        (err: Error) => {
          this.opts.events?.error?.(new Error(`failed to restart the audit thread: ${err.message}`));
          this.restartMs = Math.min(2 * this.restartMs, MAX_RESTART_MS);
          if (!this.closed) this.scheduleRestart();
        },
      );
    }, this.restartMs);
    this.restartTimer.unref();
  }
}

/** Starts an audit thread and waits until its FileSink is open (its chain continued, old files swept). */
async function startThread(opts: ThreadSinkOptions): Promise<Worker> {
  const { events: _events, maxPending, epochOutcomes: _epochOutcomes, ...data } = opts;
  // The thread's own queue takes what this side lets through, so it drops only when its writes fail.
  const workerData: ThreadSinkData = { ...data, maxPending: (maxPending ?? 10_000) + 2 * BATCH };
  const worker = new Worker(threadEntry(), { workerData, execArgv: threadExecArgv(), stdout: false, stderr: false });
  await new Promise<void>((resolve, reject) => {
    const onExit = (code: number): void => reject(new Error(`the audit thread exited (code ${code}) before it opened its file`));
    worker.once('error', reject);
    worker.once('exit', onExit);
    worker.once('message', (m: FromThread) => {
      worker.off('error', reject);
      worker.off('exit', onExit);
      if (m.type === 'ready') resolve();
      else reject(new Error(m.type === 'failed' ? m.message : `unexpected first message from the audit thread: ${m.type}`));
    });
  });
  return worker;
}

/** The audit thread's module: the compiled .js in a build, the .ts source under tsx or vitest. */
function threadEntry(): URL {
  return new URL(import.meta.url.endsWith('.ts') ? './sink-thread.ts' : './sink-thread.js', import.meta.url);
}

function threadExecArgv(): string[] {
  return import.meta.url.endsWith('.ts') ? ['--import', 'tsx'] : [];
}
