/**
 * The outcome of a decision (see record.ts): built once per candidate list and stock state, the first time
 * an answer from it is recorded, and serialised once per file, in the background flush. The stock and
 * category of each candidate are read when it is built (they may change before the flush), with the
 * candidates' scores and evidence packed (packed.ts); the rest is immutable. Its canonical text is written
 * by hand (keys in sorted order), the candidates and filtered items straight into the sink's buffer, much
 * faster than the generic walk; a test checks it against canonicalJson.
 */
import { hash } from 'node:crypto';
import { AUDIT_FORMAT } from './record.js';

/** Canonical JSON that writes itself into a buffer (packed.ts): `bound()` bytes at most. */
export interface WrittenJson {
  bound(): number;
  /** Writes at `at` (with room for `bound()` bytes); returns where it ends. */
  write(buf: Buffer, at: number): number;
}

/** Its text. */
export function jsonText(part: string | WrittenJson): string {
  if (typeof part === 'string') return part;
  const buf = Buffer.allocUnsafe(part.bound());
  return buf.toString('utf8', 0, part.write(buf, 0));
}

/** The parts of an outcome body, each as canonical JSON (packed.ts; the items are the answer's own text, see items-json.ts). */
export interface OutcomeParts {
  candidates: string | WrittenJson;
  filtered: string | WrittenJson;
  items: string;
  promotions: string;
}

/** The canonical JSON of an outcome body, `{candidates, filtered, items, promotions}`: what its digest covers. */
export function outcomeBodyJson(p: OutcomeParts): string {
  return `{"candidates":${jsonText(p.candidates)},"filtered":${jsonText(p.filtered)},"items":${p.items},"promotions":${p.promotions}}`;
}

/**
 * The canonical JSON of an outcome record: the body's keys with `digest`, `type` and `v` in sorted order.
 * The sink writes the same bytes in place (sink.ts `Lines.outcome`); this is the reference a test holds it to.
 */
export function outcomeRecordJson(p: OutcomeParts, digest: string): string {
  return `{"candidates":${jsonText(p.candidates)},"digest":"${digest}","filtered":${jsonText(p.filtered)},"items":${p.items},"promotions":${p.promotions},"type":"outcome","v":${AUDIT_FORMAT}}`;
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
 * An outcome lives as long as its cached candidate list, so it keeps only its digest: its parts are
 * serialised when a sink writes it (once per file), straight into the sink's buffer, and let go.
 */
export class Outcome {
  /** Its digest, once computed: a sink computes it as it writes the outcome. */
  known: string | undefined;

  /** `parts` serialises the body (in the background flush: what it reads must not change meanwhile). */
  constructor(readonly parts: () => OutcomeParts) {}

  /** Its digest, from its text if no sink has written it yet. */
  get digest(): string {
    return (this.known ??= outcomeDigest(outcomeBodyJson(this.parts())));
  }
}
