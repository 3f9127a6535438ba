import { describe, expect, it } from 'vitest';
import { WorkQueue } from './queue.js';

describe('WorkQueue', () => {
  it('When a key is added twice before a worker takes it, Then it is queued once', () => {
    const q = new WorkQueue();
    q.add('shop/a');
    q.add('shop/a');
    q.add('shop/b');
    expect(q.depth).toBe(2);
  });

  it('When a key is re-added while a worker holds it, Then no second worker gets it until the first is done', async () => {
    const q = new WorkQueue();
    q.add('shop/a');
    const first = await q.get();
    q.add('shop/a');
    expect(q.depth).toBe(0);
    let second: string | undefined = 'not yet';
    const waiting = q.get().then((k) => (second = k));
    await Promise.resolve();
    expect(second).toBe('not yet');
    q.done(first!);
    await waiting;
    expect(second).toBe('shop/a');
  });

  it('When a key keeps failing, Then its delay doubles with bounded jitter up to the cap', () => {
    const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 1000, random: () => 0.5, burst: 1000 });
    const delays = Array.from({ length: 10 }, () => q.addRateLimited('shop/a'));
    expect(delays.slice(0, 5)).toEqual([10, 20, 40, 80, 160]);
    expect(Math.max(...delays)).toBe(1000);
    q.shutdown();
  });

  it('When a failed key succeeds, Then forget resets its backoff', () => {
    const q = new WorkQueue({ baseDelayMs: 10, random: () => 0.5 });
    q.addRateLimited('shop/a');
    q.addRateLimited('shop/a');
    q.forget('shop/a');
    expect(q.retries('shop/a')).toBe(0);
    expect(q.addRateLimited('shop/a')).toBe(10);
    q.shutdown();
  });

  it('When many keys fail at once, Then the overall token bucket spaces their retries', () => {
    let now = 0;
    const q = new WorkQueue({ baseDelayMs: 1, ratePerSecond: 10, burst: 2, random: () => 0.5, now: () => now });
    const delays = ['a', 'b', 'c', 'd'].map((k) => q.addRateLimited(k));
    expect(delays.slice(0, 2)).toEqual([1, 1]);
    expect(delays[2]).toBeCloseTo(100);
    expect(delays[3]).toBeCloseTo(200);
    now += 1000;
    expect(q.addRateLimited('e')).toBe(1);
    q.shutdown();
  });

  it('When the queue shuts down, Then waiting workers are released with no key', async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    q.shutdown();
    expect(await waiting).toBeUndefined();
    q.add('shop/a');
    expect(q.depth).toBe(0);
  });
});
