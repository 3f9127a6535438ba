import { describe, expect, it } from 'vitest';
import type { LabelSelector } from './api/v1alpha1/recommender.js';
import { excluding, negate, requirements, satisfiable, type Requirement } from './selectors.js';

const zone = (operator: Requirement['operator'], ...values: string[]): Requirement =>
  operator === 'Exists' || operator === 'DoesNotExist' ? { key: 'zone', operator } : { key: 'zone', operator, values };

describe('satisfiable', () => {
  it.each<[string, Requirement[], boolean]>([
    ['no requirement at all', [], true],
    ['one value for a key', [zone('In', 'a')], true],
    ['two different required values for one key', [zone('In', 'a'), zone('In', 'b')], false],
    ['overlapping value sets', [zone('In', 'a', 'b'), zone('In', 'b', 'c')], true],
    ['a required value that is also excluded', [zone('In', 'a'), zone('NotIn', 'a')], false],
    ['a set with one value left after exclusion', [zone('In', 'a', 'b'), zone('NotIn', 'a')], true],
    ['a key that must exist and must not', [zone('Exists'), zone('DoesNotExist')], false],
    ['a required value for an absent key', [zone('In', 'a'), zone('DoesNotExist')], false],
    ['an exclusion on an absent key', [zone('NotIn', 'a'), zone('DoesNotExist')], true],
    ['different keys, each satisfiable', [zone('In', 'a'), { key: 'team', operator: 'In', values: ['b'] }], true],
  ])('%s → %s', (_name, reqs, expected) => {
    expect(satisfiable(reqs)).toBe(expected);
  });
});

describe('negate', () => {
  it.each<[Requirement, Requirement]>([
    [zone('In', 'a'), zone('NotIn', 'a')],
    [zone('NotIn', 'a', 'b'), zone('In', 'a', 'b')],
    [zone('Exists'), zone('DoesNotExist')],
    [zone('DoesNotExist'), zone('Exists')],
  ])('the complement of %j is %j', (req, expected) => {
    expect(negate(req)).toEqual(expected);
    expect(satisfiable([req, negate(req)])).toBe(false);
  });
});

describe('excluding', () => {
  const payments: LabelSelector = { matchLabels: { zone: 'payments' } };

  it('adds the negation of a one-label protected selector to the base selector', () => {
    expect(excluding({ matchLabels: { team: 'web' } }, payments)).toEqual([
      { matchLabels: { team: 'web' }, matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['payments'] }] },
    ]);
  });

  it('splits a protected selector with several requirements into one peer per negated requirement', () => {
    const pci: LabelSelector = { matchLabels: { zone: 'payments' }, matchExpressions: [{ key: 'pci', operator: 'Exists' }] };
    expect(excluding({ matchLabels: { team: 'web' } }, pci)).toEqual([
      { matchLabels: { team: 'web' }, matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['payments'] }] },
      { matchLabels: { team: 'web' }, matchExpressions: [{ key: 'pci', operator: 'DoesNotExist' }] },
    ]);
  });

  it('keeps the base selector alone when it already rules the protected namespaces out', () => {
    expect(excluding({ matchLabels: { zone: 'storefront' } }, payments)).toEqual([{ matchLabels: { zone: 'storefront' } }]);
  });

  it('returns nothing when the base selector selects only protected namespaces', () => {
    expect(excluding({ matchLabels: { zone: 'payments', team: 'x' } }, payments)).toEqual([]);
  });

  it('never returns a selector that a protected label set satisfies', () => {
    const bases: LabelSelector[] = [{}, { matchLabels: { team: 'web' } }, { matchExpressions: [{ key: 'zone', operator: 'Exists' }] }];
    for (const base of bases) {
      for (const sel of excluding(base, payments)) expect(satisfiable([...requirements(sel), ...requirements(payments)])).toBe(false);
    }
  });
});
