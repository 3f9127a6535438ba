/**
 * The audit trail as the service sees it: `record` fans a record out to the sinks and returns at once;
 * look-ups (a decision by id, a shopper's decisions) and redaction read the durable files of every
 * writer. Without an audit directory (the demo), the most recent records are kept in memory instead.
 */
import type { Writable } from 'node:stream';
import type { CanonicalMemo } from './canonical.js';
import { FileSink } from './file-sink.js';
import type { AuditRecord, DecisionLine } from './record.js';
import { decisionsOf, findDecision, redactUsers } from './search.js';
import { BufferedSink, StreamSink, type AuditSink, type SinkEvents } from './sink.js';

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

/** Keeps the last `max` lines in memory (the demo's trail), parsed back from the very text a file would hold. */
class MemorySink extends BufferedSink {
  readonly name = 'memory';
  readonly lines: { user: string | null; rec: AuditRecord; seq: number; prev: string; hash: string }[] = [];

  constructor(
    private readonly max: number,
    opts: ConstructorParameters<typeof BufferedSink>[0],
  ) {
    super(opts);
  }

  protected async append(text: string): Promise<void> {
    for (const line of text.trimEnd().split('\n')) this.lines.push(JSON.parse(line) as MemorySink['lines'][number]);
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
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
    // One memo for every sink: a shared candidate list is serialised once, whichever sink writes it first.
    const memo: CanonicalMemo = new WeakMap();
    const common = (sink: string) => ({ memo, events: opts.events?.(sink), flushMs: opts.flushMs, maxPending: opts.maxPending });
    const sinks: AuditSink[] = [];
    let memory: MemorySink | undefined;
    if (opts.dir) {
      sinks.push(
        await FileSink.open({
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

  async flush(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.flush()));
  }

  /** A decision by its recommendation id, wherever it was written. */
  async find(id: string): Promise<DecisionLine | undefined> {
    await this.flush();
    if (this.dir) return findDecision(this.dir, id);
    return this.memory!.lines.find((l): l is DecisionLine => l.rec.type === 'decision' && l.rec.id === id);
  }

  /** The decisions about a shopper (any of their pseudonyms). */
  async decisionsOf(pseudonyms: readonly string[]): Promise<{ lines: DecisionLine[]; truncated: boolean }> {
    await this.flush();
    if (this.dir) return decisionsOf(this.dir, pseudonyms);
    const lines = this.memory!.lines.filter((l): l is DecisionLine => l.rec.type === 'decision' && l.user !== null && pseudonyms.includes(l.user));
    return { lines, truncated: false };
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
