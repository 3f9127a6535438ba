/**
 * The Redis tier for real: the scoring pods reach their Redis with its password, candidate lists land in
 * it (keys seen with redis-cli) and a second pod is served from it (hits counted in its /metrics); the Redis
 * pod deleted under load costs zero failed requests, and the service uses Redis again once the StatefulSet
 * has brought it back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_PORT, METRICS_PORT, Metrics } from '../../cdk8s/constants.js';
import { expectHardenedAndStable } from './hardening.js';
import { probeFromInside, probePod } from './probe.js';
import { API_KEY, apply, createRecommender, deleteNamespace, ensureOperator, k, pods, restrictedNamespace, seedAndTrain, until, waitRecommenderReady } from './stack.js';

const NAME = 'shop';
const CALLER = { 'tandem.dev/role': 'storefront' };
let ns = '';
let storefront = '';
let probe = '';

/** A sample of the pod's metrics: the value of `name{labels…}` summed over series carrying those labels. */
async function metric(podIp: string, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`http://${podIp}:${METRICS_PORT}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) sum += Number(line.split(' ').at(-1));
  }
  return sum;
}

async function scoringIps(): Promise<string[]> {
  return (await pods(ns, `app.kubernetes.io/instance=${NAME},app.kubernetes.io/component=scoring`)).map((p) => p.status.podIP!);
}

/** Asks one pod directly (the node may reach its pods) for a cross-sell list. */
async function ask(podIp: string, items: string): Promise<number> {
  const res = await fetch(`http://${podIp}:${API_PORT}/v1/recommendations/cross-sell?items=${items}&limit=5`, { headers: { authorization: `Bearer ${API_KEY}` }, signal: AbortSignal.timeout(5000) });
  await res.arrayBuffer();
  return res.status;
}

async function redisKeys(): Promise<string[]> {
  const out = await k(['-n', ns, 'exec', `${NAME}-redis-0`, '--', 'sh', '-c', 'REDISCLI_AUTH="$(cat "$REDIS_PASSWORD_FILE")" redis-cli --scan']);
  return out.split('\n').filter(Boolean);
}

beforeAll(async () => {
  await ensureOperator();
  ns = await restrictedNamespace('cache');
  storefront = await restrictedNamespace('storefront', CALLER);
  await apply([{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'shop-redis', namespace: ns }, stringData: { password: 'e2e "quoted" \\ redis pass' } }]);
  await createRecommender(ns, NAME, {
    replicas: { min: 2, max: 2 },
    autoscaling: { enabled: false },
    cache: { passwordSecretRef: { name: 'shop-redis', key: 'password' } },
    network: { allowedCallers: [{ namespaceSelector: { matchLabels: CALLER } }] },
  });
  probe = await probePod(storefront);
  await seedAndTrain(ns, NAME);
  await waitRecommenderReady(ns, NAME);
});

afterAll(async () => {
  if (ns) {
    await expectHardenedAndStable(ns);
    await deleteNamespace(ns);
  }
  if (storefront) await deleteNamespace(storefront);
});

describe.sequential('the Redis tier on a real node', () => {
  it('When one pod answers a basket, Then its candidate list lands in Redis and the other pod is served from it', async () => {
    const [a, b] = await scoringIps();
    // A list is shared once its request comes a second time (the cache's admission rule).
    for (let i = 0; i < 3; i++) expect(await ask(a!, 'sku-0001,sku-0002')).toBe(200);
    const keys = await until('candidate keys in Redis', async () => {
      const found = await redisKeys();
      return found.length > 0 ? found : undefined;
    }, 30_000);
    expect(keys.join(' ')).toMatch(/cross-sell/);
    const before = await metric(b!, Metrics.CACHE_REQUESTS_TOTAL, { tier: 'redis', result: 'hit' });
    for (let i = 0; i < 3; i++) expect(await ask(b!, 'sku-0001,sku-0002')).toBe(200);
    expect(await metric(b!, Metrics.CACHE_REQUESTS_TOTAL, { tier: 'redis', result: 'hit' })).toBeGreaterThan(before);
    for (const ip of [a!, b!]) expect(await metric(ip, Metrics.CACHE_UP, {})).toBe(1);
  });

  it('When the Redis pod is deleted under load, Then no request fails, and the pods use Redis again once it is back', async () => {
    const url = `http://${NAME}.${ns}.svc.cluster.local:${API_PORT}/v1/recommendations/cross-sell`;
    // 8 requests in flight for 40 s over 200 baskets; prints `ok failed` at the end.
    const load = `let ok=0,bad=0;const end=Date.now()+40000;const one=async i=>{while(Date.now()<end){` +
      `try{const r=await fetch(${JSON.stringify(url)}+'?items=sku-'+String(1+(i++%200)).padStart(4,'0')+'&limit=5',{headers:{authorization:'Bearer ${API_KEY}'},signal:AbortSignal.timeout(5000)});await r.arrayBuffer();r.ok?ok++:bad++}catch{bad++}}};` +
      `Promise.all([0,1,2,3,4,5,6,7].map(n=>one(n*25))).then(()=>{console.log(ok+' '+bad)})`;
    const running = probeFromInside(storefront, probe, load);
    await new Promise((r) => setTimeout(r, 8000));
    await k(['-n', ns, 'delete', 'pod', `${NAME}-redis-0`, '--wait=false']);
    const res = await running;
    const [ok, failed] = res.output.split(' ').map(Number);
    expect(failed, `failed requests (ok ${ok})`).toBe(0);
    expect(ok).toBeGreaterThan(500);

    await k(['-n', ns, 'rollout', 'status', `statefulset/${NAME}-redis`, '--timeout=120s']);
    const [a] = await scoringIps();
    await until('the pod to use Redis again', async () => ((await metric(a!, Metrics.CACHE_UP, {})) === 1 ? true : undefined), 60_000, 2000);
    const hits = await metric(a!, Metrics.CACHE_REQUESTS_TOTAL, { tier: 'redis' });
    for (let i = 0; i < 3; i++) await ask(a!, 'sku-0003,sku-0004');
    expect(await metric(a!, Metrics.CACHE_REQUESTS_TOTAL, { tier: 'redis' })).toBeGreaterThan(hits);
  });
});
