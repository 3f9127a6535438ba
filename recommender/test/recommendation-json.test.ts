import { describe, expect, it } from 'vitest';
import { recommendationJson } from '../src/api/recommendation-json.js';
import { buildShop, CAMERA_SHOP, item, ordersToEvents, repeat } from './fixtures.js';

describe('recommendation JSON', () => {
  it('When answers are serialised, Then the text is exactly what JSON.stringify writes, with or without reasons', async () => {
    const odd = item('lens-"quoted"\\ünïcödé', 'Lenses', 400);
    const shop = await buildShop([...CAMERA_SHOP, odd], ordersToEvents([...repeat(5, ['cam-1', odd.id]), ...repeat(3, ['cam-1', 'card-1']), ...repeat(10, ['mug-1', 'beans-1'])]));
    const answers = [
      (await shop.service.recommend({ intent: 'cross-sell', items: ['cam-1'], limit: 5 })),
      (await shop.service.recommend({ intent: 'cross-sell', items: ['cam-1'], limit: 5 })), // shares the items array
      (await shop.service.recommend({ intent: 'cross-sell', items: ['cam-1', 'no-such-item'], limit: 5 })),
      (await shop.service.recommend({ intent: 'up-sell', items: ['mug-1'], limit: 3 })),
    ];
    expect(answers[0]!.items.map((i) => i.id)).toContain(odd.id);
    expect(answers[2]!.reasons).toEqual(['unknown_item:no-such-item']);
    for (const a of answers) {
      const { filtered: _filtered, candidates: _candidates, ...answer } = a;
      expect(recommendationJson(a)).toBe(JSON.stringify(answer));
    }
    expect(answers[1]!.recommendationId).not.toBe(answers[0]!.recommendationId);
  });
});
