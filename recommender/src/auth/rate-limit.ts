/** Per-key token buckets: `ratePerSecond` requests per second on average, `burst` at once. Per pod. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly clock: () => number = () => performance.now()) {}

  /** Takes a token for `key`: undefined if allowed, else the seconds until one is free (for Retry-After). */
  take(key: string, ratePerSecond: number, burst: number): number | undefined {
    const now = this.clock();
    let b = this.buckets.get(key);
    if (!b) {
      b = { tokens: burst, at: now };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * ratePerSecond);
      b.at = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return undefined;
    }
    return (1 - b.tokens) / ratePerSecond;
  }
}
