/**
 * API keys: the keys file format, scopes, and finding the key a request presents. The file holds a
 * list of `{name, sha256, scopes}` (JSON or YAML; plain keys are never stored), or, as Secrets made
 * for a single key still do, one plain key, which then has every scope. A presented key is hashed and
 * compared with every stored digest in constant time.
 */
import { hash } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import YAML from 'yaml';
import { fieldErrors } from '../data/validate.js';

export const SCOPES = ['recommend:read', 'events:write', 'catalog:write', 'admin'] as const;
export const Scope = Type.Union(SCOPES.map((s) => Type.Literal(s)));
export type Scope = (typeof SCOPES)[number];

export const KeyEntry = Type.Object(
  {
    /** name: who holds the key (logs, metrics and audit name it; it is not secret). */
    name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' }),
    /** sha256: hex digest of the key (`printf %s "$KEY" | sha256sum`). */
    sha256: Type.String({ pattern: '^[0-9a-fA-F]{64}$' }),
    scopes: Type.Array(Scope, { minItems: 1, uniqueItems: true }),
    /** ratePerSecond: this key's request rate limit per pod; the config's `auth.ratePerSecond` when unset, 0 = none. */
    ratePerSecond: Type.Optional(Type.Number({ minimum: 0 })),
    /** burst: requests allowed at once above the rate. Default: one second's worth. */
    burst: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);
export type KeyEntry = Static<typeof KeyEntry>;
export const KeysFile = Type.Array(KeyEntry, { minItems: 1, maxItems: 1000 });

export interface ApiKey {
  readonly name: string;
  /** Lower-case hex sha256 of the key. */
  readonly digest: string;
  readonly scopes: ReadonlySet<Scope>;
  readonly ratePerSecond?: number;
  readonly burst?: number;
}

/** The name given to a single plain key (`TANDEM_API_KEY`, or a keys file holding one key). */
export const PLAIN_KEY_NAME = 'default';

/** Hex sha256 (a hex string: a Buffer costs more to allocate than the hash to compute). */
export function sha256(key: string): string {
  return hash('sha256', key, 'hex');
}

/**
 * Whether two strings are equal, in time that depends on their length only (the digests compared are
 * always 64 characters): every character is looked at, whatever the first difference.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** A key with every scope, from its plain value. */
export function plainKey(key: string, name = PLAIN_KEY_NAME): ApiKey {
  if (key.length < 8) throw new Error('a plain API key must be at least 8 characters');
  return { name, digest: sha256(key), scopes: new Set(SCOPES) };
}

/**
 * Parses a keys file. Errors name the entry and field, never the content (this is a secret's file):
 * a YAML syntax error gives its line only.
 */
export function parseKeysFile(text: string): ApiKey[] {
  const t = text.trim();
  // One token, not a list or a map: a single plain key.
  if (t !== '' && !/\s/.test(t) && !t.startsWith('[') && !t.startsWith('{')) return [plainKey(t)];
  let raw: unknown;
  try {
    raw = YAML.parse(t);
  } catch (err) {
    const line = (err as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    // No `cause`: the YAML error quotes the offending line, which is secret.
    // eslint-disable-next-line preserve-caught-error
    throw new Error(`not valid JSON or YAML${line ? ` (line ${line})` : ''}`);
  }
  const errors = fieldErrors(KeysFile, raw);
  if (errors.length > 0) throw new Error(`not a list of {name, sha256, scopes}: ${errors.slice(0, 5).map((e) => `${e.field} ${e.message}`).join('; ')}`);
  const entries = raw as KeyEntry[];
  const names = new Set<string>();
  return entries.map((e, i) => {
    if (names.has(e.name)) throw new Error(`/${i}/name '${e.name}' is used twice`);
    names.add(e.name);
    return {
      name: e.name,
      digest: e.sha256.toLowerCase(),
      scopes: new Set(e.scopes),
      ...(e.ratePerSecond === undefined ? {} : { ratePerSecond: e.ratePerSecond }),
      ...(e.burst === undefined ? {} : { burst: e.burst }),
    };
  });
}

/**
 * The key whose digest matches the presented key, or undefined. Every digest is compared (in constant
 * time), so the time taken says nothing about which key matched or how close a guess came.
 */
export function findKey(keys: readonly ApiKey[], presented: string): ApiKey | undefined {
  const digest = sha256(presented);
  let found: ApiKey | undefined;
  for (const k of keys) if (constantTimeEqual(k.digest, digest) && !found) found = k;
  return found;
}
