/**
 * The recommendation answer as JSON text, byte for byte what JSON.stringify would write. The items
 * part is serialised once per items array (see items-json.ts), so most answers only format their own id.
 */
import { itemsJson } from '../items-json.js';
import type { RecommendationResponse } from '../schemas.js';

export function recommendationJson(a: RecommendationResponse): string {
  const items = itemsJson(a.items);
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
