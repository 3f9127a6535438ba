/**
 * Who may call what: the bearer key's scopes and its rate limit, as a decision the API layer turns into
 * 401, 403 or 429. Failures are tallied by reason for /metrics; nothing here logs, and no decision
 * carries the presented key.
 */
import type { AuthConfig } from '../config.js';
import { constantTimeEqual, findKey, type ApiKey, type Scope } from './keys.js';
import { RateLimiter } from './rate-limit.js';

export const AUTH_FAILURES = ['missing', 'unknown', 'scope', 'rate_limited'] as const;
export type AuthFailure = (typeof AUTH_FAILURES)[number];

export type AuthDecision =
  | { ok: true; key: ApiKey }
  | { ok: false; reason: 'missing' | 'unknown' }
  | { ok: false; reason: 'scope'; key: ApiKey; scope: Scope }
  | { ok: false; reason: 'rate_limited'; key: ApiKey; ratePerSecond: number; retryAfterSeconds: number };

/** The token of `Bearer <token>` (scheme case-insensitive), or undefined. */
function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined || authorization.length < 8) return undefined;
  if (!authorization.startsWith('Bearer ') && authorization.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
  const token = authorization.slice(7).trim();
  return token === '' || /\s/.test(token) ? undefined : token;
}

export class Authenticator {
  /** Refused calls since start, by reason. */
  readonly failures: Record<AuthFailure, number> = { missing: 0, unknown: 0, scope: 0, rate_limited: 0 };
  private readonly limiter: RateLimiter;
  /** The header each connection last proved, and the key and key set it matched (see `check`). */
  private readonly proven = new WeakMap<object, { header: string; key: ApiKey; keys: readonly ApiKey[] }>();
  /** One decision object per key, so an allowed call allocates nothing. */
  private readonly allowed = new WeakMap<ApiKey, AuthDecision & { ok: true }>();

  /** `keys` is read on every call, so a reloaded keys file applies to the next request. */
  constructor(
    private readonly keys: () => readonly ApiKey[],
    private readonly cfg: AuthConfig,
    clock?: () => number,
  ) {
    this.limiter = new RateLimiter(clock);
  }

  /**
   * `connection` (the request's socket) lets a keep-alive caller skip the hashing: the header it proved
   * on this connection is remembered, and a later request on it that presents the same header (compared
   * in constant time, against what this very connection already showed) is that key again, as long as
   * the key set has not changed since.
   */
  check(authorization: string | undefined, scope: Scope, connection?: object): AuthDecision {
    const keys = this.keys();
    const seen = connection && this.proven.get(connection);
    let key: ApiKey | undefined;
    if (seen && seen.keys === keys && authorization !== undefined && constantTimeEqual(seen.header, authorization)) key = seen.key;
    else {
      const presented = bearerToken(authorization);
      if (presented === undefined) return this.fail({ ok: false, reason: 'missing' });
      key = findKey(keys, presented);
      if (!key) return this.fail({ ok: false, reason: 'unknown' });
      if (connection) this.proven.set(connection, { header: authorization!, key, keys });
    }
    if (!key.scopes.has(scope)) return this.fail({ ok: false, reason: 'scope', key, scope });
    const rate = key.ratePerSecond ?? this.cfg.ratePerSecond;
    if (rate > 0) {
      const wait = this.limiter.take(key.name, rate, key.burst ?? this.cfg.burst ?? Math.max(1, Math.ceil(rate)));
      if (wait !== undefined) return this.fail({ ok: false, reason: 'rate_limited', key, ratePerSecond: rate, retryAfterSeconds: Math.max(1, Math.ceil(wait)) });
    }
    let ok = this.allowed.get(key);
    if (!ok) this.allowed.set(key, (ok = { ok: true, key }));
    return ok;
  }

  private fail<D extends AuthDecision & { ok: false }>(d: D): D {
    this.failures[d.reason]++;
    return d;
  }
}
