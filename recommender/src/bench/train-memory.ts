/**
 * Today's in-memory trainer (engine/train.ts) on the bench shop of N events (bench/shop-parquet.ts's spec),
 * in its own process so that peak RSS is its own; prints one JSON line. Used by `npm run bench:train`.
 *   node build/recommender/src/bench/train-memory.js --events N
 */
import { parseArgs } from 'node:util';
import { parseConfig } from '../config.js';
import { generateShop } from '../data/demo-shop.js';
import { Catalog } from '../engine/catalog.js';
import { train } from '../engine/train.js';
import { privatiseEvents } from '../privacy/events.js';
import { DEMO_HMAC_KEY } from '../privacy/privacy.js';
import { Pseudonymiser } from '../privacy/pseudonym.js';
import { MemorySubjectSet } from '../privacy/subject-set.js';
import { benchSpec } from './shop-parquet.js';

const { values } = parseArgs({ options: { events: { type: 'string' } } });
const cfg = parseConfig({});
let t = performance.now();
const shop = generateShop(benchSpec(Number(values.events)));
const generateMs = performance.now() - t;
t = performance.now();
const events = privatiseEvents(shop.events, { pseudonymiser: Pseudonymiser.fromText(DEMO_HMAC_KEY), erased: new MemorySubjectSet() }).events;
const data = train(Catalog.from(shop.items), events, cfg.engine);
const trainMs = performance.now() - t;
process.stdout.write(
  JSON.stringify({ events: shop.events.length, generateMs: Math.round(generateMs), trainMs: Math.round(trainMs), peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024), counts: data.counts }) + '\n',
);
