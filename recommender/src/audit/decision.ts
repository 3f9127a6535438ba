/**
 * A decision record of one answer (see record.ts), from what the service already holds. The service
 * queues its inputs, flat, and the sink writes the record's canonical JSON straight from them in the
 * background, with the digests of its outcome and subject: nothing is built twice on the request path.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical.js';
import { AUDIT_FORMAT, subjectDigest, type DecisionRecord } from './record.js';
import type { Intent } from '../schemas.js';

export interface DecisionInputs {
  id: string;
  time: number;
  intent: Intent;
  items: readonly string[];
  limit: number;
  /** The candidate depth the engine was asked for. */
  depth: number;
  /** The shopper's pseudonym and its key id, when there is one to record. */
  user: string | undefined;
  keyId: string;
  optedOut: boolean;
  modelVersion: string;
  modelSha256: string;
  configVersion: string;
  experiment: string | undefined;
  variant: string;
  onlineGeneration: number;
  notes: string[] | undefined;
}

/** The record as an object (what the JSON text parses back to). */
export function decisionRecord(i: DecisionInputs, outcome: string): DecisionRecord {
  return {
    type: 'decision',
    v: AUDIT_FORMAT,
    id: i.id,
    time: new Date(i.time).toISOString(),
    ...(i.user ? { subject: { digest: subjectDigest(i.id, i.user), keyId: i.keyId } } : {}),
    optedOut: i.optedOut,
    intent: i.intent,
    context: { items: [...i.items], limit: i.limit, depth: i.depth },
    model: { version: i.modelVersion, sha256: i.modelSha256 },
    config: { version: i.configVersion },
    ...(i.experiment ? { experiment: { name: i.experiment, variant: i.variant } } : {}),
    variant: i.variant,
    online: { generation: i.onlineGeneration },
    outcome,
    ...(i.notes && i.notes.length > 0 ? { notes: i.notes } : {}),
  };
}

const s = JSON.stringify;
let isoMs = NaN;
let iso = '';

/**
 * The canonical JSON of `decisionRecord(i, outcome)`, written by hand with the keys in sorted order (the
 * generic walk costs several times more per answer; a test checks the two agree). Ids, times, digests and
 * key ids are quoted as they are: their formats hold nothing JSON escapes.
 */
export function decisionText(i: DecisionInputs, outcome: string): string {
  if (i.time !== isoMs) {
    isoMs = i.time;
    iso = new Date(i.time).toISOString();
  }
  return (
    `{"config":{"version":"${i.configVersion}"},"context":{"depth":${i.depth},"items":${s(i.items)},"limit":${i.limit}}` +
    (i.experiment ? `,"experiment":{"name":"${i.experiment}","variant":${s(i.variant)}}` : '') +
    `,"id":"${i.id}","intent":"${i.intent}","model":{"sha256":"${i.modelSha256}","version":${s(i.modelVersion)}}` +
    (i.notes && i.notes.length > 0 ? `,"notes":${s(i.notes)}` : '') +
    `,"online":{"generation":${i.onlineGeneration}},"optedOut":${i.optedOut},"outcome":"${outcome}"` +
    (i.user ? `,"subject":{"digest":"${subjectDigest(i.id, i.user)}","keyId":"${i.keyId}"}` : '') +
    `,"time":"${iso}","type":"decision","v":${AUDIT_FORMAT},"variant":${s(i.variant)}}`
  );
}

/** A short, stable version of a config: the first 12 hex digits of the sha256 of its canonical JSON. */
export function configVersion(config: unknown): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex').slice(0, 12);
}
