/**
 * Label-selector algebra for the NetworkPolicies: conjunction, negation and satisfiability of
 * metav1.LabelSelectors. Pure, and exact for selectors (each label key is constrained on its own).
 *
 * It serves two purposes:
 * - **refusal:** an allowed caller whose namespaceSelector could select a protected namespace is an error;
 * - **exclusion:** every rendered namespace peer is ANDed with the negation of `protectedNamespaces`, so
 *   no rule can admit a protected namespace, even one labelled protected after the render.
 */
import type { LabelSelector } from './api/v1alpha1/recommender.js';

export type Operator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

/** One label requirement. `matchLabels: {k: v}` is `{key: k, operator: 'In', values: [v]}`. */
export interface Requirement {
  readonly key: string;
  readonly operator: Operator;
  readonly values?: readonly string[];
}

/** The requirements of a selector, matchLabels first (in key order), then matchExpressions as written. */
export function requirements(selector: LabelSelector | undefined): Requirement[] {
  const fromLabels = Object.entries(selector?.matchLabels ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]): Requirement => ({ key, operator: 'In', values: [value] }));
  const fromExpressions = (selector?.matchExpressions ?? []).map(
    (e): Requirement => (e.values === undefined ? { key: e.key, operator: e.operator } : { key: e.key, operator: e.operator, values: [...e.values] }),
  );
  return [...fromLabels, ...fromExpressions];
}

/** True when the selector selects every object (no requirement at all). */
export function isEmptySelector(selector: LabelSelector | undefined): boolean {
  return requirements(selector).length === 0;
}

/** The complement of one requirement (NotIn and DoesNotExist also match objects without the key). */
export function negate(req: Requirement): Requirement {
  switch (req.operator) {
    case 'In':
      return { key: req.key, operator: 'NotIn', values: req.values ?? [] };
    case 'NotIn':
      return { key: req.key, operator: 'In', values: req.values ?? [] };
    case 'Exists':
      return { key: req.key, operator: 'DoesNotExist' };
    case 'DoesNotExist':
      return { key: req.key, operator: 'Exists' };
  }
}

/** Whether some label set satisfies all the requirements at once. */
export function satisfiable(reqs: readonly Requirement[]): boolean {
  const byKey = new Map<string, Requirement[]>();
  for (const r of reqs) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r]);
  for (const list of byKey.values()) {
    let mustExist = false;
    let mustNotExist = false;
    let allowed: Set<string> | undefined;
    const excluded = new Set<string>();
    for (const r of list) {
      if (r.operator === 'In') {
        mustExist = true;
        const values = new Set(r.values ?? []);
        allowed = allowed ? new Set([...allowed].filter((v) => values.has(v))) : values;
      } else if (r.operator === 'Exists') {
        mustExist = true;
      } else if (r.operator === 'DoesNotExist') {
        mustNotExist = true;
      } else {
        for (const v of r.values ?? []) excluded.add(v);
      }
    }
    if (mustExist && mustNotExist) return false;
    // Without an `In`, a value outside `excluded` (or the absent key) always exists.
    if (allowed && ![...allowed].some((v) => !excluded.has(v))) return false;
  }
  return true;
}

/** A selector equal to `base` AND every requirement in `extra` (matchLabels kept, expressions appended). */
export function and(base: LabelSelector, extra: readonly Requirement[]): LabelSelector {
  const expressions = [
    ...(base.matchExpressions ?? []),
    ...extra.map((r) => (r.values === undefined ? { key: r.key, operator: r.operator } : { key: r.key, operator: r.operator, values: [...r.values] })),
  ];
  const out: LabelSelector = {};
  if (base.matchLabels && Object.keys(base.matchLabels).length > 0) out.matchLabels = { ...base.matchLabels };
  if (expressions.length > 0) out.matchExpressions = expressions;
  return out;
}

/**
 * The selectors whose union is `base AND NOT protectedSelector`.
 *
 * NOT (r1 AND r2 …) is (NOT r1) OR (NOT r2) …, and NetworkPolicy peers in one rule are ORed, so this is
 * one peer per requirement of the protected selector. When `base` already rules out one requirement,
 * `base` alone is returned. An empty result means `base` selects only protected objects.
 */
export function excluding(base: LabelSelector, protectedSelector: LabelSelector): LabelSelector[] {
  const baseReqs = requirements(base);
  const protectedReqs = requirements(protectedSelector);
  if (protectedReqs.length === 0) throw new Error('protectedNamespaces must not be empty');
  if (!satisfiable(baseReqs)) return [];
  if (protectedReqs.some((p) => !satisfiable([...baseReqs, p]))) return [base];
  return protectedReqs.map((p) => negate(p)).filter((n) => satisfiable([...baseReqs, n])).map((n) => and(base, [n]));
}
