/**
 * The recommendation answer as JSON text, byte for byte what JSON.stringify would write. The items
 * part is serialised once per items array: the service shares one array between all answers from
 * the same candidate list, stock and promotions, so most answers only format their own id.
 */
import type { RecommendationResponse } from '../schemas.js';

const itemsJson = new WeakMap<RecommendationResponse['items'], string>();

export function recommendationJson(a: RecommendationResponse): string {
  let items = itemsJson.get(a.items);
  if (items === undefined) {
    items = JSON.stringify(a.items);
    itemsJson.set(a.items, items);
  }
  const reasons = a.reasons === undefined ? '' : `,"reasons":${JSON.stringify(a.reasons)}`;
  return (
    `{"recommendationId":${JSON.stringify(a.recommendationId)},"intent":${JSON.stringify(a.intent)},` +
    `"modelVersion":${JSON.stringify(a.modelVersion)},"variant":${JSON.stringify(a.variant)},"items":${items}${reasons}}`
  );
}

/** A handler's answer already serialised as JSON; written as is. */
export class JsonText {
  constructor(readonly text: string) {}
}
