/**
 * Pseudonymisation: a shopper id becomes `<keyId>.<base64url HMAC-SHA256(key, id)>` before anything
 * is stored, cached, logged or audited (the trainer does the same to the model's user ids). The key id
 * travels with every pseudonym so the key can rotate: the newest key pseudonymises, older keys are kept
 * only to recognise what was stored under them (model histories, erasures, opt-outs) until it expires.
 */
import { createHash, createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import YAML from 'yaml';
import { checker, fieldErrors } from '../data/validate.js';

/** A key id: short, lower-case, safe in a file name and a Prometheus label. */
const KEY_ID = '^[a-z0-9][a-z0-9-]{0,15}$';
export const PSEUDONYM_PATTERN = /^[a-z0-9][a-z0-9-]{0,15}\.[A-Za-z0-9_-]{43}$/;
const MIN_KEY_LENGTH = 16;
/** Distinct ids remembered before the memo is cleared (a hot shopper costs one HMAC per clear). */
const MEMO_SIZE = 50_000;

/** The key file (`TANDEM_HMAC_KEY_FILE`) as YAML or JSON: newest key first. A plain line is one key. */
export const HmacKeyFile = Type.Array(
  Type.Object(
    {
      id: Type.String({ pattern: KEY_ID, description: 'id: recorded with every pseudonym, e.g. `k2026-11`.' }),
      key: Type.String({ minLength: MIN_KEY_LENGTH, description: `key: the secret, ≥ ${MIN_KEY_LENGTH} characters.` }),
    },
    { additionalProperties: false },
  ),
  { minItems: 1, maxItems: 10 },
);
export type HmacKeyFile = Static<typeof HmacKeyFile>;

export interface HmacKey {
  readonly id: string;
  /** A KeyObject: createHmac with a Buffer imports the key on every call, seven times slower. */
  readonly secret: KeyObject;
}

/** Thrown for a key file that cannot be used; the message never contains key material. */
export class HmacKeyError extends Error {
  override readonly name = 'HmacKeyError';
}

/** The key id of a bare key: a fingerprint that says which key it is without revealing it. */
export function fingerprintKeyId(secret: string): string {
  return `k${createHash('sha256').update('tandem-hmac-key-id\0').update(secret).digest('hex').slice(0, 8)}`;
}

/**
 * Parses the key material: a list of `{id, key}` (newest first) in YAML or JSON, or one bare key on a
 * line of its own (its id is its fingerprint).
 */
export function parseHmacKeys(text: string): HmacKey[] {
  const trimmed = text.trim();
  if (trimmed === '') throw new HmacKeyError('the HMAC key is empty');
  if (!trimmed.includes('\n') && !/^[[{-]/.test(trimmed)) {
    if (trimmed.length < MIN_KEY_LENGTH) throw new HmacKeyError(`the HMAC key must be at least ${MIN_KEY_LENGTH} characters`);
    return [{ id: fingerprintKeyId(trimmed), secret: createSecretKey(Buffer.from(trimmed)) }];
  }
  let parsed: unknown;
  try {
    parsed = YAML.parse(trimmed);
  } catch {
    throw new HmacKeyError('the HMAC key file is neither one key on a line nor a YAML/JSON list of {id, key}');
  }
  if (!checker(HmacKeyFile).Check(parsed)) {
    // Field paths and rules only: a message must never quote the secret.
    const what = fieldErrors(HmacKeyFile, parsed).map((e) => `'${e.field}' ${e.message}`);
    throw new HmacKeyError(`invalid HMAC key file: ${what.join('; ')}`);
  }
  const ids = parsed.map((k) => k.id);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup !== undefined) throw new HmacKeyError(`invalid HMAC key file: key id '${dup}' appears twice`);
  return parsed.map((k) => ({ id: k.id, secret: createSecretKey(Buffer.from(k.key)) }));
}

export class Pseudonymiser {
  private readonly memo = new Map<string, string>();

  /** `keys`: newest (the one that pseudonymises) first. */
  constructor(readonly keys: readonly HmacKey[]) {
    if (keys.length === 0) throw new HmacKeyError('at least one HMAC key is needed');
  }

  static fromText(text: string): Pseudonymiser {
    return new Pseudonymiser(parseHmacKeys(text));
  }

  /** The id of the key new pseudonyms are made with. */
  get keyId(): string {
    return this.keys[0]!.id;
  }

  /** The pseudonym of `id` under the current key. */
  pseudonym(id: string): string {
    let p = this.memo.get(id);
    if (p === undefined) {
      p = under(this.keys[0]!, id);
      if (this.memo.size >= MEMO_SIZE) this.memo.clear();
      this.memo.set(id, p);
    }
    return p;
  }

  /** The pseudonyms of `id` under every configured key, current first: what may have been stored about it. */
  all(id: string): string[] {
    if (this.keys.length === 1) return [this.pseudonym(id)];
    return [this.pseudonym(id), ...this.keys.slice(1).map((k) => under(k, id))];
  }
}

function under(key: HmacKey, id: string): string {
  return `${key.id}.${createHmac('sha256', key.secret).update(id).digest('base64url')}`;
}

/** The key id part of a pseudonym. */
export function keyIdOf(pseudonym: string): string {
  return pseudonym.slice(0, pseudonym.indexOf('.'));
}
