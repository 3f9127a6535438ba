import { describe, expect, it } from 'vitest';
import { Baselines, ordersOf } from '../src/evaluate-baselines.js';
import { EventColumnsBuilder, EVENT_PURCHASE, EVENT_VIEW } from '../src/engine/events.js';

// Four orders over items 0–3, worked by hand: N = 4; c0 = 3, c1 = 3, c2 = 2, c3 = 1; c01 = 2, c02 = 2, c12 = 1, c13 = 1.
const orders = [
  [0, 1],
  [0, 1, 2],
  [0, 2],
  [3, 1],
];
const b = new Baselines(orders, 5, 5);

describe('the baselines of the comparison, against hand-computed values', () => {
  it('When items are counted, Then c_a is the orders holding a and popularity ranks by it (ties by index; never-bought items left out)', () => {
    expect(Array.from(b.count)).toEqual([3, 3, 2, 1, 0]);
    expect(b.popular).toEqual([0, 1, 2, 3]);
    expect(b.orders).toBe(4);
  });

  it('When pairs are scored, Then co-count is c_ab, lift c_ab·N/(c_a·c_b), shrunk PMI ln(lift)·c_ab/(c_ab + β)', () => {
    expect(b.score('co-count', 0, 1)).toBe(2);
    expect(b.score('lift', 0, 1)).toBeCloseTo(8 / 9, 12);
    expect(b.score('lift', 0, 2)).toBeCloseTo(4 / 3, 12);
    expect(b.score('shrunk PMI', 0, 2)).toBeCloseTo(Math.log(4 / 3) * (2 / 7), 12);
    expect(b.score('lift', 1, 3)).toBeCloseTo(4 / 3, 12);
    expect(b.score('lift', 0, 3)).toBeUndefined(); // never co-bought
  });

  it('When an item’s complements are ranked, Then each baseline orders the items co-bought with it, best first', () => {
    expect(b.rank('co-count', 0)).toEqual([1, 2]);
    expect(b.rank('lift', 0)).toEqual([2, 1]);
    expect(b.rank('shrunk PMI', 0)).toEqual([2, 1]);
    expect(b.rank('popularity', 0)).toEqual([0, 1, 2, 3]);
    expect(b.rank('lift', 4)).toEqual([]);
  });

  it('When orders are read from events, Then purchases group by order, each item once, views ignored', () => {
    const e = new EventColumnsBuilder();
    e.push(EVENT_PURCHASE, 0, 5, 0, 1);
    e.push(EVENT_PURCHASE, 0, 5, 0, 2);
    e.push(EVENT_PURCHASE, 0, 6, 0, 3);
    e.push(EVENT_VIEW, 0, 7, -1, 4);
    e.push(EVENT_PURCHASE, 1, 7, 1, 5);
    expect(ordersOf(e.build())).toEqual([[5, 6], [7]]);
  });
});
