/** Builds the decision record of one answer (see record.ts), from what the service already holds. */
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical.js';
import { AUDIT_FORMAT, subjectDigest, type AuditCandidate, type DecisionRecord } from './record.js';
import type { Intent, RecommendedItem } from '../schemas.js';

export interface DecisionInputs {
  id: string;
  time: number;
  intent: Intent;
  items: readonly string[];
  limit: number;
  /** The candidate depth the engine was asked for. */
  depth: number;
  /** The shopper's pseudonym and its key id, when there is one to record. */
  user?: { pseudonym: string; keyId: string };
  optedOut: boolean;
  model: { version: string; sha256: string };
  configVersion: string;
  experiment?: { name: string; variant: string };
  variant: string;
  promotions: string[];
  onlineGeneration: number;
  /** Shared between answers from the same candidate list and stock: never mutated. */
  candidates: AuditCandidate[];
  filtered: DecisionRecord['filtered'];
  answer: RecommendedItem[];
  notes?: string[];
}

export function decisionRecord(i: DecisionInputs): DecisionRecord {
  return {
    type: 'decision',
    v: AUDIT_FORMAT,
    id: i.id,
    time: new Date(i.time).toISOString(),
    ...(i.user ? { subject: { digest: subjectDigest(i.id, i.user.pseudonym), keyId: i.user.keyId } } : {}),
    optedOut: i.optedOut,
    intent: i.intent,
    context: { items: [...i.items], limit: i.limit, depth: i.depth },
    model: i.model,
    config: { version: i.configVersion },
    ...(i.experiment ? { experiment: i.experiment } : {}),
    variant: i.variant,
    promotions: i.promotions,
    online: { generation: i.onlineGeneration },
    candidates: i.candidates,
    filtered: i.filtered,
    items: i.answer,
    ...(i.notes && i.notes.length > 0 ? { notes: i.notes } : {}),
  };
}

/** A short, stable version of a config: the first 12 hex digits of the sha256 of its canonical JSON. */
export function configVersion(config: unknown): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex').slice(0, 12);
}
