import { describe, expect, it } from 'vitest';
import { AUDIT_FORMAT, type DecisionView } from '../src/audit/record.js';
import { replayDecision, replayRules } from '../src/audit/replay.js';
import { parseConfig } from '../src/config.js';

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

  it('When the model recomputes other candidates after online updates, Then the engine stage fails and the note says why', () => {
    const r = { ...record(), online: { generation: 12 } };
    const out = replayDecision(r, { rules, configVersion: 'cfg1', engine: { candidates: [{ id: 'tri-1', score: 0.7, reasons: [] }] } });
    expect(out).toMatchObject({ match: false, stages: { rules: true, engine: false } });
    expect(out.diff.candidates?.replayed).toEqual([{ id: 'tri-1', score: 0.7, reasons: [] }]);
    expect(out.notes[0]).toMatch(/12 online updates/);
  });
});
