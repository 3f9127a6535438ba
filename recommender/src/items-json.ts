/**
 * An answer's items as JSON text, memoised per items array: the service shares one array between all
 * answers from the same candidate list, stock and promotions, so it is serialised once for them all. The
 * service builds items with their keys in canonical order (`id`, `reasons`, `score`), so this very text is
 * also the canonical JSON the audit outcome needs (audit/outcome.ts; a test checks they agree).
 */
import type { RecommendedItem } from './schemas.js';

const memo = new WeakMap<readonly RecommendedItem[], string>();

export function itemsJson(items: readonly RecommendedItem[]): string {
  let text = memo.get(items);
  if (text === undefined) {
    text = JSON.stringify(items);
    memo.set(items, text);
  }
  return text;
}
