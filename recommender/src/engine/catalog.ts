/**
 * The live catalogue: items behind dense integer indexes, stored as columns (what scoring and
 * the rules read) plus, when asked for, the full records (what training snapshots into a model).
 * Per-category price-sorted lists serve up-sell band look-ups. Stock and price changes apply
 * immediately. A serving catalogue keeps no records: 100k items then cost a few columns, not a
 * million small objects for the garbage collector to trace.
 */
import type { CatalogItem } from '../schemas.js';

export class Catalog {
  /** Full records, only when the catalogue was built with `keepRecords` (training). */
  readonly items: CatalogItem[] = [];
  /** Hot fields as plain columns (monomorphic reads on the request path). */
  readonly ids: string[] = [];
  readonly prices: number[] = [];
  readonly stocks: number[] = [];
  readonly margins: number[] = [];
  /** Category index of each item. */
  readonly categoryOf: number[] = [];
  /** Brand index of each item (-1 when none). */
  readonly brandOf: number[] = [];
  /** Interned `key=value` attribute tokens, sorted per item, in one pool: item i owns tokenPool[tokenOff[i] .. + tokenLen[i]). */
  readonly tokenPool: number[] = [];
  readonly tokenOff: number[] = [];
  readonly tokenLen: number[] = [];
  private readonly tokenIndex = new Map<string, number>();
  readonly categories: string[] = [];
  private readonly index = new Map<string, number>();
  private readonly categoryIndex = new Map<string, number>();
  private readonly brandIndex = new Map<string, number>();
  private byCategory: number[][] = [];
  /** Bumped when an item is added or its category, price, brand or attributes change (not on stock). */
  generation = 0;
  /** Bumped on every stock change. */
  stockGeneration = 0;
  private byCategoryDirty = true;

  constructor(private readonly opts: { keepRecords?: boolean } = {}) {}

  /** A catalogue that keeps the full records (for training and model snapshots). */
  static from(items: Iterable<CatalogItem>): Catalog {
    const c = new Catalog({ keepRecords: true });
    for (const it of items) c.upsert(it);
    return c;
  }

  get size(): number {
    return this.ids.length;
  }

  idx(id: string): number | undefined {
    return this.index.get(id);
  }

  id(idx: number): string {
    return this.ids[idx]!;
  }

  category(idx: number): string {
    return this.categories[this.categoryOf[idx]!]!;
  }

  categoryIdx(name: string): number | undefined {
    return this.categoryIndex.get(name);
  }

  /** Inserts or replaces an item; returns its index (stable across updates). */
  upsert(item: CatalogItem): number {
    const cat = this.intern(this.categoryIndex, this.categories, item.category);
    const brand = item.brand === undefined ? -1 : this.internBrand(item.brand);
    const tokens = Object.entries(item.attributes ?? {})
      .map(([k, v]) => this.internToken(`${k}=${String(v)}`))
      .sort((a, b) => a - b);
    const existing = this.index.get(item.id);
    this.generation++;
    const idx = existing ?? this.ids.length;
    const moved = existing === undefined || this.categoryOf[idx] !== cat || this.prices[idx] !== item.price;
    if (existing !== undefined && moved) this.removeFromCategory(idx);
    if (this.opts.keepRecords) this.items[idx] = { ...item, attributes: item.attributes ?? {} };
    this.ids[idx] = item.id;
    this.prices[idx] = item.price;
    this.stocks[idx] = item.stock;
    this.margins[idx] = item.margin ?? 0;
    this.categoryOf[idx] = cat;
    this.brandOf[idx] = brand;
    this.tokenOff[idx] = this.tokenPool.length;
    this.tokenLen[idx] = tokens.length;
    for (const t of tokens) this.tokenPool.push(t);
    if (existing === undefined) this.index.set(item.id, idx);
    if (moved) this.insertInCategory(idx);
    return idx;
  }

  /** Keeps the price-sorted category lists current one item at a time once they are built. */
  private insertInCategory(idx: number): void {
    if (this.byCategoryDirty) return;
    const cat = this.categoryOf[idx]!;
    while (this.byCategory.length <= cat) this.byCategory.push([]);
    const list = this.byCategory[cat]!;
    const price = this.prices[idx]!;
    let a = 0;
    let b = list.length;
    while (a < b) {
      const m = (a + b) >>> 1;
      if (this.prices[list[m]!]! <= price) a = m + 1;
      else b = m;
    }
    list.splice(a, 0, idx);
  }

  private removeFromCategory(idx: number): void {
    if (this.byCategoryDirty) return;
    const list = this.byCategory[this.categoryOf[idx]!];
    const at = list ? list.indexOf(idx) : -1;
    if (at >= 0) list!.splice(at, 1);
  }

  /** Builds the price-sorted category lists now (e.g. before a model goes live) rather than on a request. */
  prepare(): void {
    if (this.byCategoryDirty) this.rebuildByCategory();
  }

  setStock(idx: number, stock: number): void {
    if (this.opts.keepRecords) this.items[idx] = { ...this.items[idx]!, stock };
    this.stocks[idx] = stock;
    this.stockGeneration++;
  }

  stock(idx: number): number {
    return this.stocks[idx]!;
  }

  price(idx: number): number {
    return this.prices[idx]!;
  }

  /** Items of a category, sorted by ascending price. */
  itemsOfCategory(cat: number): readonly number[] {
    if (this.byCategoryDirty) this.rebuildByCategory();
    return this.byCategory[cat] ?? [];
  }

  /** Items of `cat` priced in [lo, hi], cheapest first, at most `max`. */
  priceRange(cat: number, lo: number, hi: number, max: number): number[] {
    const list = this.itemsOfCategory(cat);
    let a = 0;
    let b = list.length;
    while (a < b) {
      const m = (a + b) >>> 1;
      if (this.prices[list[m]!]! < lo) a = m + 1;
      else b = m;
    }
    const out: number[] = [];
    for (let i = a; i < list.length && out.length < max; i++) {
      const idx = list[i]!;
      if (this.prices[idx]! > hi) break;
      out.push(idx);
    }
    return out;
  }

  private rebuildByCategory(): void {
    const lists: number[][] = this.categories.map(() => []);
    for (let i = 0; i < this.ids.length; i++) lists[this.categoryOf[i]!]!.push(i);
    for (const l of lists) l.sort((x, y) => this.prices[x]! - this.prices[y]!);
    this.byCategory = lists;
    this.byCategoryDirty = false;
  }

  private internToken(token: string): number {
    let t = this.tokenIndex.get(token);
    if (t === undefined) {
      t = this.tokenIndex.size;
      this.tokenIndex.set(token, t);
    }
    return t;
  }

  private internBrand(name: string): number {
    let b = this.brandIndex.get(name);
    if (b === undefined) {
      b = this.brandIndex.size;
      this.brandIndex.set(name, b);
    }
    return b;
  }

  private intern(map: Map<string, number>, list: string[], name: string): number {
    let i = map.get(name);
    if (i === undefined) {
      i = list.length;
      list.push(name);
      map.set(name, i);
    }
    return i;
  }
}
