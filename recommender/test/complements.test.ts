import { describe, expect, it } from 'vitest';
import { complementEvidence, neighbourRate, poissonKl } from '../src/engine/complements.js';
import { parseConfig } from '../src/config.js';
import { train } from '../src/engine/train.js';
import { Catalog } from '../src/engine/catalog.js';
import { EventColumnsBuilder, EVENT_CART, EVENT_PURCHASE } from '../src/engine/events.js';
import { CAMERA_SHOP } from './fixtures.js';

const k = { beta: 5, beta2: 50, lambda: 8, z: 0 };

describe('complement evidence (complements.ts), against hand-computed values', () => {
  // a in 18 of 37 baskets, b in 11, together in 8; b's rate with a's substitutes 40%.
  //   p = 11/37 = 0.297297;  P̂ = (8 + 5p)/23 = 0.412456;  P̃ = (8 + 50·0.4)/68 = 0.411765
  //   D(P̂‖p) = P̂·ln(P̂/p) − P̂ + p = 0.019878;  score = D + 8·(P̃ − p) = 0.935617
  it('When b is bought with a more than its base rate, Then the score is D(P̂‖p) + λ·(P̃ − p)', () => {
    const e = complementEvidence(8, 18, 11, 37, 0.4, k)!;
    expect(e.base).toBeCloseTo(0.297297, 6);
    expect(e.own).toBeCloseTo(0.412456, 6);
    expect(e.blend).toBeCloseTo(0.411765, 6);
    expect(e.score).toBeCloseTo(0.935617, 6);
  });

  it('When a significance floor is set, Then the pair needs G² = max(2·23·D(P̂‖p), 2·68·D(P̃‖p)) = 2.673 ≥ z²', () => {
    expect(complementEvidence(8, 18, 11, 37, 0.4, { ...k, z: 1.63 })).toBeDefined();
    expect(complementEvidence(8, 18, 11, 37, 0.4, { ...k, z: 1.64 })).toBeUndefined();
  });

  it('When b rides along at its base rate with a and with a’s neighbours, Then there is no evidence at all', () => {
    // 10 of 20 baskets of a, 50 of 100 overall, 50% with the neighbours too.
    expect(complementEvidence(10, 20, 50, 100, 0.5, k)).toBeUndefined();
    // A hair above: kept, but with a score a true complement dwarfs.
    const hair = complementEvidence(11, 20, 50, 100, 0.5, k)!.score;
    const strong = complementEvidence(10, 20, 12, 100, 0.12, k)!.score;
    expect(hair).toBeLessThan(strong / 5);
  });

  it('When the KL divergence and the neighbours’ rate are asked for, Then they follow their definitions', () => {
    expect(poissonKl(0.2, 0.1)).toBeCloseTo(0.2 * Math.log(2) - 0.1, 12);
    expect(poissonKl(0, 0.3)).toBe(0.3);
    expect(poissonKl(0.1, 0.1)).toBe(0);
    // (Σ c_sb + β₂·p) / (Σ c_s + β₂) = (6 + 50·0.1) / (30 + 50)
    expect(neighbourRate(6, 30, 0.1, 50)).toBeCloseTo(11 / 80, 12);
  });
});

describe('baskets for training', () => {
  const catalog = Catalog.from(CAMERA_SHOP);
  const idx = (id: string): number => catalog.idx(id)!;
  const T = Date.parse('2026-10-01T00:00:00Z');

  it('When a cart becomes an order, Then it counts once (as the order); an abandoned cart counts as a basket of its own', () => {
    const b = new EventColumnsBuilder();
    const u = b.userIndex('u1');
    // Session 1: two items carted, then ordered. Session 2 (a day later): carted, abandoned.
    b.push(EVENT_CART, u, idx('cam-1'), -1, T);
    b.push(EVENT_CART, u, idx('card-1'), -1, T + 60_000);
    b.push(EVENT_PURCHASE, u, idx('cam-1'), b.orderIndex('o1'), T + 120_000);
    b.push(EVENT_PURCHASE, u, idx('card-1'), b.orderIndex('o1'), T + 120_000);
    b.push(EVENT_CART, u, idx('cam-1'), -1, T + 86_400_000);
    b.push(EVENT_CART, u, idx('tri-1'), -1, T + 86_460_000);
    const m = train(catalog, b.build(), parseConfig({ engine: { halfLifeDays: 1e9 } }).engine);
    expect(m.counts.orders).toBe(1);
    expect(m.counts.cartSessions).toBe(1);
    expect(m.basketTotal).toBeCloseTo(2, 6);
    expect(m.arrays.itemBaskets[idx('cam-1')]).toBeCloseTo(2, 6);
    expect(m.arrays.itemBaskets[idx('card-1')]).toBeCloseTo(1, 6);
  });

  it('When events are decayed, Then the weights average 1, so counts stay in basket units', () => {
    const b = new EventColumnsBuilder();
    // Ten one-item orders, one every 30 days: with a 30-day half-life the newest weighs 2^9 times the oldest.
    for (let o = 0; o < 10; o++) b.push(EVENT_PURCHASE, b.userIndex(`u${o}`), idx('mug-1'), b.orderIndex(`o${o}`), T + o * 30 * 86_400_000);
    const m = train(catalog, b.build(), parseConfig({ engine: { halfLifeDays: 30 } }).engine);
    expect(m.basketTotal).toBeCloseTo(10, 6);
    expect(m.arrays.itemBaskets[idx('mug-1')]).toBeCloseTo(10, 5);
  });
});
