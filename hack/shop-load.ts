/**
 * A storefront's traffic on the demo shop (recommender/src/data/demo-shop.ts), paced: recommendations of every
 * intent, one unknown path (a client error), event ingestion with one invalid event, and shoppers acting on some
 * answers (a view, a cart, a purchase, credited to the answer's variant), so every series of the service moves.
 */

export interface ShopLoad {
  /** Stops the load and says how many requests it sent and how many failed (5xx or no answer). */
  stop(): Promise<{ sent: number; failed: number }>;
}

// Demo-shop items and shoppers, and one unknown intent path (a 404 is a client error, not an SLO error).
const PATHS = [
  '/v1/recommendations/cross-sell?items=sku-0001,sku-0002&limit=5',
  '/v1/recommendations/cross-sell?items=sku-0010&limit=5',
  '/v1/recommendations/up-sell?item=sku-0003&limit=5',
  '/v1/recommendations/personal?user=u-1&limit=5',
  '/v1/recommendations/personal?user=u-2&limit=5',
  '/v1/decisions/not-a-recommendation',
];

const ingested = (i: number) => [
  { type: 'view', userId: `u-${i % 50}`, itemId: 'sku-0001', timestamp: new Date().toISOString() },
  { type: 'teleport', userId: 'u-1', itemId: 'sku-0001', timestamp: 'yesterday' },
];

export function startShopLoad(serviceUrl: string, apiKey: string, requestsPerSecond: number): ShopLoad {
  const headers = { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' };
  const state = { running: true, sent: 0, failed: 0 };
  /** Events for an answer's first item, carrying its recommendationId: a view, every other time a cart, every third a purchase. */
  let acted = 0;
  const feedback = (body: string | undefined, i: number) => {
    const answer = JSON.parse(body ?? '{}') as { recommendationId?: string; items?: { id: string }[] };
    const item = answer.items?.[0]?.id;
    if (!answer.recommendationId || !item) return undefined;
    const n = acted++;
    const at = new Date().toISOString();
    const event = (type: string, extra = {}) => ({ type, userId: `u-${i % 50}`, itemId: item, recommendationId: answer.recommendationId, timestamp: at, ...extra });
    return [event('view'), ...(n % 2 === 0 ? [event('add_to_cart')] : []), ...(n % 3 === 0 ? [event('purchase', { orderId: `o-${i}`, price: 20, quantity: 1 })] : [])];
  };
  const done = (async () => {
    for (let i = 0; state.running; i++) {
      const t0 = Date.now();
      // Every tenth request ingests two events, one of them invalid (the ingestion panels count both).
      const res = await (i % 10 === 9
        ? fetch(`${serviceUrl}/v1/events`, { method: 'POST', headers, body: JSON.stringify(ingested(i)) })
        : fetch(serviceUrl + PATHS[i % PATHS.length]!, { headers })
      ).catch(() => undefined);
      const body = await res?.text().catch(() => undefined);
      const shown = res?.ok ? feedback(body, i) : undefined;
      if (shown) await fetch(`${serviceUrl}/v1/events`, { method: 'POST', headers, body: JSON.stringify(shown) }).then((r) => r.arrayBuffer(), () => undefined);
      state.sent++;
      if (!res || res.status >= 500) state.failed++;
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 / requestsPerSecond - (Date.now() - t0))));
    }
  })();
  return {
    async stop() {
      state.running = false;
      await done;
      return { sent: state.sent, failed: state.failed };
    },
  };
}
