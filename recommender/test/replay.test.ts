import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_FORMAT, type DecisionView } from '../src/audit/record.js';
import { replayDecision, replayRules } from '../src/audit/replay.js';
import { AuditTrail } from '../src/audit/trail.js';
import { parseConfig } from '../src/config.js';
import type { Decision } from '../src/service.js';
import { buildShop, ids, item, ordersToEvents, repeat, type Shop } from './fixtures.js';

const rules = parseConfig({
  rules: {
    maxPerCategory: 1,
    promotions: [{ id: 'winter', itemIds: ['bag-1'], mode: 'pin', start: '2026-11-01T00:00:00Z', end: '2026-11-30T00:00:00Z' }],
  },
}).rules;

/** A decision made on 25 November: the winter promotion pins bag-1, card-2 is out of stock, tri-2 is a second tripod. */
function record(): DecisionView {
  const candidates = [
    { id: 'card-2', score: 0.9, reasons: ['bought_together:cam-1 lift=6.0'], stock: 0, category: 'Memory Cards' },
    { id: 'tri-1', score: 0.7, reasons: ['bought_together:cam-1 lift=4.0'], stock: 2, category: 'Tripods' },
    { id: 'tri-2', score: 0.6, reasons: ['bought_together:cam-1 lift=3.0'], stock: 9, category: 'Tripods' },
    { id: 'bag-1', score: 0.2, reasons: ['bought_together:cam-1 lift=1.2'], stock: 9, category: 'Camera Bags' },
  ];
  const base: DecisionView = {
    type: 'decision',
    v: AUDIT_FORMAT,
    id: '019abb00-0000-7000-8000-000000000001',
    time: '2026-11-25T10:00:00.000Z',
    optedOut: false,
    intent: 'cross-sell',
    context: { items: ['cam-1'], limit: 3, depth: 16 },
    model: { version: 'v1', sha256: 'ab'.repeat(32) },
    config: { version: 'cfg1' },
    variant: 'control',
    promotions: ['winter'],
    online: { generation: 0 },
    candidates,
    filtered: [],
    items: [],
    user: null,
    chain: { seq: 0, hash: '0'.repeat(64), outcome: '0'.repeat(64) },
  };
  const made = replayRules(base, rules);
  return { ...base, items: made.items, filtered: made.filtered };
}

describe('replay', () => {
  it('When the rules are replayed on the recorded candidates, stock and time, Then stock, promotions and diversity act as they did', () => {
    const r = record();
    expect(r.items.map((i) => i.id)).toEqual(['bag-1', 'tri-2']);
    expect(r.items[0]!.reasons).toEqual(['bought_together:cam-1 lift=1.2', 'promotion:winter']);
    expect(r.filtered).toEqual([
      { id: 'card-2', reason: 'out_of_stock' },
      { id: 'tri-1', reason: 'diversity' },
    ]);
  });

  it('When nothing changed, Then the replay matches, engine stage included', () => {
    const r = record();
    const out = replayDecision(r, { rules, configVersion: 'cfg1', engine: { candidates: r.candidates.map(({ id, score, reasons }) => ({ id, score, reasons })) } });
    expect(out).toEqual({ match: true, stages: { rules: true, engine: true }, diff: {}, notes: [] });
  });

  it('When the replay runs after the promotion ended, Then it still uses the promotion state at the recorded time', () => {
    const r = record();
    const out = replayDecision(r, { rules, configVersion: 'cfg1', engine: { unavailable: 'test' } });
    expect(out.stages.rules).toBe(true);
    expect(out.match).toBe(true);
  });

  it('When the rules changed since, Then the replay differs, shows both answers and says the config changed', () => {
    const r = record();
    const blocked = parseConfig({ rules: { ...rules, blockedItems: ['bag-1'] } }).rules;
    const out = replayDecision(r, { rules: blocked, configVersion: 'cfg2', engine: { unavailable: 'model version v1 is gone' } });
    expect(out.match).toBe(false);
    expect(out.stages).toEqual({ rules: false, engine: null });
    expect(out.diff.items?.replayed).toEqual([expect.objectContaining({ id: 'tri-2' })]);
    expect(out.diff.filtered?.replayed).toContainEqual({ id: 'bag-1', reason: 'blocked_item' });
    expect(out.notes).toEqual(['the config changed since the decision (cfg1 then, cfg2 now)', 'the candidates were not recomputed: model version v1 is gone']);
  });

  it('When an opted-out shopper is replayed, Then the rules stage leaves the withheld candidates aside and the engine stage recomputes them', () => {
    const r = record();
    const withheld = [{ id: 'lens-1', reason: 'opt_out' }];
    const rec = { ...r, optedOut: true, filtered: [...r.filtered, ...withheld] };
    const candidates = r.candidates.map(({ id, score, reasons }) => ({ id, score, reasons }));
    expect(replayDecision(rec, { rules, configVersion: 'cfg1', engine: { candidates, withheld } })).toEqual({
      match: true,
      stages: { rules: true, engine: true },
      diff: {},
      notes: [],
    });
    const other = replayDecision(rec, { rules, configVersion: 'cfg1', engine: { candidates, withheld: [{ id: 'bag-2', reason: 'opt_out' }] } });
    expect(other).toMatchObject({ match: false, stages: { rules: true, engine: false } });
    expect(other.diff.filtered).toEqual({ recorded: rec.filtered, replayed: [...r.filtered, { id: 'bag-2', reason: 'opt_out' }] });
  });

  it('When the withheld candidates cannot be recomputed (the shopper was redacted), Then the replay says so and still matches on the rest', () => {
    const r = record();
    const rec = { ...r, optedOut: true, filtered: [...r.filtered, { id: 'lens-1', reason: 'opt_out' }] };
    const out = replayDecision(rec, { rules, configVersion: 'cfg1', engine: { candidates: r.candidates.map(({ id, score, reasons }) => ({ id, score, reasons })) } });
    expect(out).toMatchObject({ match: true, stages: { rules: true, engine: true }, diff: {} });
    expect(out.notes).toEqual(["the 1 candidates withheld by the opt-out were not recomputed: the shopper's history is not available"]);
  });

  it('When the model recomputes other candidates after online updates, Then the engine stage fails and the note says why', () => {
    const r = { ...record(), online: { generation: 12 } };
    const out = replayDecision(r, { rules, configVersion: 'cfg1', engine: { candidates: [{ id: 'tri-1', score: 0.7, reasons: [] }] } });
    expect(out).toMatchObject({ match: false, stages: { rules: true, engine: false } });
    expect(out.diff.candidates?.replayed).toEqual([{ id: 'tri-1', score: 0.7, reasons: [] }]);
    expect(out.notes[0]).toMatch(/12 online updates/);
  });
});

describe('an opted-out shopper in the decision record', () => {
  // Popular items p-1…p-14 (p-1 the most bought), and a niche n-1 bought with n-2 or n-3 by a few shoppers.
  const items = [...Array.from({ length: 14 }, (_, k) => item(`p-${k + 1}`, `P${k + 1}`, 10)), item('n-1', 'N', 10), item('n-2', 'N2', 10), item('n-3', 'N3', 10)];
  const orders = [...Array.from({ length: 14 }, (_, k) => repeat(20 - k, [`p-${k + 1}`])).flat(), ['n-1', 'n-2'], ['n-1', 'n-3'], ['n-1']];
  /** The last order's shopper: their history (n-1) points at n-2 and n-3, which no popular list reaches. */
  const fan = `u${orders.length - 1}`;
  let shop: Shop;
  let trail: AuditTrail;
  const ask = (user: string): Decision => shop.service.recommend({ intent: 'personal', items: [], user, limit: 1 }) as Decision;

  beforeAll(async () => {
    trail = await AuditTrail.open({ writer: 'test', retentionDays: 1 });
    shop = await buildShop(items, ordersToEvents(orders), {}, { audit: trail });
  });
  afterAll(() => trail.close());

  it('When an opted-out shopper asks for personal recommendations, Then the personal candidates withheld are filtered as opt_out, and the replay reproduces them', async () => {
    expect(ids(ask(fan))).toEqual([expect.stringMatching(/^n-[23]$/)]);
    await shop.service.setOptOut(fan, true);
    const answer = ask(fan);
    expect(answer.reasons).toContain('fallback:popularity unknown_user');
    const rec = (await shop.service.decision(answer.recommendationId))!;
    expect(rec.optedOut).toBe(true);
    expect(rec.candidates.map((c) => c.id)).not.toContain('n-2');
    expect(rec.filtered.filter((f) => f.reason === 'opt_out').map((f) => f.id).sort()).toEqual(['n-2', 'n-3']);
    expect(await shop.service.replay(answer.recommendationId)).toEqual({ match: true, stages: { rules: true, engine: true }, diff: {}, notes: [] });
  });

  it('When another shopper gets the same non-personal list, Then their record withholds nothing', async () => {
    const answer = ask('u0');
    const rec = (await shop.service.decision(answer.recommendationId))!;
    expect(rec).toMatchObject({ optedOut: false, filtered: [] });
    const anonymous = shop.service.recommend({ intent: 'personal', items: [], limit: 1 }) as Decision;
    expect((await shop.service.decision(anonymous.recommendationId))!.filtered).toEqual([]);
  });
});
