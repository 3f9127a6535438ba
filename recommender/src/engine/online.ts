/**
 * Counts learnt since the model was trained, from events posted to the API. They are added
 * to the model's counts at serve time, so a new pattern shows up without a retrain. They
 * belong to one model activation and start empty on every swap.
 */
export interface HistoryEntry {
  item: number;
  weight: number;
  bought: boolean;
}

export class OnlineState {
  readonly pairs = new Map<number, Map<number, number>>();
  readonly itemBaskets = new Map<number, number>();
  readonly histories = new Map<string, HistoryEntry[]>();
  baskets = 0;
  /** Bumped on every change; caches keyed by it never serve stale counts. */
  generation = 0;
  private readonly openOrders = new Map<string, number[]>();

  constructor(
    private readonly historySize = 30,
    private readonly maxOpenOrders = 50_000,
  ) {}

  /** Adds one purchased item to an order, pairing it with the order's earlier items. */
  addPurchase(orderKey: string, item: number): void {
    let order = this.openOrders.get(orderKey);
    if (!order) {
      order = [];
      this.openOrders.set(orderKey, order);
      this.baskets++;
      if (this.openOrders.size > this.maxOpenOrders) {
        const oldest = this.openOrders.keys().next().value as string;
        this.openOrders.delete(oldest);
      }
    }
    if (order.includes(item)) return;
    for (const other of order) {
      this.bump(item, other);
      this.bump(other, item);
    }
    order.push(item);
    this.itemBaskets.set(item, (this.itemBaskets.get(item) ?? 0) + 1);
    this.generation++;
  }

  /** Records that a shopper interacted with an item (most recent first). */
  addInteraction(userId: string, item: number, weight: number, bought: boolean): void {
    let h = this.histories.get(userId);
    if (!h) {
      h = [];
      this.histories.set(userId, h);
    }
    const at = h.findIndex((e) => e.item === item);
    const entry: HistoryEntry = at >= 0 ? h.splice(at, 1)[0]! : { item, weight: 0, bought: false };
    entry.weight += weight;
    entry.bought ||= bought;
    h.unshift(entry);
    if (h.length > this.historySize) h.length = this.historySize;
    this.generation++;
  }

  pair(a: number, b: number): number {
    return this.pairs.get(a)?.get(b) ?? 0;
  }

  private bump(a: number, b: number): void {
    let m = this.pairs.get(a);
    if (!m) {
      m = new Map();
      this.pairs.set(a, m);
    }
    m.set(b, (m.get(b) ?? 0) + 1);
  }
}
