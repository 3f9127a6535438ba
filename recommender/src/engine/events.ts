/**
 * Events as compact columns (typed arrays) so training scales to millions of events
 * without one JS object per event.
 */
import type { EventType, ShopEvent } from '../schemas.js';
import type { Catalog } from './catalog.js';

export const EVENT_VIEW = 0;
export const EVENT_CART = 1;
export const EVENT_PURCHASE = 2;
export const EVENT_CODES: Record<EventType, number> = { view: EVENT_VIEW, add_to_cart: EVENT_CART, purchase: EVENT_PURCHASE };

export interface EventColumns {
  length: number;
  type: Uint8Array;
  user: Int32Array;
  item: Int32Array;
  /** Order index, -1 when the event has no order. */
  order: Int32Array;
  /** Epoch milliseconds. */
  ts: Float64Array;
  userIds: string[];
  orderCount: number;
}

/** Appends events into growable columns, interning user and order ids. */
export class EventColumnsBuilder {
  private cap: number;
  private cols: Omit<EventColumns, 'userIds' | 'orderCount' | 'length'>;
  private length = 0;
  private readonly users = new Map<string, number>();
  private readonly userIds: string[] = [];
  private readonly orders = new Map<string, number>();
  skipped = 0;

  constructor(capacity = 1024) {
    this.cap = Math.max(16, capacity);
    this.cols = {
      type: new Uint8Array(this.cap),
      user: new Int32Array(this.cap),
      item: new Int32Array(this.cap),
      order: new Int32Array(this.cap),
      ts: new Float64Array(this.cap),
    };
  }

  get size(): number {
    return this.length;
  }

  userIndex(id: string): number {
    let u = this.users.get(id);
    if (u === undefined) {
      u = this.userIds.length;
      this.userIds.push(id);
      this.users.set(id, u);
    }
    return u;
  }

  orderIndex(id: string): number {
    let o = this.orders.get(id);
    if (o === undefined) {
      o = this.orders.size;
      this.orders.set(id, o);
    }
    return o;
  }

  push(type: number, user: number, item: number, order: number, ts: number): void {
    if (this.length === this.cap) this.grow();
    const i = this.length++;
    this.cols.type[i] = type;
    this.cols.user[i] = user;
    this.cols.item[i] = item;
    this.cols.order[i] = order;
    this.cols.ts[i] = ts;
  }

  /** Adds a validated event; events naming items absent from the catalogue are skipped and counted. */
  add(ev: ShopEvent, catalog: Catalog): void {
    const item = catalog.idx(ev.itemId);
    if (item === undefined) {
      this.skipped++;
      return;
    }
    const ts = Date.parse(ev.timestamp);
    const code = EVENT_CODES[ev.type];
    let order = -1;
    if (code === EVENT_PURCHASE) order = this.orderIndex(ev.orderId ?? `${ev.userId}@${ev.timestamp}`);
    this.push(code, this.userIndex(ev.userId), item, order, ts);
  }

  build(): EventColumns {
    const n = this.length;
    return {
      length: n,
      type: this.cols.type.slice(0, n),
      user: this.cols.user.slice(0, n),
      item: this.cols.item.slice(0, n),
      order: this.cols.order.slice(0, n),
      ts: this.cols.ts.slice(0, n),
      userIds: this.userIds,
      orderCount: this.orders.size,
    };
  }

  private grow(): void {
    this.cap *= 2;
    const c = this.cols;
    const t = new Uint8Array(this.cap);
    t.set(c.type);
    const u = new Int32Array(this.cap);
    u.set(c.user);
    const it = new Int32Array(this.cap);
    it.set(c.item);
    const o = new Int32Array(this.cap);
    o.set(c.order);
    const ts = new Float64Array(this.cap);
    ts.set(c.ts);
    this.cols = { type: t, user: u, item: it, order: o, ts };
  }
}

/** Keeps the events whose index passes `keep` (used for temporal splits). */
export function filterEvents(ev: EventColumns, keep: (i: number) => boolean): EventColumns {
  const idx: number[] = [];
  for (let i = 0; i < ev.length; i++) if (keep(i)) idx.push(i);
  const n = idx.length;
  const out: EventColumns = {
    length: n,
    type: new Uint8Array(n),
    user: new Int32Array(n),
    item: new Int32Array(n),
    order: new Int32Array(n),
    ts: new Float64Array(n),
    userIds: ev.userIds,
    orderCount: ev.orderCount,
  };
  idx.forEach((src, j) => {
    out.type[j] = ev.type[src]!;
    out.user[j] = ev.user[src]!;
    out.item[j] = ev.item[src]!;
    out.order[j] = ev.order[src]!;
    out.ts[j] = ev.ts[src]!;
  });
  return out;
}

/** The events of the last `days` days, counted back from the newest event (the training history window). */
export function lastDays(ev: EventColumns, days: number): EventColumns {
  let newest = -Infinity;
  for (let i = 0; i < ev.length; i++) if (ev.ts[i]! > newest) newest = ev.ts[i]!;
  const cutoff = newest - days * 86_400_000;
  return filterEvents(ev, (i) => ev.ts[i]! >= cutoff);
}
