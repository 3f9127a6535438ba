/**
 * The outcome of a decision (see record.ts): built once per candidate list and stock state, the first time
 * an answer from it is recorded, and serialised once, in the background flush. The stock and category of
 * each candidate are read when it is built (they may change before the flush); the rest is immutable.
 * Its canonical text is written by hand (keys in sorted order), much faster than the generic walk; a test
 * checks it against canonicalJson.
 */
import { hash } from 'node:crypto';
import { itemsJson } from '../items-json.js';
import { AUDIT_FORMAT, type OutcomeBody } from './record.js';

const s = JSON.stringify;

/**
 * The canonical JSON of an outcome body, `{candidates, filtered, items, promotions}`, from its candidates and
 * filtered items as canonical JSON (packed.ts) and its items with their keys in canonical order (the answer's
 * own text is reused, see items-json.ts).
 */
export function outcomeBodyJson(candidates: string, filtered: string, items: OutcomeBody['items'], promotions: readonly string[]): string {
  return `{"candidates":${candidates},"filtered":${filtered},"items":${itemsJson(items)},"promotions":${s(promotions)}}`;
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

  /** `build` writes the canonical JSON of the body (see outcomeBodyJson). */
  constructor(private readonly build: () => string) {}

  get digest(): string {
    if (this.hex === undefined) {
      this.body = this.build();
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
    const body = this.body ?? this.build();
    // body is `{"candidates":…,"filtered":…,"items":…,"promotions":…}`: digest sorts between candidates and filtered.
    const at = body.indexOf(',"filtered":');
    return `${body.slice(0, at)},"digest":"${digest}"${body.slice(at, -1)},"type":"outcome","v":${AUDIT_FORMAT}}`;
  }
}
