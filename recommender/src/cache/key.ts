/**
 * The cache key of a candidate list: what the engine's list depends on besides the model, normalised so
 * that requests which must get the same list share one key (basket order, repeats and unknown items
 * do not matter; a shopper the model does not know is nobody in particular), and pod-independent (item
 * ids, never catalogue indexes), since the Redis tier is shared by every scoring pod. Each tier adds
 * the model version in front.
 */
import type { Intent } from '../schemas.js';

export interface CandidateContext {
  readonly intent: Intent;
  /** Basket item ids the catalogue knows, without repeats (any order). */
  readonly items: readonly string[];
  /** The shopper, only when their history shapes the list. */
  readonly user: string | undefined;
  /** Candidate depth asked of the engine. */
  readonly depth: number;
  /** Names non-default engine parameters (e.g. an experiment variant's): `[a-z0-9_-]`, '' for the defaults. */
  readonly engine?: string;
}

const ENGINE = /^[a-z0-9_-]*$/;

/**
 * `<intent>[.<engine>]:<depth>:<items,sorted>[ <user>]`. Unambiguous: the intent and the engine name hold
 * no `.` or `:`, item ids hold no `,` or whitespace, and the user (anything) comes last after a space.
 */
export function candidateKey(c: CandidateContext): string {
  if (c.engine && !ENGINE.test(c.engine)) throw new Error(`failed to build a cache key: engine name '${c.engine}' must match ${ENGINE}`);
  const items = c.items.length < 2 ? (c.items[0] ?? '') : (isSorted(c.items) ? c.items : [...c.items].sort()).join(',');
  return `${c.intent}${c.engine ? `.${c.engine}` : ''}:${c.depth}:${items}${c.user === undefined ? '' : ` ${c.user}`}`;
}

function isSorted(xs: readonly string[]): boolean {
  for (let i = 1; i < xs.length; i++) if (xs[i - 1]! > xs[i]!) return false;
  return true;
}

/** `text` matched literally by a Redis glob pattern (SCAN MATCH). */
export function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
