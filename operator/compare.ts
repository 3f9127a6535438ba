/**
 * Has a child drifted from what we would apply? This is how the operator skips writes on a steady
 * cluster and still notices hand edits.
 *
 * After each apply we fingerprint the server's answer, restricted to the fields we set. Later, the
 * live object restricted the same way must give the same fingerprint: this ignores what the server
 * adds or canonicalises (defaults, status, zero values it omits, "1000m" → "1") and catches any
 * edit to a field we own. Without a fingerprint (say, after a restart) every desired field must be
 * in the live object with an equivalent value.
 */
import { createHash } from 'node:crypto';


/** The annotation holding a hash of the rendered object, so a changed render is always re-applied. */
export const RENDER_HASH_ANNOTATION = 'tandem.dev/render-hash';

export function matchesDesired(desired: unknown, live: unknown): boolean {
  return firstDifference(desired, live) === undefined;
}

/** The path of the first desired field the live object lacks or contradicts, e.g. `.spec.replicas`. */
export function firstDifference(desired: unknown, live: unknown, path = ''): string | undefined {
  // The server may drop an empty list or null, or fill an empty struct with defaults.
  if (desired === null) return live === null || live === undefined ? undefined : path;
  if (Array.isArray(desired) && desired.length === 0) return live === undefined || (Array.isArray(live) && live.length === 0) ? undefined : path;
  if (isObject(desired) && Object.keys(desired).length === 0) return live === undefined || isObject(live) ? undefined : path;
  if (Array.isArray(desired)) {
    if (!Array.isArray(live) || live.length !== desired.length) return path;
    for (let i = 0; i < desired.length; i++) {
      const d = firstDifference(desired[i], live[i], `${path}[${i}]`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  if (isObject(desired)) {
    if (!isObject(live)) return path;
    for (const [k, v] of Object.entries(desired)) {
      const d = firstDifference(v, live[k], `${path}.${k}`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  if (live === undefined && (desired === false || desired === 0 || desired === '')) return undefined; // omitempty
  return sameScalar(desired, live) ? undefined : path;
}

/** The live object cut down to the shape of the desired one. */
export function project(desired: unknown, live: unknown): unknown {
  if (Array.isArray(desired)) return Array.isArray(live) ? live.map((item, i) => (i < desired.length ? project(desired[i], item) : item)) : live;
  if (isObject(desired) && Object.keys(desired).length > 0) {
    if (!isObject(live)) return live;
    return Object.fromEntries(Object.keys(desired).map((k) => [k, project(desired[k], live[k])]));
  }
  return live;
}

const digest = (v: unknown) => createHash('sha256').update(JSON.stringify(v) ?? 'undefined').digest('hex');

/** Fingerprints of what the server answered to our last apply of each child. */
export class AppliedFingerprints {
  private readonly byKey = new Map<string, { desired: string; applied: string }>();

  record(key: string, desired: unknown, applied: unknown): void {
    this.byKey.set(key, { desired: digest(desired), applied: digest(project(desired, applied)) });
  }

  forget(key: string): void {
    this.byKey.delete(key);
  }

  /** undefined when the live object needs no write; otherwise the path (or reason) of the drift. */
  drift(key: string, desired: unknown, live: unknown): string | undefined {
    const known = this.byKey.get(key);
    if (!known || known.desired !== digest(desired)) return firstDifference(desired, live);
    if (digest(project(desired, live)) === known.applied) return undefined;
    return firstDifference(desired, live) ?? 'a field set by tandem-operator was changed';
  }
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
