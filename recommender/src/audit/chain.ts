/**
 * The hash chain (see record.ts for the line format): `Chain` writes lines, `ChainVerifier` checks
 * them and names the line that was edited, inserted or deleted. Pure: no I/O.
 */
import { hash } from 'node:crypto';
import { checker } from '../data/validate.js';
import { canonicalJson } from './canonical.js';
import { outcomeDigest, outcomeHeaderJson } from './outcome.js';
import { AuditLine, subjectDigest, type AuditRecord } from './record.js';

/**
 * What a line's hash covers: the canonical record, except for an outcome, where it is its header
 * `{digest, type, v}`: the digest commits to the body (the verifier checks both), and the body, the largest
 * part of the trail, is hashed once rather than twice.
 */
export function hashedText(rec: AuditRecord): string {
  return rec.type === 'outcome' ? outcomeHeaderJson(rec.digest) : canonicalJson(rec);
}

/** `prev` of a writer's very first line. */
export const GENESIS = '0'.repeat(64);

export function lineHash(seq: number, prev: string, recText: string): string {
  return hash('sha256', `${seq}\n${prev}\n${recText}`, 'hex');
}

/** Appends records to one writer's chain, as JSON Lines text. */
export class Chain {
  seq: number;
  prev: string;

  constructor(start: { seq: number; prev: string } = { seq: 0, prev: GENESIS }) {
    this.seq = start.seq;
    this.prev = start.prev;
  }

  /** The next line (with its newline); its keys are in canonical order, so the line is canonical JSON too. */
  line(rec: AuditRecord, user: string | null): string {
    const text = canonicalJson(rec);
    return this.lineOf(text, user, rec.type === 'outcome' ? outcomeHeaderJson(rec.digest) : text);
  }

  /**
   * The next line for a record already in canonical JSON. `hashed` is what the hash covers when it is not
   * the whole record: an outcome's header, whose digest already commits to its body (see hashedText).
   */
  lineOf(recText: string, user: string | null, hashed = recText): string {
    const { seq, prev, hash } = this.next(hashed);
    return `{"hash":"${hash}","prev":"${prev}","rec":${recText},"seq":${seq},"user":${user === null ? 'null' : JSON.stringify(user)}}\n`;
  }

  /** Takes the next position, for a record whose line hash covers `hashed`: its seq, the hash before it, its hash. */
  next(hashed: string): { seq: number; prev: string; hash: string } {
    const seq = this.seq;
    const prev = this.prev;
    const hash = lineHash(seq, prev, hashed);
    this.seq = seq + 1;
    this.prev = hash;
    return { seq, prev, hash };
  }
}

export interface Problem {
  /** 1-based line number in its file. */
  line: number;
  problem: string;
}

interface Seen {
  line: number;
  seq: number;
  hash: string;
}

const isLine = checker(AuditLine);

/**
 * Checks lines in order, across the files of one writer (given oldest first). The first line checked
 * anchors the chain (older files may have been removed by retention); every later line must chain to
 * the one before it.
 */
export class ChainVerifier {
  records = 0;
  redacted = 0;
  private last: Seen | undefined;
  private beforeLast: Seen | undefined;
  /** Outcome digests defined so far in the current file (a decision refers to one before it). */
  private outcomes = new Set<string>();

  /** The hash of the last good line, to compare with an anchor kept elsewhere (e.g. the stdout copy). */
  get head(): string | undefined {
    return this.last?.hash;
  }

  /** Checks one line; returns the problems found (empty when the line is good). */
  check(text: string, lineNo: number): Problem[] {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return [{ line: lineNo, problem: 'is not valid JSON: it was edited or truncated' }];
    }
    if (!isLine.Check(parsed)) return [{ line: lineNo, problem: 'is not an audit line: it was edited' }];
    const l = parsed;
    const problems: Problem[] = [];
    const computed = lineHash(l.seq, l.prev, hashedText(l.rec));
    if (computed !== l.hash) problems.push({ line: lineNo, problem: 'was edited: its hash does not match its content' });
    const subject = 'subject' in l.rec ? l.rec.subject : undefined;
    if (l.user !== null && (subject === undefined || subjectDigest((l.rec as { id: string }).id, l.user) !== subject.digest)) {
      problems.push({ line: lineNo, problem: 'was edited: its user does not match the subject digest' });
    }
    if (l.user === null && subject !== undefined && l.rec.type === 'decision') this.redacted++;
    if (l.rec.type === 'outcome') {
      const { candidates, filtered, items, promotions } = l.rec;
      if (outcomeDigest(canonicalJson({ candidates, filtered, items, promotions })) !== l.rec.digest) {
        problems.push({ line: lineNo, problem: 'was edited: its outcome does not match its digest' });
      }
      this.outcomes.add(l.rec.digest); // reported once here, not again for every decision naming it
    }
    if (l.rec.type === 'decision' && !this.outcomes.has(l.rec.outcome)) {
      problems.push({ line: lineNo, problem: `refers to outcome ${l.rec.outcome.slice(0, 12)}… which is not earlier in its file: that line was deleted or edited` });
    }
    const last = this.last;
    if (last && l.prev !== last.hash) problems.push({ line: lineNo, problem: this.whyBroken(l, last) });
    else if (last && l.seq !== last.seq + 1) {
      problems.push({ line: lineNo, problem: `has seq ${l.seq} after seq ${last.seq}: it was edited` });
    }
    this.records++;
    this.beforeLast = last;
    this.last = { line: lineNo, seq: l.seq, hash: l.hash };
    return problems;
  }

  /** A line whose `prev` is not the hash of the line before: say what most likely happened. */
  private whyBroken(l: AuditLine, last: Seen): string {
    const before = this.beforeLast;
    if (before && l.prev === before.hash) return `does not chain to line ${last.line} but to line ${before.line}: line ${last.line} was inserted`;
    if (l.seq > last.seq + 1) {
      const n = l.seq - last.seq - 1;
      return `follows seq ${last.seq} with seq ${l.seq}: ${n} line${n === 1 ? ' was' : 's were'} deleted before it`;
    }
    if (l.seq === last.seq + 1) return `does not chain to line ${last.line}: line ${last.line} was edited and its hash recomputed`;
    return `does not chain to line ${last.line} (seq ${last.seq} then ${l.seq}): lines were inserted, deleted or reordered`;
  }

  /** A new file of the same writer: its first line must chain to the previous file's last. */
  startFile(): void {
    this.beforeLast = undefined; // "line N was inserted" only makes sense within one file
    this.outcomes = new Set();
  }
}
