/**
 * The audit trail as the service sees it: `record` fans a record out to the sinks and returns at once;
 * look-ups (a decision by id, a shopper's decisions) and redaction read the durable files of every
 * writer. Without an audit directory (the demo), the most recent records are kept in memory instead.
 */
import type { Writable } from 'node:stream';
import type { Outcome } from './outcome.js';
import type { DecisionInputs } from './decision.js';
import { decisionView, type AuditLine, type AuditRecord, type DecisionLine, type DecisionView, type OutcomeRecord } from './record.js';
import { decisionsOf, findDecision, redactUsers } from './search.js';
import { BufferedSink, StreamSink, type AuditSink, type SinkEvents } from './sink.js';
import { ThreadSink } from './thread-sink.js';

export interface AuditTrailOptions {
  /** The audit directory (`TANDEM_AUDIT_DIR`); recent records are kept in memory without one. */
  dir?: string;
  /** This writer's name (the pod name). */
  writer: string;
  retentionDays: number;
  maxFileBytes?: number;
  rotateMs?: number;
  /** Also write every record to this stream (stdout, for SIEM shipping). */
  stdout?: Writable;
  /** Per sink (`file`, `memory`, `stdout`). */
  events?: (sink: string) => SinkEvents;
  flushMs?: number;
  maxPending?: number;
}

/** Keeps the last `max` decisions in memory (the demo's trail), parsed back from the very text a file would hold. */
class MemorySink extends BufferedSink {
  readonly name = 'memory';
  readonly lines: AuditLine[] = [];
  private readonly byDigest = new Map<string, OutcomeRecord>();

  constructor(
    private readonly max: number,
    opts: ConstructorParameters<typeof BufferedSink>[0],
  ) {
    super(opts);
  }

  protected async append(bytes: Buffer): Promise<void> {
    for (const t of bytes.toString('utf8').trimEnd().split('\n')) {
      const line = JSON.parse(t) as AuditLine;
      if (line.rec.type === 'outcome') this.byDigest.set(line.rec.digest, line.rec);
      else this.lines.push(line);
    }
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
    if (this.byDigest.size > this.max) {
      // Forget the outcomes; the sink writes each again when next referred to. Decisions kept keep theirs.
      const kept = new Set(this.lines.map((l) => (l.rec.type === 'decision' ? l.rec.outcome : '')));
      for (const d of [...this.byDigest.keys()]) if (!kept.has(d)) this.byDigest.delete(d);
      this.outcomes.clear();
      for (const d of this.byDigest.keys()) this.outcomes.add(d);
    }
  }

  views(match: (l: DecisionLine) => boolean): DecisionView[] {
    const out: DecisionView[] = [];
    for (const l of this.lines) {
      if (l.rec.type !== 'decision' || !match(l as DecisionLine)) continue;
      const outcome = this.byDigest.get(l.rec.outcome);
      if (outcome) out.push(decisionView(l as DecisionLine, outcome));
    }
    return out;
  }
}

const MEMORY_RECORDS = 10_000;

export class AuditTrail {
  private constructor(
    private readonly sinks: AuditSink[],
    private readonly dir: string | undefined,
    private readonly writer: string,
    private readonly memory: MemorySink | undefined,
  ) {}

  static async open(opts: AuditTrailOptions): Promise<AuditTrail> {
    const common = (sink: string) => ({ events: opts.events?.(sink), flushMs: opts.flushMs, maxPending: opts.maxPending });
    const sinks: AuditSink[] = [];
    let memory: MemorySink | undefined;
    if (opts.dir) {
      sinks.push(
        await ThreadSink.open({
          root: opts.dir,
          writer: opts.writer,
          retentionDays: opts.retentionDays,
          maxFileBytes: opts.maxFileBytes,
          rotateMs: opts.rotateMs,
          ...common('file'),
        }),
      );
    } else {
      memory = new MemorySink(MEMORY_RECORDS, common('memory'));
      sinks.push(memory);
    }
    if (opts.stdout) sinks.push(new StreamSink(opts.stdout, common('stdout')));
    return new AuditTrail(sinks, opts.dir, opts.writer, memory);
  }

  /** Queues a record in every sink; never waits, never throws. */
  record(rec: AuditRecord, user: string | null): void {
    for (const s of this.sinks) s.write({ rec, user });
  }

  /** Queues an answer's decision record, with its outcome; never waits, never throws. */
  decision(decision: DecisionInputs, outcome: Outcome): void {
    const entry = { decision, outcome, user: decision.user ?? null };
    for (const s of this.sinks) s.write(entry);
  }

  async flush(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.flush()));
  }

  /** A decision by its recommendation id, wherever it was written. */
  async find(id: string): Promise<DecisionView | undefined> {
    await this.flush();
    if (this.dir) return findDecision(this.dir, id);
    return this.memory!.views((l) => l.rec.id === id)[0];
  }

  /** The decisions about a shopper (any of their pseudonyms). */
  async decisionsOf(pseudonyms: readonly string[]): Promise<{ lines: DecisionView[]; truncated: boolean }> {
    await this.flush();
    if (this.dir) return decisionsOf(this.dir, pseudonyms);
    return { lines: this.memory!.views((l) => l.user !== null && pseudonyms.includes(l.user)), truncated: false };
  }

  /**
   * Redacts a shopper in every record held, every writer's (`own`: this writer's only, for an erasure
   * made by another pod, which redacted the rest); returns how many records.
   */
  async redact(pseudonyms: readonly string[], opts: { own?: boolean } = {}): Promise<number> {
    await this.flush();
    if (this.dir) return redactUsers(this.dir, pseudonyms, opts.own ? this.writer : undefined);
    let n = 0;
    for (const l of this.memory!.lines) {
      if (l.user !== null && pseudonyms.includes(l.user)) {
        l.user = null;
        n++;
      }
    }
    return n;
  }

  async close(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.close()));
  }
}
