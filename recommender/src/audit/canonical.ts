/**
 * Canonical JSON: object keys sorted (by UTF-16 code units), no whitespace, `undefined` members left out,
 * numbers and strings as JSON.stringify writes them. Parsing a canonical text and serialising it again
 * gives the same bytes, which is what lets the verifier recompute a record's hash from its line.
 */

/**
 * Canonical texts of shared arrays (a cached candidate list appears in many records). Only arrays are
 * memoised, and only arrays that are never mutated may be serialised with a memo.
 */
export type CanonicalMemo = WeakMap<object, string>;

export function canonicalJson(value: unknown, memo?: CanonicalMemo): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError(`cannot serialise ${value} canonically`);
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError(`cannot serialise a ${typeof value} canonically`);
    return text;
  }
  if (Array.isArray(value)) {
    const cached = memo?.get(value);
    if (cached !== undefined) return cached;
    const text = `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v, memo))).join(',')}]`;
    memo?.set(value, text);
    return text;
  }
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const k of Object.keys(obj).sort()) {
    const v = obj[k];
    if (v !== undefined) parts.push(`${JSON.stringify(k)}:${canonicalJson(v, memo)}`);
  }
  return `{${parts.join(',')}}`;
}
