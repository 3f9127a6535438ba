/**
 * The audit trail's records, as TypeBox schemas (runtime check, static type and OpenAPI in one), and the
 * line they are stored in. A line is `{hash, prev, rec, seq, user}`:
 *   - `rec` is the record, `seq` its position in its writer's chain and `prev` the hash of the line before;
 *   - `hash` = sha256(`${seq}\n${prev}\n${canonicalJson(rec)}`) (for an outcome, of its header: see
 *     chain.ts hashedText), so editing, inserting or deleting a line breaks the chain;
 *   - `user` is the pseudonymous shopper and is left out of the hash. The record carries
 *     `subject.digest` = sha256(`${rec.id}:${user}`) instead, which is hashed: the user can be redacted
 *     (set to null in place) without breaking the chain, and a user that was changed rather than
 *     redacted no longer matches its digest. The digest is salted by the record id, so redacted records
 *     cannot be linked to each other.
 *
 * What the engine and the rules made of a request (candidates, filtered items, the answer, the active
 * promotions) is an `outcome` record, written once per file before the first decision that refers to it
 * by digest: every answer served from the same cached list and stock shares one, so a decision line is
 * small. A decision as the API shows it (`DecisionView`) has its outcome resolved.
 */
import { hash } from 'node:crypto';
import { FormatRegistry, Type, type Static } from '@sinclair/typebox';
import { Intent, RecommendedItem } from '../schemas.js';
import { unpackCandidates } from './packed.js';

if (!FormatRegistry.Has('uuid')) FormatRegistry.Set('uuid', (v) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v));

const Hex64 = Type.String({ pattern: '^[0-9a-f]{64}$' });

/** 2: outcomes pack their candidates (see packed.ts); format 1 outcomes list them as objects, and are still read. */
export const AUDIT_FORMAT = 2;
const Format = Type.Union([Type.Literal(1), Type.Literal(AUDIT_FORMAT)], { description: 'v: the record format.' });

export const Subject = Type.Object(
  {
    digest: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'sha256 of `<record id>:<pseudonymous user>`.' }),
    keyId: Type.String({ description: 'The HMAC key the user was pseudonymised with.' }),
  },
  { additionalProperties: false },
);

export const AuditCandidate = Type.Object(
  {
    id: Type.String(),
    score: Type.Number({ description: "The engine's score, before business rules." }),
    reasons: Type.Array(Type.String(), { description: 'Where the candidate came from, e.g. `bought_together:sku-1 lift=4.2`, `popular`.' }),
    stock: Type.Integer({ description: 'Stock when the answer was made (the inventory replays use).' }),
    category: Type.String(),
  },
  { additionalProperties: false },
);
export type AuditCandidate = Static<typeof AuditCandidate>;

/**
 * The reason of a candidate an opted-out shopper's history would have brought and the answer did without
 * (listed after those the rules removed; see service.ts `withheld`).
 */
export const OPT_OUT = 'opt_out';

export const AuditFiltered = Type.Object(
  {
    id: Type.String(),
    reason: Type.String({ description: 'e.g. `out_of_stock`, `blocked_item`, `blocked_category:…`, `diversity`, `opt_out` (withheld: the shopper opted out).' }),
  },
  { additionalProperties: false },
);

export const DecisionRecord = Type.Object(
  {
    type: Type.Literal('decision'),
    v: Format,
    id: Type.String({ format: 'uuid', description: 'The recommendationId of the answer.' }),
    time: Type.String({ format: 'date-time' }),
    subject: Type.Optional(Subject),
    optedOut: Type.Boolean({ description: 'The shopper had opted out: the answer was made without their history.' }),
    intent: Intent,
    context: Type.Object(
      {
        items: Type.Array(Type.String()),
        limit: Type.Integer({ minimum: 1 }),
        depth: Type.Integer({ minimum: 1, description: 'Candidates asked of the engine.' }),
      },
      { additionalProperties: false, description: 'The request: basket or item, the limit, the candidate depth.' },
    ),
    model: Type.Object({ version: Type.String(), sha256: Type.String() }, { additionalProperties: false }),
    config: Type.Object(
      { version: Type.String({ description: 'sha256 prefix of the engine and rules config in force.' }) },
      { additionalProperties: false },
    ),
    experiment: Type.Optional(Type.Object({ name: Type.String(), variant: Type.String() }, { additionalProperties: false })),
    variant: Type.String(),
    online: Type.Object(
      { generation: Type.Integer({ minimum: 0, description: 'Online updates applied to the model when the answer was made.' }) },
      { additionalProperties: false },
    ),
    outcome: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'The digest of its outcome record (earlier in the same file).' }),
    notes: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
);
export type DecisionRecord = Static<typeof DecisionRecord>;

/** An outcome's candidates as stored from format 2 on: one entry per candidate in each column (see packed.ts). */
export const PackedCandidates = Type.Object(
  {
    id: Type.Array(Type.String()),
    category: Type.Array(Type.String()),
    stock: Type.Array(Type.Integer(), { description: 'Stock when the answer was made (the inventory replays use).' }),
    reasons: Type.Optional(Type.Array(Type.Array(Type.String()), { description: "Reasons added as text (e.g. `popular`), when any candidate has some." })),
    sources: Type.Array(Type.String(), { description: 'The items the evidence refers to, by position.' }),
    why: Type.String({ contentEncoding: 'base64', description: "Each candidate's score and evidence, packed (see packed.ts); its reasons are formatted from it." }),
  },
  { additionalProperties: false },
);
export type PackedCandidates = Static<typeof PackedCandidates>;

const Candidates = Type.Array(AuditCandidate, { description: 'What the engine proposed, in its order, before the rules.' });

const OutcomeBody = {
  candidates: Candidates,
  filtered: Type.Array(AuditFiltered, { description: 'Every candidate a rule removed, and why; then, for an opted-out shopper, the personal candidates withheld (`opt_out`).' }),
  items: Type.Array(RecommendedItem, { description: 'The answer as shown.' }),
  promotions: Type.Array(Type.String(), { description: 'Ids of the promotions active for this intent at the time.' }),
};
export type OutcomeBody = Static<ReturnType<typeof Type.Object<typeof OutcomeBody>>>;

export const OutcomeRecord = Type.Object(
  {
    type: Type.Literal('outcome'),
    v: Format,
    digest: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'sha256 of the canonical JSON of {candidates, filtered, items, promotions}.' }),
    ...OutcomeBody,
    candidates: Type.Union([PackedCandidates, Candidates]),
  },
  { additionalProperties: false },
);
export type OutcomeRecord = Static<typeof OutcomeRecord>;

export const ErasureRecord = Type.Object(
  {
    type: Type.Literal('erasure'),
    v: Format,
    id: Type.String({ format: 'uuid' }),
    time: Type.String({ format: 'date-time' }),
    subject: Subject,
    reached: Type.Record(Type.String(), Type.Integer({ minimum: 0 }), { description: 'What the erasure removed, by store.' }),
  },
  { additionalProperties: false },
);
export type ErasureRecord = Static<typeof ErasureRecord>;

/** Records a sink had to drop (buffer full, write failed), so the loss is in the chain rather than a hole in it. */
export const GapRecord = Type.Object(
  {
    type: Type.Literal('gap'),
    v: Format,
    time: Type.String({ format: 'date-time' }),
    dropped: Type.Integer({ minimum: 1 }),
    reason: Type.String(),
  },
  { additionalProperties: false },
);
export type GapRecord = Static<typeof GapRecord>;

/** The first line of every file: who writes it, so a verifier knows the chain's writer. */
export const OpenRecord = Type.Object(
  {
    type: Type.Literal('open'),
    v: Format,
    time: Type.String({ format: 'date-time' }),
    writer: Type.String(),
    file: Type.String(),
  },
  { additionalProperties: false },
);
export type OpenRecord = Static<typeof OpenRecord>;

export const AuditRecord = Type.Union([DecisionRecord, OutcomeRecord, ErasureRecord, GapRecord, OpenRecord]);
export type AuditRecord = Static<typeof AuditRecord>;

export const AuditLine = Type.Object(
  {
    hash: Hex64,
    prev: Hex64,
    rec: AuditRecord,
    seq: Type.Integer({ minimum: 0 }),
    user: Type.Union([Type.String(), Type.Null()], { description: 'The pseudonymous shopper; null when anonymous or redacted.' }),
  },
  { additionalProperties: false },
);
export type AuditLine = Static<typeof AuditLine>;

/** A stored decision line. */
export const DecisionLine = Type.Object(
  { hash: Hex64, prev: Hex64, rec: DecisionRecord, seq: Type.Integer({ minimum: 0 }), user: Type.Union([Type.String(), Type.Null()]) },
  { additionalProperties: false },
);
export type DecisionLine = Static<typeof DecisionLine>;

/** A decision as GET /v1/decisions/{id} answers it: the record with its outcome, the shopper, and where it sits in the chain. */
export const DecisionView = Type.Composite(
  [
    Type.Omit(DecisionRecord, ['outcome']),
    Type.Object({
      ...OutcomeBody,
      user: Type.Union([Type.String(), Type.Null()], { description: 'The pseudonymous shopper; null when anonymous or redacted.' }),
      chain: Type.Object(
        { seq: Type.Integer({ minimum: 0 }), hash: Hex64, outcome: Hex64 },
        { additionalProperties: false, description: 'The line in its writer\'s chain, and its outcome record.' },
      ),
    }),
  ],
  { additionalProperties: false },
);
export type DecisionView = Static<typeof DecisionView>;

/** The decision of `line` with its outcome resolved (its candidates unpacked). */
export function decisionView(line: DecisionLine, outcome: OutcomeRecord): DecisionView {
  const { outcome: digest, ...rec } = line.rec;
  const { filtered, items, promotions } = outcome;
  const candidates = Array.isArray(outcome.candidates) ? outcome.candidates : unpackCandidates(outcome.candidates);
  return { ...rec, candidates, filtered, items, promotions, user: line.user, chain: { seq: line.seq, hash: line.hash, outcome: digest } };
}

export function subjectDigest(recordId: string, user: string): string {
  return hash('sha256', `${recordId}:${user}`, 'hex');
}
