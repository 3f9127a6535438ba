/** Test fixtures: defaulted Recommenders, and lookups in rendered object lists. */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Recommender, RecommenderSpecInput } from '../api/v1alpha1/recommender.js';
import { validateRecommender } from '../api/v1alpha1/validate.js';

/** A Recommender with the API server's defaults applied; throws on an invalid spec. */
export function recommender(spec: RecommenderSpecInput = {}, name = 'storefront', namespace = 'shop'): Recommender {
  const result = validateRecommender({ apiVersion: 'tandem.dev/v1alpha1', kind: 'Recommender', metadata: { name, namespace }, spec });
  if (!result.ok) throw new Error(`invalid test Recommender: ${result.errors.join('; ')}`);
  return result.value;
}

// Loose shapes, for reading rendered objects in assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Obj = KubernetesObject & { spec?: any; data?: Record<string, string>; automountServiceAccountToken?: boolean };

/** The one object of `kind` named `name` (or the only one of that kind); fails loudly otherwise. */
export function find(objects: readonly KubernetesObject[], kind: string, name?: string): Obj {
  const matches = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
  if (matches.length !== 1) {
    throw new Error(`expected one ${kind}${name ? ` named ${name}` : ''}, found ${matches.length}: ${objects.map((o) => `${o.kind}/${o.metadata?.name}`).join(', ')}`);
  }
  return matches[0] as Obj;
}

export function kinds(objects: readonly KubernetesObject[]): string[] {
  return objects.map((o) => `${o.kind}/${o.metadata?.name}`);
}
