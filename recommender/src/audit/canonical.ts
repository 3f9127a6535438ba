/**
 * Canonical JSON: object keys sorted (by UTF-16 code units), no whitespace, `undefined` members left out,
 * numbers and strings as JSON.stringify writes them. Parsing a canonical text and serialising it again
 * gives the same bytes, which is what lets the verifier recompute a record's hash from its line.
 */

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError(`cannot serialise ${value} canonically`);
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError(`cannot serialise a ${typeof value} canonically`);
    return text;
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const k of Object.keys(obj).sort()) {
    const v = obj[k];
    if (v !== undefined) parts.push(`${JSON.stringify(k)}:${canonicalJson(v)}`);
  }
  return `{${parts.join(',')}}`;
}
