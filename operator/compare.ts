/**
 * Does a live object already carry everything we would apply? Pure. This is how the operator skips
 * writes on a steady cluster and still notices drift: the API server only ever adds to what we sent
 * (defaults, status, other managers' fields), so every field of the desired object must be in the
 * live one with the same value. A hand edit or a deleted field breaks that and triggers an apply.
 */

/** The annotation holding a hash of the rendered object, so a changed render is always re-applied. */
export const RENDER_HASH_ANNOTATION = 'tandem.dev/render-hash';

export function matchesDesired(desired: unknown, live: unknown): boolean {
  // The server may drop an empty list or null, or fill an empty struct with defaults.
  if (desired === null) return live === null || live === undefined;
  if (Array.isArray(desired) && desired.length === 0) return live === undefined || (Array.isArray(live) && live.length === 0);
  if (isObject(desired) && Object.keys(desired).length === 0) return live === undefined || isObject(live);
  if (Array.isArray(desired)) {
    if (!Array.isArray(live) || live.length !== desired.length) return false;
    return desired.every((d, i) => matchesDesired(d, live[i]));
  }
  if (isObject(desired)) {
    if (!isObject(live)) return false;
    return Object.entries(desired).every(([k, v]) => matchesDesired(v, live[k]));
  }
  return sameScalar(desired, live);
}

function sameScalar(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  // The API server canonicalises quantities ("1000m" → "1", "0.5" → "500m") and int-or-strings.
  const qa = quantity(a);
  const qb = quantity(b);
  return qa !== undefined && qa === qb;
}

const SUFFIX: Record<string, number> = {
  '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** A Kubernetes quantity as a number, or undefined if it is not one. */
export function quantity(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return undefined;
  const m = /^([+-]?[0-9.]+)(?:[eE]([+-]?[0-9]+))?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(v);
  if (!m) return undefined;
  const value = Number(m[1]) * 10 ** Number(m[2] ?? 0) * (SUFFIX[m[3] ?? ''] ?? 1);
  return Number.isFinite(value) ? Number(value.toPrecision(12)) : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
