import { describe, expect, it } from 'vitest';
import type { Comparison, Row } from '../src/evaluate-compare.js';
import { summaryLine, verdict } from '../src/evaluate-report.js';

const row = (intent: Row['intent'], method: string, r: Partial<Row>): Row => ({ intent, method, hr10: 0, ndcg10: 0, coverage: 0, ...r });
const shop = (rows: Row[]): Comparison => ({ shop: 'noisy', queries: { crossSell: 1, planted: 1, personal: 1, upSell: 1 }, rows, trainMs: 0 });

describe('the verdict against the issue’s targets', () => {
  it('When Tandem leads every cross-sell column and is within 5% of ALS, Then every target is met, each against the best other method', () => {
    const v = verdict(
      shop([
        row('cross-sell', 'Tandem cross-sell', { hr10: 0.6, recall5: 0.93, noise: 0.02 }),
        row('cross-sell', 'lift', { hr10: 0.5, recall5: 0.92, noise: 0.01 }),
        row('cross-sell', 'implicit ALS', { hr10: 0.59, recall5: 0.7, noise: 0 }),
        row('personal', 'Tandem personal', { hr10: 0.096 }),
        row('personal', 'implicit ALS', { hr10: 0.1 }),
      ]),
    );
    expect(v.checks.map((k) => [k.name, k.against, k.pass])).toEqual([
      ['cross-sell recall@5 ≥ best', 'lift', true],
      ['cross-sell noise share ≤ 0.10', 'target', true],
      ['cross-sell HR@10 ≥ best', 'implicit ALS', true],
      ['personal HR@10 ≥ 95% of ALS', 'implicit ALS × 0.95', true],
    ]);
    expect(summaryLine([v])).toBe(
      '4 of 4 targets met on 1 shop (noisy); cross-sell recall@5 ≥ best: 0.930 (bar 0.920); cross-sell noise share ≤ 0.10: 0.020 (bar 0.100); ' +
        'cross-sell HR@10 ≥ best: 0.600 (bar 0.590); personal HR@10 ≥ 95% of ALS: 0.096 (bar 0.095)',
    );
  });

  it('When Tandem trails by a hair or shows too much noise, Then those targets are not met', () => {
    const v = verdict(
      shop([
        row('cross-sell', 'Tandem cross-sell', { hr10: 0.6, recall5: 0.9, noise: 0.11 }),
        row('cross-sell', 'implicit BM25 item-kNN', { hr10: 0.6001, recall5: 0.9001 }),
        row('personal', 'Tandem personal', { hr10: 0.094 }),
        row('personal', 'implicit ALS', { hr10: 0.1 }),
      ]),
    );
    expect(v.checks.map((k) => k.pass)).toEqual([false, false, false, false]);
    expect(summaryLine([v, { ...v, shop: 'noisy 2', checks: v.checks.map((k) => ({ ...k, tandem: k.tandem + 0.01 })) }])).toMatch(
      /^0 of 8 targets met on 2 shops \(noisy, noisy 2\); cross-sell recall@5 ≥ best: 0.900–0.910 \(bar 0.900\);/,
    );
  });

  it('When a shop has neither planted accessories nor noise items (the demo shop), Then only its HR@10 and personal targets are checked', () => {
    const v = verdict({
      ...shop([
        row('cross-sell', 'Tandem cross-sell', { hr10: 0.5 }),
        row('cross-sell', 'implicit ALS', { hr10: 0.46 }),
        row('personal', 'Tandem personal', { hr10: 0.21 }),
        row('personal', 'implicit ALS', { hr10: 0.226 }),
      ]),
      queries: { crossSell: 1, planted: 0, personal: 1, upSell: 1 },
    });
    expect(v.checks.map((k) => [k.name, k.pass])).toEqual([
      ['cross-sell HR@10 ≥ best', true],
      ['personal HR@10 ≥ 95% of ALS', false],
    ]);
  });
});
