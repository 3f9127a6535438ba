/**
 * Training benchmark (run in its own process so peak RSS is its own): generates the 100k-item,
 * 5M-event shop into typed arrays, trains, writes the artifact, and times in-process scoring of
 * 5-item baskets. Prints one JSON line on stdout.
 *   tsx recommender/src/bench/train-bench.ts --out DIR
 */
import { parseArgs } from 'node:util';
import { parseConfig } from '../config.js';
import { BENCH_SHOP, generateShop } from '../data/demo-shop.js';
import { Catalog } from '../engine/catalog.js';
import { crossSell } from '../engine/score.js';
import { bindModel } from '../engine/serving.js';
import { train } from '../engine/train.js';
import { writeArtifact } from '../model/artifact.js';
import { ModelStore } from '../model/store.js';
import { mulberry32, randInt } from '../prng.js';
import { RecommenderService } from '../service.js';
import { progressPrinter } from '../cli/progress.js';
import { privatiseEvents } from '../privacy/events.js';
import { DEMO_HMAC_KEY } from '../privacy/privacy.js';
import { Pseudonymiser } from '../privacy/pseudonym.js';
import { MemorySubjectSet } from '../privacy/subject-set.js';

const { values } = parseArgs({ options: { out: { type: 'string' }, items: { type: 'string' }, events: { type: 'string' } } });
const spec = {
  ...BENCH_SHOP,
  items: Number(values.items ?? BENCH_SHOP.items),
  maxEvents: Number(values.events ?? BENCH_SHOP.maxEvents),
};
const cfg = parseConfig({});
const mb = (kb: number): number => Math.round(kb / 1024);

let t = performance.now();
const shop = generateShop(spec, (d, total) => progressPrinter('bench shop')('events', d, total));
const generateMs = performance.now() - t;
const rssAfterGenerate = mb(process.resourceUsage().maxRSS);

t = performance.now();
// As the trainer does: shopper ids become pseudonyms first (the bench's service uses the same key).
const events = privatiseEvents(shop.events, { pseudonymiser: Pseudonymiser.fromText(DEMO_HMAC_KEY), erased: new MemorySubjectSet() }).events;
// Time per training stage (sessions; neighbours = co-bought lists, substitutes and the item-kNN; complements).
const stageStart = new Map<string, number>();
const printer = progressPrinter('bench training');
const data = train(Catalog.from(shop.items), events, cfg.engine, (stage, done, total) => {
  if (!stageStart.has(stage)) stageStart.set(stage, performance.now());
  printer(stage, done, total);
});
const trainMs = performance.now() - t;
const starts = [...stageStart.values(), t + trainMs];
const stagesMs = Object.fromEntries([...stageStart.keys()].map((stage, k) => [stage, Math.round(starts[k + 1]! - starts[k]!)]));
const peakRssMb = mb(process.resourceUsage().maxRSS);
// What "you may also like" adds: shopper vectors and their inverted index (item, weight, position, row: 16 B
// per shopper item) while training, and the item-kNN lists (neighbour, similarity: 8 B per pair) in the model.
const personalMb = Math.round((Number(data.counts.shopperItems) * 16 + Number(data.counts.knnPairs) * 8) / 2 ** 20);

let writeMs = 0;
let version = '';
if (values.out) {
  t = performance.now();
  version = (await writeArtifact(values.out, data, { metrics: {}, config: cfg })).version;
  writeMs = performance.now() - t;
}

// In-process scoring of 5-item baskets drawn from items with history.
const catalog = Catalog.from(shop.items);
const model = bindModel('bench', data, catalog, cfg.engine.historySize);
const rng = mulberry32(99);
const warm = Array.from(model.a.popular);
const baskets = Array.from({ length: 2000 }, () => Array.from({ length: 5 }, () => warm[randInt(rng, warm.length)]!));
const view = { catalog, model, cfg: cfg.engine };
const none = new Set<number>();
let sink = 0;
for (let i = 0; i < 2000; i++) sink += crossSell(view, baskets[i % baskets.length]!, none, 40).length;
/** µs per call: best of 7 rounds (the machine is shared, so the minimum is the least noisy). */
function timeCalls(fn: (i: number) => void, calls = 5000, rounds = 7): number {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) fn(i);
    best = Math.min(best, ((performance.now() - t0) * 1000) / calls);
  }
  return Math.round(best * 10) / 10;
}
/** The same for an async call, awaited one at a time. */
async function timeAsyncCalls(fn: (i: number) => Promise<void>, calls = 5000, rounds = 7): Promise<number> {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) await fn(i);
    best = Math.min(best, ((performance.now() - t0) * 1000) / calls);
  }
  return Math.round(best * 10) / 10;
}
const engineUs = timeCalls((i) => {
  sink += crossSell(view, baskets[i % baskets.length]!, none, 40).length;
});

const store = new ModelStore({ catalog, engine: cfg.engine });
await store.activate(store.addInMemory(data, { metrics: {}, config: cfg }).version);
const basketIds = baskets.map((b) => b.map((i) => catalog.id(i)));
/** The whole use case (candidates, rules, answer), with the candidate cache off or on (all hits after warm-up). */
async function serviceUs(cache: boolean): Promise<number> {
  const service = new RecommenderService({ catalog, store, config: parseConfig({ cache: { enabled: cache } }) });
  for (let i = 0; i < 2000; i++) sink += (await service.recommend({ intent: 'cross-sell', items: basketIds[i]!, limit: 10 })).items.length;
  return timeAsyncCalls(async (i) => {
    sink += (await service.recommend({ intent: 'cross-sell', items: basketIds[i % basketIds.length]!, limit: 10 })).items.length;
  });
}
const serviceUncachedUs = await serviceUs(false);
const serviceCachedUs = await serviceUs(true);

process.stdout.write(
  JSON.stringify({
    items: shop.items.length,
    events: shop.events.length,
    orders: shop.events.orderCount,
    users: shop.events.userIds.length,
    generateMs: Math.round(generateMs),
    rssAfterGenerateMb: rssAfterGenerate,
    trainMs: Math.round(trainMs),
    stagesMs,
    peakRssMb,
    personalMb,
    writeMs: Math.round(writeMs),
    version,
    counts: data.counts,
    basket5EngineUs: engineUs,
    basket5ServiceUs: serviceUncachedUs,
    basket5ServiceCachedUs: serviceCachedUs,
    sink: sink > 0,
  }) + '\n',
);
