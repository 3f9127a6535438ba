/**
 * Audit sinks. `write` never waits and never throws: it queues the record, and a background flush chains
 * and writes the queue in one batch. The queue is bounded; a record that finds it full is dropped and
 * counted, and the next batch starts with a `gap` record saying how many were lost, so a loss is
 * visible in the chain rather than a hole in it. A failed write drops its batch the same way (the file is
 * cut back to where the batch began and the chain rolled back), and serving carries on.
 */
import { hash } from 'node:crypto';
import type { Writable } from 'node:stream';
import { Chain, GENESIS } from './chain.js';
import { decisionText, type DecisionInputs } from './decision.js';
import { outcomeHeaderJson, type Outcome, type OutcomeParts, type WrittenJson } from './outcome.js';
import { AUDIT_FORMAT, type AuditRecord } from './record.js';

/**
 * A record to write: any record, or a decision as its inputs with its outcome (written before it, once
 * per file, and named by its digest).
 */
export type AuditEntry = { rec: AuditRecord; user: string | null } | { decision: DecisionInputs; outcome: Outcome; user: string | null };

const MAX_OUTCOMES = 100_000;
/** Records that make a batch worth writing at once. */
const BATCH = 64;

export interface SinkEvents {
  /** Records written (gap and file-opening records not counted). */
  written?: (n: number) => void;
  /** Records dropped: the queue was full, or their write failed. */
  dropped?: (n: number) => void;
  /** A write failed (the sink keeps going). */
  error?: (err: Error) => void;
}

export interface BufferOptions {
  /** Records queued at most; more are dropped. Default 10,000. */
  maxPending?: number;
  /** How long a record may wait for its batch, ms. Default 50. */
  flushMs?: number;
  events?: SinkEvents;
  clock?: () => number;
}

export interface AuditSink {
  readonly name: string;
  write(entry: AuditEntry): void;
  /** Resolves once everything queued so far is written (or dropped). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Bytes of a line's head, `{"hash":"…","prev":"…","rec":`, and of an outcome's `,"digest":"…"` (hashes are 64 hex digits). */
const HEAD_BYTES = `{"hash":"${GENESIS}","prev":"${GENESIS}","rec":`.length;
const DIGEST_BYTES = `,"digest":"${GENESIS}"`.length;

/**
 * A batch's lines encoded one by one into a reused buffer: one pass per line, where joining them first
 * would copy the whole batch into one string and then scan it again to measure it.
 */
export class Lines {
  private at = 0;

  constructor(public buffer: Buffer) {}

  add(line: string): void {
    this.room(line.length);
    this.at += this.buffer.write(line, this.at);
  }

  /**
   * The next line of `chain` for a record already in canonical JSON (what `chain.lineOf(recText, user)`
   * returns), written in place: the record is encoded once, into the line, and hashed where it lies with
   * the `<seq>\n<prev>\n` the hash starts with put just before it, where the line's head then goes.
   */
  record(chain: Chain, recText: string, user: string | null): void {
    const userJson = user === null ? 'null' : JSON.stringify(user);
    this.room(HEAD_BYTES + recText.length + userJson.length + 40);
    const buf = this.buffer;
    const start = this.at;
    const rec = start + HEAD_BYTES;
    let at = rec + buf.write(recText, rec);
    const seq = chain.seq;
    const prev = chain.prev;
    const prefix = `${seq}\n${prev}\n`; // shorter than the head (seq < 10^15)
    const from = rec - prefix.length;
    buf.write(prefix, from, 'latin1');
    const lineHash = hash('sha256', buf.subarray(from, at), 'hex');
    chain.seq = seq + 1;
    chain.prev = lineHash;
    buf.write(`{"hash":"${lineHash}","prev":"${prev}","rec":`, start, 'latin1');
    at += buf.write(`,"seq":${seq},"user":${userJson}}\n`, at);
    this.at = at;
  }

  /**
   * An outcome's line, written in place (the largest record, one per answer when every basket is new):
   * the body is encoded once, hashed where it lies, then the digest is put in after the candidates (where
   * it sorts) and the line's head before it; no text of the whole record or line is ever built. When
   * `keep(digest)` is false (the file has it already), nothing is written. Returns the digest.
   */
  outcome(chain: Chain, p: OutcomeParts, keep: (digest: string) => boolean): string {
    const { candidates, filtered } = p;
    const most = (part: string | WrittenJson): number => (typeof part === 'string' ? 3 * part.length : part.bound());
    this.room(HEAD_BYTES + DIGEST_BYTES + most(candidates) + most(filtered) + 3 * (p.items.length + p.promotions.length) + 100, true);
    const buf = this.buffer;
    const start = this.at;
    const body = start + HEAD_BYTES;
    let at = body + buf.write('{"candidates":', body, 'latin1');
    at = typeof candidates === 'string' ? at + buf.write(candidates, at) : candidates.write(buf, at);
    const candidatesEnd = at;
    at += buf.write(',"filtered":', at, 'latin1');
    at = typeof filtered === 'string' ? at + buf.write(filtered, at) : filtered.write(buf, at);
    at += buf.write(',"items":', at, 'latin1');
    at += buf.write(p.items, at);
    at += buf.write(',"promotions":', at, 'latin1');
    at += buf.write(p.promotions, at);
    buf[at++] = 0x7d; // }
    const digest = hash('sha256', buf.subarray(body, at), 'hex');
    if (!keep(digest)) return digest;
    buf.copyWithin(candidatesEnd + DIGEST_BYTES, candidatesEnd, at - 1);
    buf.write(`,"digest":"${digest}"`, candidatesEnd, 'latin1');
    at += DIGEST_BYTES - 1;
    const { seq, prev, hash: lineHash } = chain.next(outcomeHeaderJson(digest));
    at += buf.write(`,"type":"outcome","v":${AUDIT_FORMAT}},"seq":${seq},"user":null}\n`, at, 'latin1');
    buf.write(`{"hash":"${lineHash}","prev":"${prev}","rec":`, start, 'latin1');
    this.at = at;
    return digest;
  }

  /** Room for `units` more UTF-16 units of text (or for that many bytes). */
  private room(units: number, bytes = false): void {
    const most = bytes ? units : units * 3; // UTF-8 bytes per UTF-16 unit, at most
    if (this.at + most > this.buffer.length) {
      const bigger = Buffer.allocUnsafe(2 * (this.at + most));
      this.buffer.copy(bigger, 0, 0, this.at);
      this.buffer = bigger;
    }
  }

  bytes(): Buffer {
    return this.buffer.subarray(0, this.at);
  }
}

/** A batch encoded and waiting for its write. */
interface Encoded {
  /** Its lines, in `buffer`, which is reused once they are written. */
  bytes: Buffer;
  buffer: Buffer;
  records: number;
  /** Records its gap line said were lost (owed again if it is not written). */
  gap: number;
  /** The chain before it. */
  restore: { seq: number; prev: string };
  /** Outcomes it writes for the first time in the file. */
  added: string[];
  /** Batches encoded since the last failed write; one encoded before a failure is never written. */
  epoch: number;
}

/** Encoded batches that may wait for their writes at once; more records wait unencoded (and are bounded there). */
const MAX_ENCODED = 8;

export abstract class BufferedSink implements AuditSink {
  abstract readonly name: string;
  protected chain = new Chain();
  /** Outcomes written in the current file (a file sink clears it when it opens a new file). */
  protected outcomes = new Set<string>();
  protected readonly clock: () => number;
  private pending: AuditEntry[] = [];
  /** Buffers to encode batches in, kept from one to the next. */
  private free: Buffer[] = [];
  /** Batches encoded, oldest first, whose writes have not finished. */
  private encoded: Encoded[] = [];
  /** Bytes of those batches. */
  protected encodedBytes = 0;
  private epoch = 0;
  private droppedSinceGap = 0;
  private readonly maxPending: number;
  private readonly flushMs: number;
  private timer: NodeJS.Timeout | undefined;
  private soon = false;
  /** The writes (and a rotation), one after the other. */
  private tail: Promise<void> = Promise.resolve();
  /** A batch waits for `beforeBatch` (a rotation): nothing is encoded until it ran. */
  private preparing = false;
  protected closed = false;

  constructor(protected readonly opts: BufferOptions) {
    this.maxPending = opts.maxPending ?? 10_000;
    this.flushMs = opts.flushMs ?? 50;
    this.clock = opts.clock ?? Date.now;
  }

  write(entry: AuditEntry): void {
    if (this.closed || this.pending.length >= this.maxPending) {
      this.drop(1);
      return;
    }
    // A full batch is encoded at the next turn of the event loop rather than after `flushMs`, even while
    // the batch before is being written: records that wait long are promoted to the old heap, where
    // collecting them costs more than writing them. An encoded batch waits as bytes, off the heap.
    if (this.pending.push(entry) >= BATCH && !this.soon) {
      this.soon = true;
      setImmediate(() => {
        this.soon = false;
        this.startBatch(false);
      });
    }
    this.flushLater();
  }

  /**
   * Records lost before they reached this sink (another thread's queue was full, and counted them): the
   * next batch's gap record counts them with this sink's own.
   */
  lost(n: number): void {
    this.droppedSinceGap += n;
    this.flushLater();
  }

  /** A batch at most `flushMs` from now. */
  private flushLater(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.startBatch(false);
    }, this.flushMs);
  }

  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.startBatch(true);
    return this.tail;
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    await this.release();
  }

  /**
   * Whether the next batch must wait for `beforeBatch` (a file sink rotates there, writing its opening line
   * into the chain); `encodedBytes` are those encoded and not yet written.
   */
  protected mustPrepare(): boolean {
    return false;
  }
  /** Runs before a batch is chained when `mustPrepare` says so. */
  protected async beforeBatch(): Promise<void> {}
  /**
   * Writes a batch of lines (UTF-8) at the end of the sink; on failure the sink must leave no partial batch
   * behind. The bytes are reused for a later batch once the returned promise settles.
   */
  protected abstract append(bytes: Buffer): Promise<void>;
  protected async release(): Promise<void> {}

  private drop(n: number): void {
    this.droppedSinceGap += n;
    this.opts.events?.dropped?.(n);
  }

  /** Encodes what waits now and queues its write, unless a rotation must come first or (unless `force`) enough waits already. */
  private startBatch(force: boolean): void {
    if (this.pending.length === 0 && this.droppedSinceGap === 0) return;
    if (this.preparing) return; // the rotation's batch takes what waits then
    if (this.mustPrepare()) {
      this.preparing = true;
      this.tail = this.tail.then(() => this.prepareAndWrite());
      return;
    }
    if (!force && this.encoded.length >= MAX_ENCODED) return; // encoded when a write finishes
    const batch = this.encode();
    if (batch) this.tail = this.tail.then(() => this.writeOut(batch));
  }

  private async prepareAndWrite(): Promise<void> {
    try {
      await this.beforeBatch();
    } catch (err) {
      this.preparing = false;
      const n = this.pending.length;
      this.pending = [];
      this.drop(n);
      this.opts.events?.error?.(err as Error);
      return;
    }
    this.preparing = false;
    const batch = this.encode();
    if (batch) await this.writeOut(batch);
  }

  /** Chains and encodes the records waiting, in a buffer of their own; undefined (and dropped) if that fails. */
  private encode(): Encoded | undefined {
    const batch = this.pending;
    this.pending = [];
    const gap = this.droppedSinceGap;
    this.droppedSinceGap = 0;
    const restore = { seq: this.chain.seq, prev: this.chain.prev };
    const added: string[] = [];
    const lines = new Lines(this.free.pop() ?? Buffer.allocUnsafe(1 << 20));
    try {
      if (gap > 0) {
        const rec: AuditRecord = { type: 'gap', v: AUDIT_FORMAT, time: new Date(this.clock()).toISOString(), dropped: gap, reason: 'queue full or write failed' };
        lines.add(this.chain.line(rec, null));
      }
      for (const e of batch) {
        if (!('decision' in e)) {
          lines.add(this.chain.line(e.rec, e.user));
          continue;
        }
        let digest = e.outcome.known;
        if (digest === undefined || !this.outcomes.has(digest)) {
          digest = e.outcome.known = lines.outcome(this.chain, e.outcome.parts(), (d) => {
            if (this.outcomes.has(d)) return false;
            this.outcomes.add(d);
            added.push(d);
            return true;
          });
        }
        lines.record(this.chain, decisionText(e.decision, digest), e.user);
      }
    } catch (err) {
      this.chain = new Chain(restore);
      for (const d of added) this.outcomes.delete(d);
      this.free.push(lines.buffer);
      this.droppedSinceGap += gap;
      this.drop(batch.length);
      this.opts.events?.error?.(err as Error);
      return undefined;
    }
    if (this.outcomes.size > MAX_OUTCOMES) this.outcomes.clear(); // they are written again: a long stream stays bounded
    const encoded: Encoded = { bytes: lines.bytes(), buffer: lines.buffer, records: batch.length, gap, restore, added, epoch: this.epoch };
    this.encoded.push(encoded);
    this.encodedBytes += encoded.bytes.length;
    return encoded;
  }

  private async writeOut(batch: Encoded): Promise<void> {
    if (batch.epoch !== this.epoch) return; // a write before it failed: it was dropped then
    try {
      await this.append(batch.bytes);
      this.encoded.shift();
      this.encodedBytes -= batch.bytes.length;
      this.opts.events?.written?.(batch.records);
    } catch (err) {
      // This batch and every one encoded after it chain to lines that were never written: all are dropped,
      // and the chain goes back to where this one began.
      this.chain = new Chain(batch.restore);
      this.epoch++;
      for (const b of this.encoded) {
        for (const d of b.added) this.outcomes.delete(d);
        this.droppedSinceGap += b.gap;
        this.drop(b.records);
      }
      this.encoded = [];
      this.encodedBytes = 0;
      this.opts.events?.error?.(err as Error);
      return;
    }
    if (this.free.length < 2) this.free.push(batch.buffer);
    // What waited for room to be encoded (the timer has it otherwise).
    if (this.pending.length >= BATCH || (this.pending.length > 0 && this.timer === undefined)) this.startBatch(false);
  }
}

/** JSON Lines on a stream (stdout, for SIEM shipping). A stream that stays blocked fills the queue, then drops. */
export class StreamSink extends BufferedSink {
  readonly name = 'stdout';

  constructor(
    private readonly stream: Writable,
    opts: BufferOptions = {},
  ) {
    super(opts);
  }

  protected append(bytes: Buffer): Promise<void> {
    // A copy: the stream may hold on to what it is given after its callback, and the sink reuses its buffer.
    const copy = Buffer.from(bytes);
    return new Promise((resolve, reject) => this.stream.write(copy, (err) => (err ? reject(err) : resolve())));
  }
}
