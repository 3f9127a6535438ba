/**
 * The textbook baselines of the comparison, from the training orders alone (purchases grouped by order,
 * undecayed, each item once per order): c_a = orders holding a, c_ab = orders holding a and b,
 * N = orders. Each ranks every co-bought item; the comparison filters all lists the same way.
 */
import { EVENT_PURCHASE, type EventColumns } from './engine/events.js';

export type BaselineName = 'popularity' | 'co-count' | 'lift' | 'shrunk PMI';

/** Orders as item lists (distinct items, event order), from the purchases of `ev`. */
export function ordersOf(ev: EventColumns): number[][] {
  const byOrder = new Map<number, number[]>();
  for (let i = 0; i < ev.length; i++) {
    if (ev.type[i] !== EVENT_PURCHASE || ev.order[i]! < 0) continue;
    const o = ev.order[i]!;
    let b = byOrder.get(o);
    if (!b) byOrder.set(o, (b = []));
    if (!b.includes(ev.item[i]!)) b.push(ev.item[i]!);
  }
  return [...byOrder.values()];
}

export class Baselines {
  readonly count: Float64Array;
  /** pairs[a]: b → c_ab (undefined when a was never bought with anything). */
  readonly pairs: (Map<number, number> | undefined)[];
  readonly orders: number;
  /** Items by descending order count (ties by index). */
  readonly popular: number[];

  /** `beta`: the shrinkage of the shrunk PMI, PMI·c_ab/(c_ab + β). */
  constructor(
    orders: readonly (readonly number[])[],
    n: number,
    private readonly beta = 5,
  ) {
    this.count = new Float64Array(n);
    this.orders = orders.length;
    const pairs = new Array<Map<number, number> | undefined>(n);
    for (const b of orders) {
      for (const a of b) {
        this.count[a]!++;
        let m = pairs[a];
        if (!m) pairs[a] = m = new Map();
        for (const c of b) if (c !== a) m.set(c, (m.get(c) ?? 0) + 1);
      }
    }
    this.pairs = pairs;
    this.popular = Array.from({ length: n }, (_, i) => i)
      .filter((i) => this.count[i]! > 0)
      .sort((x, y) => this.count[y]! - this.count[x]! || x - y);
  }

  /** The score of b as a complement of a; undefined when never co-bought. */
  score(name: Exclude<BaselineName, 'popularity'>, a: number, b: number): number | undefined {
    const c = this.pairs[a]?.get(b);
    if (c === undefined) return undefined;
    const lift = (c * this.orders) / (this.count[a]! * this.count[b]!);
    if (name === 'co-count') return c;
    if (name === 'lift') return lift;
    return Math.log(lift) * (c / (c + this.beta));
  }

  /** Every item co-bought with `a`, best first by the baseline (popularity ignores `a`). */
  rank(name: BaselineName, a: number): number[] {
    if (name === 'popularity') return this.popular;
    const scored: [number, number][] = [];
    for (const b of this.pairs[a]?.keys() ?? []) scored.push([b, this.score(name, a, b)!]);
    scored.sort((x, y) => y[1] - x[1] || x[0] - y[0]);
    return scored.map(([b]) => b);
  }
}
