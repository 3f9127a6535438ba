/**
 * Recommendation ids are UUIDv7 (RFC 9562): 48 bits of Unix time in ms, so the audit trail finds a
 * decision's file from its id alone, and 12 bits (`rand_a`) that carry the answer's experiment tag: the
 * experiment's fingerprint (8 bits) and the variant's index + 1 (4 bits; 0 when the answer is in no
 * experiment). Any pod can then credit an event that carries the id to the right variant without
 * looking the decision up, and after a pod restart. The other 62 bits are random.
 */
import { randomFillSync } from 'node:crypto';

export interface ExperimentTag {
  fingerprint: number;
  /** 0-based variant index. */
  variant: number;
}

const POOL = Buffer.alloc(8 * 512);
let used = POOL.length;

function random8(): Buffer {
  if (used === POOL.length) {
    randomFillSync(POOL);
    used = 0;
  }
  const out = POOL.subarray(used, used + 8);
  used += 8;
  return out;
}

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

export function newRecommendationId(now: number, tag?: ExperimentTag): string {
  if (tag && (tag.variant < 0 || tag.variant > 14 || tag.fingerprint < 0 || tag.fingerprint > 255)) throw new RangeError('experiment tag out of range');
  const r = random8();
  const randA = tag ? (tag.fingerprint << 4) | (tag.variant + 1) : 0;
  const time = hex(now, 12);
  const variantHi = 0x80 | (r[0]! & 0x3f);
  return `${time.slice(0, 8)}-${time.slice(8)}-7${hex(randA, 3)}-${hex(variantHi, 2)}${hex(r[1]!, 2)}-${r.toString('hex', 2, 8)}`;
}

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7([0-9a-f]{3})-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** The experiment tag of a recommendation id, or undefined (no experiment, or not one of ours). */
export function tagOf(id: string): ExperimentTag | undefined {
  const m = V7.exec(id);
  if (!m) return undefined;
  const randA = parseInt(m[1]!, 16);
  if ((randA & 0xf) === 0) return undefined;
  return { fingerprint: randA >> 4, variant: (randA & 0xf) - 1 };
}

/** The time a UUIDv7 was made, ms, or undefined for other ids. */
export function uuidV7Time(id: string): number | undefined {
  if (!V7.test(id)) return undefined;
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
