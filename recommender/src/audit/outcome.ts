/**
 * The outcome of a decision (see record.ts): built once per candidate list and stock state, the first time
 * an answer from it is recorded, and serialised once, in the background flush. The stock and category of
 * each candidate are read when it is built (they may change before the flush); the rest is immutable.
 * Its canonical text is written by hand (keys in sorted order), much faster than the generic walk; a test
 * checks it against canonicalJson.
 */
import { hash } from 'node:crypto';
import { AUDIT_FORMAT, type AuditCandidate, type OutcomeBody } from './record.js';

const s = JSON.stringify;

function candidateJson(c: AuditCandidate): string {
  return `{"category":${s(c.category)},"id":${s(c.id)},"reasons":${s(c.reasons)},"score":${s(c.score)},"stock":${c.stock}}`;
}

/** The canonical JSON of an outcome body, `{candidates, filtered, items, promotions}`. */
export function outcomeBodyJson(b: OutcomeBody): string {
  const candidates = b.candidates.map(candidateJson).join(',');
  const filtered = b.filtered.map((f) => `{"id":${s(f.id)},"reason":${s(f.reason)}}`).join(',');
  const items = b.items.map((i) => `{"id":${s(i.id)},"reasons":${s(i.reasons)},"score":${s(i.score)}}`).join(',');
  return `{"candidates":[${candidates}],"filtered":[${filtered}],"items":[${items}],"promotions":${s(b.promotions)}}`;
}

/** The canonical JSON of an outcome record's header (what its line's hash covers, see chain.ts). */
export function outcomeHeaderJson(digest: string): string {
  return `{"digest":"${digest}","type":"outcome","v":${AUDIT_FORMAT}}`;
}

/** sha256 of the canonical body: the digest that names an outcome (and that the verifier recomputes). */
export function outcomeDigest(bodyJson: string): string {
  return hash('sha256', bodyJson, 'hex');
}

/**
 * An outcome lives as long as its cached candidate list, so it keeps only its digest: the text is built
 * when the digest is computed and for each file that needs the record, then let go (a cache of 20,000
 * lists would otherwise hold 20,000 serialised outcomes).
 */
export class Outcome {
  private hex: string | undefined;
  private body: string | undefined;

  constructor(private readonly build: () => OutcomeBody) {}

  get digest(): string {
    if (this.hex === undefined) {
      this.body = outcomeBodyJson(this.build());
      this.hex = outcomeDigest(this.body);
    }
    return this.hex;
  }

  /** Drops the text kept since the digest was computed. */
  release(): void {
    this.body = undefined;
  }

  /** The canonical text of the outcome record: the body's keys with `digest`, `type` and `v` in sorted order. */
  recordJson(): string {
    const digest = this.digest;
    const body = this.body ?? outcomeBodyJson(this.build());
    // body is `{"candidates":…,"filtered":…,"items":…,"promotions":…}`: digest sorts between candidates and filtered.
    const at = body.indexOf(',"filtered":');
    return `${body.slice(0, at)},"digest":"${digest}"${body.slice(at, -1)},"type":"outcome","v":${AUDIT_FORMAT}}`;
  }
}
