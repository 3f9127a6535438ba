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

/** sha256 of the canonical body: the digest that names an outcome (and that the verifier recomputes). */
export function outcomeDigest(bodyJson: string): string {
  return hash('sha256', bodyJson, 'hex');
}

export class Outcome {
  private text: { body: string; digest: string } | undefined;

  constructor(private readonly build: () => OutcomeBody) {}

  private get serialised(): { body: string; digest: string } {
    if (!this.text) {
      const body = outcomeBodyJson(this.build());
      this.text = { body, digest: outcomeDigest(body) };
    }
    return this.text;
  }

  get digest(): string {
    return this.serialised.digest;
  }

  /** The canonical text of the outcome record: the body's keys with `digest`, `type` and `v` in sorted order. */
  recordJson(): string {
    const { body, digest } = this.serialised;
    // body is `{"candidates":…,"filtered":…,"items":…,"promotions":…}`: digest sorts between candidates and filtered.
    const at = body.indexOf(',"filtered":');
    return `${body.slice(0, at)},"digest":"${digest}"${body.slice(at, -1)},"type":"outcome","v":${AUDIT_FORMAT}}`;
  }
}
