/**
 * A deterministic demo shop: items across realistic categories with complements, brands,
 * compatibility systems and price tiers, and shoppers who browse (views), fill carts and
 * order baskets of an anchor item plus compatible complements. Events go straight into
 * typed-array columns, so the same generator makes both the demo and the 5M-event bench shop.
 */
import type { CatalogItem, ShopEvent } from '../schemas.js';
import { mulberry32, randInt, randNormal, ZipfSampler, type Rng } from '../prng.js';
import { Catalog } from '../engine/catalog.js';
import { EVENT_CART, EVENT_PURCHASE, EVENT_VIEW, EventColumnsBuilder, type EventColumns } from '../engine/events.js';

interface CategorySpec {
  name: string;
  sector: string;
  price: number;
  complements: string[];
  /** Relative demand as an order anchor. */
  demand: number;
  /** A main product: with `noise.planted`, each of its items gets two planted accessories. */
  primary?: boolean;
}

const SECTORS: Record<string, { systems: string[]; brands: string[] }> = {
  computing: { systems: ['usb-c', 'thunderbolt', 'usb-a'], brands: ['Lumen', 'Corex', 'Vantage', 'Pixelon', 'Nordbyte'] },
  mobile: { systems: ['ios', 'android'], brands: ['Aplo', 'Samsei', 'Pixelon', 'Nokana'] },
  photo: { systems: ['e-mount', 'rf-mount', 'z-mount', 'x-mount'], brands: ['Sonar', 'Kanon', 'Nikora', 'Fujin'] },
  tv: { systems: ['hdmi-2.1', 'hdmi-2.0'], brands: ['Vizo', 'Lumen', 'Samsei', 'Panavue'] },
  coffee: { systems: ['espresso', 'filter', 'capsule'], brands: ['Brewster', 'Delonga', 'Moka', 'Barista&Co'] },
  running: { systems: ['road', 'trail'], brands: ['Stride', 'Asix', 'Hokka', 'Sauconi'] },
  camping: { systems: ['ultralight', 'family'], brands: ['Ridgeline', 'Alpenwood', 'Nordtrek', 'Campo'] },
};

export const DEMO_CATEGORIES: CategorySpec[] = [
  { name: 'Laptops', primary: true, sector: 'computing', price: 900, demand: 5, complements: ['Laptop Bags', 'Mice', 'USB-C Hubs', 'Keyboards', 'Monitors'] },
  { name: 'Laptop Bags', sector: 'computing', price: 60, demand: 1, complements: ['Laptops', 'Mice'] },
  { name: 'Mice', sector: 'computing', price: 30, demand: 2, complements: ['Mouse Pads', 'Keyboards'] },
  { name: 'Keyboards', sector: 'computing', price: 70, demand: 2, complements: ['Mice', 'Mouse Pads'] },
  { name: 'Monitors', sector: 'computing', price: 250, demand: 3, complements: ['Monitor Arms', 'HDMI Cables', 'Keyboards'] },
  { name: 'Monitor Arms', sector: 'computing', price: 80, demand: 1, complements: ['Monitors'] },
  { name: 'USB-C Hubs', sector: 'computing', price: 45, demand: 1, complements: ['HDMI Cables', 'Laptops'] },
  { name: 'Mouse Pads', sector: 'computing', price: 15, demand: 1, complements: ['Mice'] },
  { name: 'Smartphones', primary: true, sector: 'mobile', price: 600, demand: 5, complements: ['Phone Cases', 'Screen Protectors', 'Chargers', 'Wireless Earbuds'] },
  { name: 'Phone Cases', sector: 'mobile', price: 20, demand: 2, complements: ['Screen Protectors', 'Chargers'] },
  { name: 'Screen Protectors', sector: 'mobile', price: 12, demand: 1, complements: ['Phone Cases'] },
  { name: 'Chargers', sector: 'mobile', price: 25, demand: 2, complements: ['Wireless Earbuds', 'Phone Cases'] },
  { name: 'Wireless Earbuds', sector: 'mobile', price: 120, demand: 3, complements: ['Chargers', 'Phone Cases'] },
  { name: 'Cameras', primary: true, sector: 'photo', price: 800, demand: 4, complements: ['Lenses', 'Memory Cards', 'Camera Bags', 'Tripods'] },
  { name: 'Lenses', sector: 'photo', price: 450, demand: 2, complements: ['Lens Filters', 'Camera Bags'] },
  { name: 'Memory Cards', sector: 'photo', price: 30, demand: 1, complements: ['Card Readers', 'Camera Batteries'] },
  { name: 'Camera Bags', sector: 'photo', price: 70, demand: 1, complements: ['Tripods'] },
  { name: 'Tripods', sector: 'photo', price: 90, demand: 1, complements: ['Camera Bags'] },
  { name: 'Lens Filters', sector: 'photo', price: 35, demand: 1, complements: ['Lenses'] },
  { name: 'Card Readers', sector: 'photo', price: 18, demand: 1, complements: ['Memory Cards'] },
  { name: 'Camera Batteries', sector: 'photo', price: 40, demand: 1, complements: ['Memory Cards'] },
  { name: 'TVs', primary: true, sector: 'tv', price: 700, demand: 4, complements: ['Soundbars', 'TV Mounts', 'HDMI Cables', 'Streaming Sticks'] },
  { name: 'Soundbars', sector: 'tv', price: 300, demand: 2, complements: ['HDMI Cables', 'TV Mounts'] },
  { name: 'TV Mounts', sector: 'tv', price: 50, demand: 1, complements: ['HDMI Cables'] },
  { name: 'HDMI Cables', sector: 'tv', price: 12, demand: 1, complements: ['Streaming Sticks'] },
  { name: 'Streaming Sticks', sector: 'tv', price: 50, demand: 2, complements: ['HDMI Cables'] },
  { name: 'Coffee Machines', primary: true, sector: 'coffee', price: 350, demand: 3, complements: ['Coffee Beans', 'Milk Frothers', 'Descaler', 'Coffee Grinders'] },
  { name: 'Coffee Beans', sector: 'coffee', price: 15, demand: 3, complements: ['Mugs', 'Coffee Grinders'] },
  { name: 'Milk Frothers', sector: 'coffee', price: 60, demand: 1, complements: ['Mugs'] },
  { name: 'Descaler', sector: 'coffee', price: 10, demand: 1, complements: ['Coffee Beans'] },
  { name: 'Coffee Grinders', sector: 'coffee', price: 120, demand: 1, complements: ['Coffee Beans'] },
  { name: 'Mugs', sector: 'coffee', price: 14, demand: 1, complements: ['Coffee Beans'] },
  { name: 'Running Shoes', primary: true, sector: 'running', price: 120, demand: 4, complements: ['Running Socks', 'Sports Watches', 'Water Bottles', 'Running Shorts'] },
  { name: 'Running Socks', sector: 'running', price: 12, demand: 1, complements: ['Running Shorts'] },
  { name: 'Running Shorts', sector: 'running', price: 35, demand: 1, complements: ['Running Socks'] },
  { name: 'Sports Watches', sector: 'running', price: 250, demand: 2, complements: ['Heart Rate Straps'] },
  { name: 'Heart Rate Straps', sector: 'running', price: 60, demand: 1, complements: ['Sports Watches'] },
  { name: 'Water Bottles', sector: 'running', price: 18, demand: 1, complements: ['Backpacks'] },
  { name: 'Tents', primary: true, sector: 'camping', price: 250, demand: 3, complements: ['Sleeping Bags', 'Camping Stoves', 'Headlamps', 'Sleeping Pads'] },
  { name: 'Sleeping Bags', sector: 'camping', price: 120, demand: 2, complements: ['Sleeping Pads', 'Headlamps'] },
  { name: 'Sleeping Pads', sector: 'camping', price: 70, demand: 1, complements: ['Sleeping Bags'] },
  { name: 'Camping Stoves', sector: 'camping', price: 80, demand: 1, complements: ['Gas Canisters'] },
  { name: 'Gas Canisters', sector: 'camping', price: 8, demand: 1, complements: ['Camping Stoves'] },
  { name: 'Headlamps', sector: 'camping', price: 35, demand: 1, complements: ['Batteries'] },
  { name: 'Batteries', sector: 'camping', price: 10, demand: 1, complements: ['Headlamps'] },
  { name: 'Backpacks', sector: 'camping', price: 90, demand: 2, complements: ['Water Bottles', 'Headlamps'] },
];

const TIERS = [
  { name: 'budget', mult: 0.6 },
  { name: 'mid', mult: 1 },
  { name: 'premium', mult: 1.7 },
] as const;
const COLORS = ['black', 'white', 'grey', 'blue', 'red', 'green'];

/** Cheap things picked up at the till, whatever else is in the basket. */
const IMPULSE = { category: 'Impulse Buys', titles: ['Chocolate Bar', 'AA Batteries 4-pack', 'Chewing Gum', 'Lip Balm', 'Gift Wrap', 'Energy Bar', 'Greeting Card', 'Key Ring'], price: 3 };
/** Add-ons that ride along in a large share of all orders. */
const GENERIC = { category: 'Add-ons', titles: ['Shipping Insurance', 'Paper Bag', 'Tote Bag', 'Express Delivery', 'Gift Box', 'Extended Warranty'], price: 6 };

/**
 * The phenomena of real baskets, each a knob; all off by default (the clean demo shop). With every knob
 * off the generator draws nothing extra, so the demo shop stays the same shop.
 */
export interface ShopNoise {
  /** Exponent s of the Zipf-like popularity of items within a category (weight 1/rank^s). Default 0.9. */
  popularity?: number;
  /** Impulse items (category `Impulse Buys`): `items` of them; an order gains one with probability `rate`. */
  impulse?: { items: number; rate: number };
  /** Generic add-ons (category `Add-ons`, a steeper popularity): `items` of them; an order gains one with probability `rate`. */
  generic?: { items: number; rate: number };
  /** Probability that an order also holds a second item of its anchor's category (a co-bought substitute). */
  substituteRate?: number;
  /**
   * Planted complements: every item of a primary category gets two accessories, in two of its category's
   * complement categories (in stock, drawn uniformly, so many are tail items); an order anchored on it
   * holds each with probability `rate`. The ground truth of recall@5.
   */
  planted?: { rate: number };
  /** Amplitude a ∈ [0, 1) of a yearly demand cycle per sector (sector k peaks k/7 of a year after the others). */
  seasonality?: number;
  /** Fraction of each category's popularity ranking that rotates over the window (0: fixed ranks). */
  drift?: number;
}

export interface ShopSpec {
  seed: number;
  /** Items in all, noise items included. */
  items: number;
  users: number;
  orders: number;
  /** Days covered by the events, ending at `end`. */
  days: number;
  end: Date;
  /** Stop once this many events exist (the bench shop is sized by events). */
  maxEvents?: number;
  noise?: ShopNoise;
}

export const DEMO_SHOP: ShopSpec = { seed: 42, items: 3000, users: 6000, orders: 30_000, days: 180, end: new Date('2026-11-01T00:00:00Z') };

/**
 * A shop with the noise real shops have (issue #11): 2,500 regular items, 40 impulse items in 30% of orders,
 * 25 add-ons in 35%, substitutes in 10%, two planted accessories per primary item (each in 40% of its
 * orders), a steeper popularity, seasonality and drift; 2,565 items, 23,000 orders.
 */
export const NOISY_SHOP: ShopSpec = {
  seed: 1,
  items: 2565,
  users: 5000,
  orders: 23_000,
  days: 180,
  end: new Date('2026-11-01T00:00:00Z'),
  noise: {
    popularity: 1.1,
    impulse: { items: 40, rate: 0.3 },
    generic: { items: 25, rate: 0.35 },
    substituteRate: 0.1,
    planted: { rate: 0.4 },
    seasonality: 0.5,
    drift: 0.3,
  },
};

/** Shop sized for the training benchmark: 100k items and about 5M events. */
export const BENCH_SHOP: ShopSpec = {
  seed: 7,
  items: 100_000,
  users: 300_000,
  orders: 2_000_000,
  days: 365,
  end: new Date('2026-11-01T00:00:00Z'),
  maxEvents: 5_000_000,
};

/** What the generator planted, for judging recommendations. */
export interface GroundTruth {
  /** Primary item → its two planted accessories (item indexes). */
  planted: Map<number, readonly [number, number]>;
  /** Impulse and generic items: noise in any list of complements. */
  impulse: number[];
  generic: number[];
}

interface Generated {
  catalog: Catalog;
  items: CatalogItem[];
  /** Items per category, each list ordered by popularity rank. */
  byCategory: number[][];
  tierOf: Uint8Array;
  systemOf: Int32Array;
  truth: GroundTruth;
}

/** The noise stream: its own PRNG, so knobs that are off draw nothing and leave the base shop as it was. */
const noiseRng = (seed: number, stream: number): Rng => mulberry32((seed * 2_654_435_761 + stream) >>> 0);

export function generateCatalog(spec: ShopSpec): Generated {
  const rng = mulberry32(spec.seed);
  const noise = spec.noise ?? {};
  const extra = [noise.impulse?.items ?? 0, noise.generic?.items ?? 0];
  const regular = spec.items - extra[0]! - extra[1]!;
  if (regular < DEMO_CATEGORIES.length * 4) throw new Error(`a shop of ${spec.items} items leaves too few regular items (${regular})`);
  const totalDemand = DEMO_CATEGORIES.reduce((s, c) => s + Math.sqrt(c.demand), 0);
  const items: CatalogItem[] = [];
  const byCategory: number[][] = DEMO_CATEGORIES.map(() => []);
  const tierOf = new Uint8Array(spec.items);
  const systemOf = new Int32Array(spec.items);
  const width = String(spec.items).length;
  const skuId = (k: number): string => `sku-${String(k + 1).padStart(width, '0')}`;
  let k = 0;
  DEMO_CATEGORIES.forEach((cat, ci) => {
    const n = ci === DEMO_CATEGORIES.length - 1 ? regular - k : Math.max(4, Math.round((regular * Math.sqrt(cat.demand)) / totalDemand));
    const sector = SECTORS[cat.sector]!;
    for (let j = 0; j < n && k < regular; j++, k++) {
      const tier = randInt(rng, 3);
      const system = randInt(rng, sector.systems.length);
      const brand = sector.brands[randInt(rng, sector.brands.length)]!;
      const price = Math.round(cat.price * TIERS[tier]!.mult * Math.exp(0.25 * randNormal(rng)) * 100) / 100;
      const stock = rng() < 0.03 ? 0 : 1 + randInt(rng, 200);
      items.push({
        id: skuId(k),
        title: `${brand} ${cat.name.replace(/s$/, '')} ${TIERS[tier]!.name} ${String.fromCharCode(65 + (j % 26))}${j}`,
        category: cat.name,
        price: Math.max(price, 1),
        currency: 'EUR',
        margin: Math.round((0.1 + 0.35 * rng()) * 100) / 100,
        stock,
        brand,
        attributes: { tier: TIERS[tier]!.name, system: sector.systems[system]!, color: COLORS[randInt(rng, COLORS.length)]! },
      });
      byCategory[ci]!.push(k);
      tierOf[k] = tier;
      systemOf[k] = system;
    }
  });
  // Popularity rank within each category: a seeded shuffle.
  for (const list of byCategory) {
    for (let i = list.length - 1; i > 0; i--) {
      const j = randInt(rng, i + 1);
      [list[i], list[j]] = [list[j]!, list[i]!];
    }
  }
  const nrng = noiseRng(spec.seed, 1);
  const truth: GroundTruth = { planted: new Map(), impulse: [], generic: [] };
  [IMPULSE, GENERIC].forEach((kind, x) => {
    for (let j = 0; j < extra[x]!; j++, k++) {
      const title = kind.titles[j % kind.titles.length]!;
      items.push({
        id: skuId(k),
        title: j < kind.titles.length ? title : `${title} ${Math.floor(j / kind.titles.length) + 1}`,
        category: kind.category,
        price: Math.round(kind.price * (0.5 + nrng()) * 100) / 100,
        currency: 'EUR',
        margin: 0.3,
        stock: 1000,
        attributes: {},
      });
      (x === 0 ? truth.impulse : truth.generic).push(k);
    }
  });
  if (noise.planted) {
    const catIndex = new Map(DEMO_CATEGORIES.map((c, i) => [c.name, i]));
    const inStock = byCategory.map((list) => list.filter((i) => items[i]!.stock > 0).sort((a, b) => a - b));
    DEMO_CATEGORIES.forEach((cat, ci) => {
      if (!cat.primary) return;
      for (const p of [...byCategory[ci]!].sort((a, b) => a - b)) {
        // Two distinct complement categories, then one in-stock item of each, uniformly.
        const c1 = randInt(nrng, cat.complements.length);
        const c2 = (c1 + 1 + randInt(nrng, cat.complements.length - 1)) % cat.complements.length;
        const acc = [c1, c2].map((c) => {
          const pool = inStock[catIndex.get(cat.complements[c]!)!]!;
          return pool[randInt(nrng, pool.length)]!;
        });
        truth.planted.set(p, [acc[0]!, acc[1]!]);
      }
    });
  }
  return { catalog: Catalog.from(items), items, byCategory, tierOf, systemOf, truth };
}

/**
 * Generates the shop's events into columns. Each shopper has one or two favourite sectors
 * and a price tier; an order is an anchor item plus 0–3 complements, preferably of the same
 * compatibility system and tier; views of substitutes precede it; some sessions are abandoned.
 * `spec.noise` adds planted accessories, substitutes, impulse and generic items to the baskets,
 * a seasonal clock to each sector and a drift to item popularity.
 */
export function generateEvents(spec: ShopSpec, g: Generated, onProgress?: (done: number, total: number) => void): EventColumns {
  const rng = mulberry32(spec.seed * 7919 + 1);
  const noise = spec.noise ?? {};
  const nrng = noiseRng(spec.seed, 2);
  const cats = DEMO_CATEGORIES;
  const catIndex = new Map(cats.map((c, i) => [c.name, i]));
  const sectors = Object.keys(SECTORS);
  const sectorCats = sectors.map((s) => cats.map((c, i) => ({ c, i })).filter((x) => x.c.sector === s));
  const exponent = noise.popularity ?? 0.9;
  const zipf = new Map<number, ZipfSampler>();
  const sampler = (n: number): ZipfSampler => {
    let z = zipf.get(n);
    if (!z) {
      z = new ZipfSampler(n, exponent);
      zipf.set(n, z);
    }
    return z;
  };
  // Items per (category, system, tier), in popularity order.
  const bucket = new Map<string, number[]>();
  g.byCategory.forEach((list, ci) => {
    for (const it of list) {
      for (const key of [`${ci}|${g.systemOf[it]}|${g.tierOf[it]}`, `${ci}|${g.systemOf[it]}|*`, `${ci}|*|${g.tierOf[it]}`]) {
        let b = bucket.get(key);
        if (!b) bucket.set(key, (b = []));
        b.push(it);
      }
    }
  });
  /** Where the order falls in the window (0 → 1); with drift, the popularity ranks rotate by drift × phase. */
  let phase = 0;
  const drift = noise.drift ?? 0;
  const pick = (list: readonly number[]): number => {
    const r = sampler(list.length).sample(rng);
    return list[drift > 0 ? (r + Math.floor(drift * phase * list.length)) % list.length : r]!;
  };
  const pickIn = (ci: number, system: number, tier: number, rng2: Rng): number => {
    const r = rng2();
    const exact = bucket.get(`${ci}|${system}|${tier}`);
    if (r < 0.6 && exact?.length) return pick(exact);
    const sys = bucket.get(`${ci}|${system}|*`);
    if (r < 0.85 && sys?.length) return pick(sys);
    return pick(g.byCategory[ci]!);
  };
  const impulse = noise.impulse && g.truth.impulse.length ? { ...noise.impulse, z: new ZipfSampler(g.truth.impulse.length, 0.8) } : undefined;
  const generic = noise.generic && g.truth.generic.length ? { ...noise.generic, z: new ZipfSampler(g.truth.generic.length, 1.5) } : undefined;
  const season = noise.seasonality ?? 0;
  const YEAR_MS = 365 * 86_400_000;
  const demandAt = (sec: number, t: number): number => 1 + season * Math.sin((2 * Math.PI * t) / YEAR_MS + (2 * Math.PI * sec) / sectors.length);

  const maxEvents = spec.maxEvents ?? Infinity;
  const b = new EventColumnsBuilder(Number.isFinite(maxEvents) ? maxEvents + 64 : Math.round(spec.orders * 9));
  for (let u = 0; u < spec.users; u++) b.userIndex(`u-${u + 1}`);
  const userSectors = Array.from({ length: spec.users }, () => {
    const first = randInt(rng, sectors.length);
    return rng() < 0.5 ? [first] : [first, randInt(rng, sectors.length)];
  });
  const userTier = Uint8Array.from({ length: spec.users }, () => randInt(rng, 3));
  const userActivity = new ZipfSampler(spec.users, 0.6);
  const endMs = spec.end.getTime();
  const spanMs = spec.days * 86_400_000;
  const lastT = new Float64Array(spec.users).fill(-Infinity);
  let order = 0;
  while (order < spec.orders && b.size < maxEvents) {
    const u = userActivity.sample(rng);
    const sec = userSectors[u]![randInt(rng, userSectors[u]!.length)]!;
    const sc = sectorCats[sec]!;
    const totalDemand = sc.reduce((s, x) => s + x.c.demand, 0);
    let r = rng() * totalDemand;
    let ci = sc[0]!.i;
    for (const x of sc) {
      r -= x.c.demand;
      if (r <= 0) {
        ci = x.i;
        break;
      }
    }
    const tier = rng() < 0.75 ? userTier[u]! : randInt(rng, 3);
    const system = randInt(rng, SECTORS[cats[ci]!.sector]!.systems.length);
    let at = endMs - spanMs + rng() * spanMs;
    // Seasonality: the sector's orders fall more often where its demand peaks (rejection sampling).
    if (season > 0) {
      for (let k = 0; k < 32 && nrng() * (1 + season) > demandAt(sec, at); k++) at = endMs - spanMs + nrng() * spanMs;
    }
    // Time moves forward per shopper so "the last order" is well defined.
    let t = Math.max(at, lastT[u]! + 3_600_000);
    if (t > endMs) t = lastT[u]! + 60_000;
    phase = Math.min(1, Math.max(0, (t - (endMs - spanMs)) / spanMs));
    const anchor = pickIn(ci, system, tier, rng);
    // Browse substitutes of the anchor.
    const nViews = 1 + randInt(rng, 4);
    for (let v = 0; v < nViews; v++) {
      b.push(EVENT_VIEW, u, pickIn(ci, system, randInt(rng, 3), rng), -1, t);
      t += 20_000 + rng() * 60_000;
    }
    b.push(EVENT_VIEW, u, anchor, -1, t);
    t += 30_000;
    const abandoned = rng() < 0.25;
    const basket = [anchor];
    const nComp = abandoned ? randInt(rng, 2) : [0, 1, 1, 2, 2, 3][randInt(rng, 6)]!;
    const comps = cats[ci]!.complements;
    for (let c = 0; c < nComp; c++) {
      const cc = catIndex.get(comps[Math.min(randInt(rng, comps.length), randInt(rng, comps.length))]!)!;
      const item = pickIn(cc, Math.min(system, SECTORS[cats[cc]!.sector]!.systems.length - 1), tier, rng);
      if (!basket.includes(item)) basket.push(item);
    }
    const accessories = g.truth.planted.get(anchor);
    if (accessories && noise.planted) for (const acc of accessories) if (nrng() < noise.planted.rate && !basket.includes(acc)) basket.push(acc);
    if (noise.substituteRate && nrng() < noise.substituteRate) {
      const sub = pickIn(ci, system, randInt(nrng, 3), nrng);
      if (!basket.includes(sub)) basket.push(sub);
    }
    for (const item of basket) {
      if (item !== anchor && rng() < 0.5) {
        b.push(EVENT_VIEW, u, item, -1, t);
        t += 15_000;
      }
      b.push(EVENT_CART, u, item, -1, t);
      t += 10_000;
    }
    if (!abandoned) {
      // At the till: impulse items and add-ons join whatever the basket holds.
      for (const kind of [impulse, generic]) {
        if (!kind || nrng() >= kind.rate) continue;
        const item = (kind === impulse ? g.truth.impulse : g.truth.generic)[kind.z.sample(nrng)]!;
        basket.push(item);
        b.push(EVENT_CART, u, item, -1, t);
        t += 10_000;
      }
      for (const item of basket) b.push(EVENT_PURCHASE, u, item, order, t);
      order++;
      if (onProgress && (order & 0x3fff) === 0) onProgress(Math.round(1000 * Math.max(order / spec.orders, b.size / maxEvents)), 1000);
    }
    lastT[u] = t;
  }
  onProgress?.(1000, 1000);
  const built = b.build();
  built.orderCount = order;
  return built;
}

/** The events as records (for JSON Lines files). */
export function* eventRecords(ev: EventColumns, catalog: Catalog): Generator<ShopEvent> {
  const types = ['view', 'add_to_cart', 'purchase'] as const;
  for (let i = 0; i < ev.length; i++) {
    const rec: ShopEvent = {
      type: types[ev.type[i]!]!,
      userId: ev.userIds[ev.user[i]!]!,
      itemId: catalog.id(ev.item[i]!),
      timestamp: new Date(ev.ts[i]!).toISOString(),
    };
    if (ev.order[i]! >= 0) {
      rec.orderId = `o-${ev.order[i]! + 1}`;
      rec.quantity = 1;
      rec.price = catalog.price(ev.item[i]!);
    }
    yield rec;
  }
}

/** The ground truth as written beside the data (`ground-truth.json`): item ids, not indexes. */
export function groundTruthRecord(spec: ShopSpec, g: Pick<Generated, 'truth' | 'catalog'>): Record<string, unknown> {
  const id = (i: number): string => g.catalog.id(i);
  return {
    spec: { ...spec, end: spec.end.toISOString() },
    impulse: g.truth.impulse.map(id),
    generic: g.truth.generic.map(id),
    planted: Object.fromEntries([...g.truth.planted].map(([p, acc]) => [id(p), acc.map(id)])),
  };
}

export function generateShop(spec: ShopSpec, onProgress?: (done: number, total: number) => void): Generated & { events: EventColumns } {
  const g = generateCatalog(spec);
  return { ...g, events: generateEvents(spec, g, onProgress) };
}
