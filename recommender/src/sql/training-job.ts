/**
 * The heavy part of training (baskets, decayed co-occurrence, the scores, top-K neighbours per item, shopper
 * histories) as one SQL job, written once for both engines: DuckDB (embedded, the default) and Spark SQL
 * (`spark-submit`). It is the maths of docs/recommender.md "Scoring maths", the same as engine/train.ts and
 * complements.ts, in the SQL subset both dialects share (window functions, CASE, LN, EXP, GREATEST), with
 * every division that could meet a zero guarded (Spark's ANSI mode raises on it) and numbers written as
 * DOUBLE literals (Spark reads `0.1` as a DECIMAL). Pure: config in, statements out.
 *
 * Input tables (staged by ingest.ts, privacy already applied):
 *   items(idx INT, cat INT)                                     the catalogue in model order
 *   events(seq BIGINT, type INT, u INT, item INT, o INT, ts BIGINT)
 *     seq: input order; type 0 view, 1 add_to_cart, 2 purchase; u: shopper row; o: order (-1 unless a
 *     purchase); ts: epoch milliseconds.
 * Output tables (OUTPUTS), written as Parquet and packed by pack.ts into the usual artifact.
 */
import type { EngineConfig } from '../config.js';
import { complementParams } from '../engine/complements.js';

/** One statement: a SELECT whose result becomes the table `name` (a view when `view`: cheap, used once). */
export interface JobStep {
  readonly name: string;
  readonly sql: string;
  readonly view?: boolean;
}

export interface TrainingJob {
  readonly steps: readonly JobStep[];
  /** The tables the packer reads. */
  readonly outputs: readonly string[];
}

export const INPUT_TABLES = ['items', 'events'] as const;
export const OUTPUTS = ['item_stats', 'cross_nbr', 'subst_nbr', 'knn_nbr', 'hist', 'popular', 'totals'] as const;
export type OutputTable = (typeof OUTPUTS)[number];

/** Most popular items kept in the model (engine/train.ts POPULAR_SIZE). */
export const POPULAR_SIZE = 1000;
const DAY_MS = 86_400_000;

/** A DOUBLE literal in both dialects (exponent notation; the shortest form that reads back as the same double). */
export function lit(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`training job: ${x} is not a finite number`);
  return x.toExponential();
}

/** An integer literal. */
function int(x: number): string {
  if (!Number.isSafeInteger(x)) throw new Error(`training job: ${x} is not an integer`);
  return String(x);
}

/** `num / den`, or NULL when `den` is 0 (NaN in the TypeScript trainer, which no comparison keeps). */
const div = (num: string, den: string): string => `CASE WHEN ${den} <> 0 THEN (${num}) / (${den}) END`;
/** D(x‖p) = x·ln(x/p) − x + p for x > 0 (complements.ts poissonKl; callers only use it with x > p > 0). */
const kl = (x: string, p: string): string => `((${x}) * LN((${x}) / (${p})) - (${x}) + (${p}))`;
/** Rows of `from` ranked within `partition` by `order`, the first `k` kept (top-K with a total order). */
const topK = (select: string, partition: string, order: string, k: number, from: string): string =>
  `SELECT * FROM (SELECT ${select}, ROW_NUMBER() OVER (PARTITION BY ${partition} ORDER BY ${order}) AS rnk FROM ${from}) t WHERE rnk <= ${int(k)}`;

/**
 * Sessions of one event type per shopper, split at gaps longer than the session gap, with each event's
 * position in its session (engine/train.ts flush()).
 */
function sessionSteps(prefix: string, type: number, gapMs: string): JobStep[] {
  return [
    {
      name: `${prefix}_gap`,
      view: true,
      sql: `SELECT u, ts, seq, item, ts - LAG(ts) OVER (PARTITION BY u ORDER BY ts, seq) AS gap FROM events WHERE type = ${type}`,
    },
    {
      name: `${prefix}_ev`,
      sql: `SELECT u, ts, seq, item,
  CAST(SUM(CASE WHEN gap IS NULL OR gap > ${gapMs} THEN 1 ELSE 0 END) OVER (PARTITION BY u ORDER BY ts, seq ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS BIGINT) AS s
FROM ${prefix}_gap`,
    },
  ];
}

/**
 * The items of each session as a basket: the first `maxBasketSize` distinct items of its first `rawCap`
 * events (engine/train.ts: the session buffer, then RowsBuilder's de-duplication and cap), weighed by the
 * decay at the session's last event.
 */
function sessionBasketSteps(prefix: string, rawCap: number, maxBasket: number, weight: string, where = ''): JobStep[] {
  return [
    {
      name: `${prefix}_first`,
      view: true,
      sql: `SELECT u, s, item, MIN(pos) AS first FROM (
  SELECT u, s, item, ROW_NUMBER() OVER (PARTITION BY u, s ORDER BY ts, seq) AS pos FROM ${prefix}_ev
) t WHERE pos <= ${int(rawCap)} GROUP BY u, s, item`,
    },
    {
      name: `${prefix}_basket`,
      sql: `SELECT CAST(m.u AS BIGINT) AS b1, m.s AS b2, ${weight} AS w FROM (SELECT u, s, MAX(ts) AS ts FROM ${prefix}_ev GROUP BY u, s) m CROSS JOIN norm k${where}`,
    },
    {
      name: `${prefix}_items`,
      sql: `SELECT b.b1, b.b2, f.item, b.w FROM (${topK('u, s, item', 'u, s', 'first, item', maxBasket, `${prefix}_first`)}) f
JOIN ${prefix}_basket b ON b.b1 = f.u AND b.b2 = f.s`,
    },
  ];
}

/** Pairs a < b of items sharing a basket, with Σ `value` over those baskets; then both directions. */
function pairSteps(prefix: string, from: string, value: string): JobStep[] {
  return [
    {
      name: `${prefix}_half`,
      sql: `SELECT x.item AS a, y.item AS b, SUM(${value}) AS c FROM ${from} x JOIN ${from} y ON x.b1 = y.b1 AND x.b2 = y.b2 AND x.item < y.item GROUP BY x.item, y.item`,
    },
    { name: `${prefix}_pairs`, view: true, sql: `SELECT a, b, c FROM ${prefix}_half UNION ALL SELECT b AS a, a AS b, c FROM ${prefix}_half` },
  ];
}

/** The training job for `cfg`. */
export function trainingJob(cfg: EngineConfig): TrainingJob {
  const k = complementParams(cfg);
  const beta = lit(k.beta);
  const beta2 = lit(k.beta2);
  const K = cfg.topK;
  const gapMs = lit(cfg.sessionGapMinutes * 60_000);
  const rawCap = Math.max(16, cfg.maxBasketSize * 8);
  const decayRate = lit(Math.LN2 / (cfg.halfLifeDays * DAY_MS));
  /** decay(t) = e^(−λ(t_max − t)) / m: weights average 1 over all events (basket units). */
  const decay = (ts: string): string => `EXP(-${decayRate} * CAST(k.tmax - ${ts} AS DOUBLE)) / k.mean_decay`;
  const w = cfg.eventWeights;
  const eventWeight = `CASE e.type WHEN 0 THEN ${lit(w.view)} WHEN 1 THEN ${lit(w.add_to_cart)} ELSE ${lit(w.purchase)} END`;
  const carts = cfg.cartSessionWeight > 0;

  const steps: JobStep[] = [
    {
      name: 'norm',
      sql: `SELECT b.tmin, b.tmax, b.events, AVG(EXP(-${decayRate} * CAST(b.tmax - e.ts AS DOUBLE))) AS mean_decay
FROM events e CROSS JOIN (SELECT MIN(ts) AS tmin, MAX(ts) AS tmax, COUNT(*) AS events FROM events) b GROUP BY b.tmin, b.tmax, b.events`,
    },
    // Orders: the purchases of one order, its first distinct items in input order, weighed at its last purchase.
    {
      name: 'order_basket',
      sql: `SELECT CAST(o AS BIGINT) AS b1, CAST(-1 AS BIGINT) AS b2, ${decay('m.ts')} AS w FROM (SELECT o, MAX(ts) AS ts FROM events WHERE type = 2 GROUP BY o) m CROSS JOIN norm k`,
    },
    {
      name: 'order_items',
      sql: `SELECT b.b1, b.b2, f.item, b.w FROM (${topK('o, item', 'o', 'first, item', cfg.maxBasketSize, '(SELECT o, item, MIN(seq) AS first FROM events WHERE type = 2 GROUP BY o, item) g')}) f
JOIN order_basket b ON b.b1 = f.o`,
    },
    ...sessionSteps('cart', 1, gapMs),
    // A cart session is that order's cart when the shopper buys within the gap after one of its events.
    {
      name: 'cart_ordered',
      sql: `SELECT DISTINCT u, last_s AS s FROM (
  SELECT u, ts, is_cart,
    MAX(s) OVER (PARTITION BY u ORDER BY ts, seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS last_s,
    MAX(CASE WHEN is_cart = 1 THEN ts END) OVER (PARTITION BY u ORDER BY ts, seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS last_cart
  FROM (SELECT u, ts, seq, s, 1 AS is_cart FROM cart_ev UNION ALL SELECT u, ts, seq, CAST(NULL AS BIGINT) AS s, 0 AS is_cart FROM events WHERE type = 2) x
) t WHERE is_cart = 0 AND last_s IS NOT NULL AND ts - last_cart <= ${gapMs}`,
    },
    ...(carts
      ? sessionBasketSteps(
          'cart',
          rawCap,
          cfg.maxBasketSize,
          `${decay('m.ts')} * ${lit(cfg.cartSessionWeight)}`,
          ' WHERE NOT EXISTS (SELECT 1 FROM cart_ordered c WHERE c.u = m.u AND c.s = m.s)',
        )
      : []),
    ...sessionSteps('view', 0, gapMs),
    ...sessionBasketSteps('view', rawCap, cfg.maxBasketSize, decay('m.ts')),
    {
      name: 'buy_items',
      view: true,
      sql: carts ? 'SELECT b1, b2, item, w FROM order_items UNION ALL SELECT b1, b2, item, w FROM cart_items' : 'SELECT b1, b2, item, w FROM order_items',
    },
    // Orders are keyed (o, -1) and carts (u, s ≥ 1), so the two never share a key.
    ...pairSteps('buy', 'buy_items', 'x.w'),
    ...pairSteps('view', 'view_items', 'x.w'),
    { name: 'buy_count', sql: 'SELECT item, SUM(w) AS c FROM buy_items GROUP BY item' },
    { name: 'view_count', sql: 'SELECT item, SUM(w) AS v FROM view_items GROUP BY item' },
    {
      name: 'basket_totals',
      sql: `SELECT (SELECT COALESCE(SUM(w), 0) FROM order_basket) + ${carts ? '(SELECT COALESCE(SUM(w), 0) FROM cart_basket)' : '0'} AS n,
  (SELECT COALESCE(SUM(w), 0) FROM view_basket) AS v`,
    },
    // Pass 1: each item's own co-bought list (other categories, more often together than apart would predict).
    {
      name: 'own_nbr',
      sql: topK(
        'a, b, c, bcat, excess',
        'a',
        'excess DESC, b',
        K,
        `(SELECT p.a, p.b, p.c, ib.cat AS bcat, p.c - ca.c * cb.c / t.n AS excess FROM buy_pairs p
  JOIN buy_count ca ON ca.item = p.a JOIN buy_count cb ON cb.item = p.b
  JOIN items ia ON ia.idx = p.a JOIN items ib ON ib.idx = p.b CROSS JOIN basket_totals t
  WHERE ia.cat <> ib.cat) x WHERE excess > 0`,
      ),
    },
    // Substitutes: co-viewed more than chance, and not bought together more than viewed together.
    {
      name: 'subst_nbr',
      sql: topK(
        'a, b, s AS score',
        'a',
        's DESC, b',
        K,
        `(SELECT p.a, p.b, LN((p.c + ${beta}) / (va.v * vb.v / t.v + ${beta})) AS s,
    COALESCE(bp.c, 0) AS cab, COALESCE(ca.c, 0) AS ca, COALESCE(cb.c, 0) AS cb, t.n
  FROM view_pairs p JOIN view_count va ON va.item = p.a JOIN view_count vb ON vb.item = p.b CROSS JOIN basket_totals t
  LEFT JOIN buy_pairs bp ON bp.a = p.a AND bp.b = p.b LEFT JOIN buy_count ca ON ca.item = p.a LEFT JOIN buy_count cb ON cb.item = p.b) x
WHERE s > 0 AND NOT (CASE WHEN n > 0 AND cab + ${beta} > 0 THEN LN((cab + ${beta}) / (ca * cb / n + ${beta})) > s ELSE FALSE END)`,
      ),
    },
    // Pass 2: complements, each item's own list blended with its first substitutes' (complements.ts).
    { name: 'nb', sql: `SELECT n.a, n.b AS s, i.cat AS acat FROM subst_nbr n JOIN items i ON i.idx = n.a WHERE n.rnk <= ${int(cfg.neighbours)}` },
    { name: 'nb_baskets', sql: 'SELECT nb.a, SUM(c.c) AS t FROM nb JOIN buy_count c ON c.item = nb.s GROUP BY nb.a' },
    {
      name: 'nb_co',
      sql: 'SELECT nb.a, o.b, SUM(o.c) AS cn FROM nb JOIN own_nbr o ON o.a = nb.s WHERE o.b <> nb.a AND o.bcat <> nb.acat GROUP BY nb.a, o.b',
    },
    {
      name: 'cross_scored',
      view: true,
      sql: `SELECT a, b, c, q, own, blend, base, ca,
  CASE WHEN own > base THEN ${kl('own', 'base')} ELSE 0 END + ${lit(k.lambda)} * (blend - base) AS score
FROM (
  SELECT a, b, c, q, base, ca, ${div(`c + ${beta} * base`, `ca + ${beta}`)} AS own, ${div(`c + ${beta2} * q`, `ca + ${beta2}`)} AS blend
  FROM (
    SELECT x.a, x.b, x.c, x.base, x.ca, CASE WHEN x.t > 0 THEN (x.cn + ${beta2} * x.base) / (x.t + ${beta2}) ELSE x.base END AS q
    FROM (
      SELECT COALESCE(o.a, n.a) AS a, COALESCE(o.b, n.b) AS b, COALESCE(o.c, 0) AS c, COALESCE(n.cn, 0) AS cn,
        COALESCE(ca.c, 0) AS ca, cb.c / t.n AS base, COALESCE(nt.t, 0) AS t
      FROM (SELECT a, b, c FROM own_nbr) o FULL OUTER JOIN nb_co n ON o.a = n.a AND o.b = n.b
      JOIN buy_count cb ON cb.item = COALESCE(o.b, n.b) LEFT JOIN buy_count ca ON ca.item = COALESCE(o.a, n.a)
      LEFT JOIN nb_baskets nt ON nt.a = COALESCE(o.a, n.a) CROSS JOIN basket_totals t
    ) x
  ) y
) z`,
    },
    {
      name: 'cross_nbr',
      sql: topK(
        'a, b, c AS co, q AS prior',
        'a',
        'score DESC, b',
        K,
        `cross_scored WHERE score > 0${
          k.z > 0
            ? ` AND GREATEST(2 * (ca + ${beta}) * CASE WHEN own > base THEN ${kl('own', 'base')} ELSE 0 END, CASE WHEN blend > base THEN 2 * (ca + ${beta2}) * ${kl('blend', 'base')} ELSE 0 END) >= ${lit(k.z * k.z)}`
            : ''
        }`,
      ),
    },
    // Shoppers: their items, most recent first, with the raw and the decayed sum of their event weights.
    {
      name: 'user_items',
      sql: `SELECT u, item, x, h, bought, ROW_NUMBER() OVER (PARTITION BY u ORDER BY r0) AS r FROM (
  SELECT e.u, e.item, MIN(e.pos) AS r0, SUM(${eventWeight}) AS x, SUM(${eventWeight} * ${decay('e.ts')}) AS h,
    MAX(CASE WHEN e.type = 2 THEN 1 ELSE 0 END) AS bought
  FROM (SELECT u, item, type, ts, ROW_NUMBER() OVER (PARTITION BY u ORDER BY ts DESC, seq DESC) AS pos FROM events) e CROSS JOIN norm k
  GROUP BY e.u, e.item
) t`,
    },
    { name: 'hist', sql: `SELECT u, r AS rnk, item, h AS weight, bought FROM user_items WHERE r <= ${int(cfg.historySize)}` },
    // Item-kNN: BM25-weighted shopper vectors (their most recent distinct items), similarity the dot product.
    { name: 'vec_raw', view: true, sql: `SELECT u, item, x FROM user_items WHERE r <= ${int(cfg.knnHistory)}` },
    {
      name: 'vec',
      sql: `SELECT CAST(v.u AS BIGINT) AS b1, CAST(0 AS BIGINT) AS b2, v.item,
  v.x * ${lit(cfg.bm25.k1 + 1)} / (${lit(cfg.bm25.k1)} * (${lit(1 - cfg.bm25.b)} + ${lit(cfg.bm25.b)} * s.x / m.avg) + v.x)
    * GREATEST(0, LN(n.n) - LN(1 + l.len)) AS x
FROM vec_raw v JOIN (SELECT item, SUM(x) AS x FROM vec_raw GROUP BY item) s ON s.item = v.item
JOIN (SELECT u, COUNT(*) AS len FROM vec_raw GROUP BY u) l ON l.u = v.u
CROSS JOIN (SELECT CASE WHEN COUNT(*) > 0 THEN SUM(x) / COUNT(*) ELSE 1 END AS avg FROM (SELECT SUM(x) AS x FROM vec_raw GROUP BY item) i WHERE x > 0) m
CROSS JOIN (SELECT CAST(COUNT(*) AS DOUBLE) AS n FROM items) n`,
    },
    ...pairSteps('knn', 'vec', 'x.x * y.x'),
    // Less what chance would give: φ·s_a·s_b·Σ_u L_u² / S² (engine/train.ts chanceOf).
    { name: 'vec_mass', sql: 'SELECT item, SUM(x) AS m FROM vec GROUP BY item' },
    {
      name: 'vec_chance',
      sql: `SELECT CASE WHEN SUM(l) > 0 THEN ${lit(cfg.knnChance)} * SUM(l * l) / (SUM(l) * SUM(l)) ELSE ${lit(0)} END AS k FROM (SELECT b1, SUM(x) AS l FROM vec GROUP BY b1) t`,
    },
    {
      name: 'knn_nbr',
      sql: topK(
        'a, b, sim',
        'a',
        'sim DESC, b',
        K,
        '(SELECT p.a, p.b, p.c - k.k * ma.m * mb.m AS sim FROM knn_pairs p JOIN vec_mass ma ON ma.item = p.a JOIN vec_mass mb ON mb.item = p.b CROSS JOIN vec_chance k) x WHERE sim > 0',
      ),
    },
    {
      name: 'item_stats',
      sql: `SELECT i.idx, COALESCE(b.c, 0) AS baskets, COALESCE(e.purchases, 0) AS purchases, COALESCE(e.views, 0) AS views, COALESCE(e.popularity, 0) AS popularity
FROM items i LEFT JOIN buy_count b ON b.item = i.idx LEFT JOIN (
  SELECT e.item, SUM(CASE WHEN e.type = 2 THEN 1 ELSE 0 END) AS purchases, SUM(CASE WHEN e.type = 0 THEN 1 ELSE 0 END) AS views,
    SUM(CASE WHEN e.type = 2 THEN ${decay('e.ts')} ELSE 0 END) AS popularity
  FROM events e CROSS JOIN norm k GROUP BY e.item
) e ON e.item = i.idx`,
    },
    {
      name: 'popular',
      sql: `SELECT idx, ROW_NUMBER() OVER (ORDER BY popularity DESC, idx) AS rnk FROM (SELECT idx, popularity FROM item_stats WHERE popularity > 0 ORDER BY popularity DESC, idx LIMIT ${int(POPULAR_SIZE)}) t`,
    },
    {
      name: 'totals',
      sql: `SELECT t.n AS basket_total, k.tmin, k.tmax, k.events,
  (SELECT COUNT(*) FROM order_basket) AS orders,
  ${carts ? '(SELECT COUNT(*) FROM cart_basket)' : '0'} AS cart_sessions,
  (SELECT COUNT(*) FROM view_basket) AS view_sessions,
  (SELECT COUNT(*) FROM vec) AS shopper_items,
  (SELECT COUNT(*) FROM events WHERE type = 2) AS purchases,
  (SELECT COUNT(*) FROM events WHERE type = 1) AS carts,
  (SELECT COUNT(*) FROM events WHERE type = 0) AS views
FROM basket_totals t CROSS JOIN norm k`,
    },
  ];
  return { steps, outputs: OUTPUTS };
}
