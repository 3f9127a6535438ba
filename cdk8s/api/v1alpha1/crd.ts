/**
 * Derives the Recommender CustomResourceDefinition from the TypeBox schemas in `recommender.ts`.
 * Pure: the CRD YAML in the install bundle and the Helm chart is generated from this, never hand-edited.
 */
import type { TSchema } from '@sinclair/typebox';
import { API_VERSION, GROUP, KIND, MAX_NAME_LENGTH, PLURAL, RecommenderSpecSchema, RecommenderStatusSchema, SHORT_NAMES, SINGULAR, VERSION } from './recommender.js';

type JsonSchema = Record<string, unknown>;

/**
 * Rewrites JSON Schema (as TypeBox emits it) into the OpenAPI v3 subset a structural CRD schema accepts:
 * string-literal unions become `enum`, records become `additionalProperties`, numeric `exclusiveMaximum`
 * becomes the boolean form, int-or-string keeps only its two bare types, and `additionalProperties: false`
 * is dropped (the API server prunes unknown fields instead), defaulted fields are not `required`, and
 * object defaults carry their children's defaults.
 */
export function toStructural(schema: TSchema | JsonSchema): JsonSchema {
  const s = JSON.parse(JSON.stringify(schema)) as JsonSchema;
  return rewrite(s);
}

function rewrite(node: JsonSchema): JsonSchema {
  const out: JsonSchema = { ...node };
  const anyOf = node.anyOf as JsonSchema[] | undefined;

  if (node['x-kubernetes-int-or-string']) {
    // Only the bare two-branch form is structural; constraints live in its CEL rules.
    return {
      description: node.description,
      'x-kubernetes-int-or-string': true,
      anyOf: [{ type: 'integer' }, { type: 'string' }],
      'x-kubernetes-validations': node['x-kubernetes-validations'],
    };
  }
  if (anyOf && anyOf.every((b) => typeof b.const === 'string')) {
    delete out.anyOf;
    return { ...out, type: 'string', enum: anyOf.map((b) => b.const) };
  }
  if (node.patternProperties) {
    const [valueSchema] = Object.values(node.patternProperties as Record<string, JsonSchema>);
    delete out.patternProperties;
    out.additionalProperties = rewrite(valueSchema ?? { type: 'string' });
  } else if (node.additionalProperties === false) {
    delete out.additionalProperties;
  }
  if (typeof node.exclusiveMaximum === 'number') {
    out.maximum = node.exclusiveMaximum;
    out.exclusiveMaximum = true;
  }
  if (typeof node.exclusiveMinimum === 'number') {
    out.minimum = node.exclusiveMinimum;
    out.exclusiveMinimum = true;
  }
  if (Array.isArray(node.required)) {
    // A defaulted field is optional to the user; the API server fills it in before validating.
    const props = (node.properties ?? {}) as Record<string, JsonSchema>;
    const required = (node.required as string[]).filter((k) => props[k]?.default === undefined);
    if (required.length > 0) out.required = required;
    else delete out.required;
  }
  if (isPlainObject(node.default) && node.properties) out.default = withNestedDefaults(node, node.default);
  if (node.properties) {
    out.properties = Object.fromEntries(Object.entries(node.properties as Record<string, JsonSchema>).map(([k, v]) => [k, rewrite(v)]));
  }
  if (node.items) out.items = rewrite(node.items as JsonSchema);
  return out;
}

/** The API server validates a default as written, so an object default must spell out its children's defaults. */
function withNestedDefaults(schema: JsonSchema, value: Record<string, unknown>): Record<string, unknown> {
  const filled = { ...value };
  for (const [k, child] of Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>)) {
    if (filled[k] === undefined && child.default !== undefined) filled[k] = structuredClone(child.default);
    if (isPlainObject(filled[k]) && child.properties) filled[k] = withNestedDefaults(child, filled[k] as Record<string, unknown>);
  }
  return filled;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export const CRD_NAME = `${PLURAL}.${GROUP}`;

/** The CustomResourceDefinition object for `recommenders.tandem.dev`. */
export function recommenderCrd() {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: CRD_NAME,
      labels: { 'app.kubernetes.io/name': 'tandem', 'app.kubernetes.io/part-of': 'tandem' },
    },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: { kind: KIND, listKind: `${KIND}List`, plural: PLURAL, singular: SINGULAR, shortNames: SHORT_NAMES, categories: ['tandem'] },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
            { name: 'Replicas', type: 'integer', jsonPath: '.status.readyReplicas' },
            { name: 'Model', type: 'string', jsonPath: '.status.modelVersion' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
            { name: 'Reason', type: 'string', priority: 1, jsonPath: '.status.conditions[?(@.type=="Ready")].reason' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: `${KIND} (${API_VERSION}) runs a cross-sell and up-sell recommender for one shop.`,
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                // Children such as `<name>-retrain-<job>` must stay valid names.
                metadata: { type: 'object', properties: { name: { type: 'string', maxLength: MAX_NAME_LENGTH } } },
                spec: toStructural(RecommenderSpecSchema),
                status: toStructural(RecommenderStatusSchema),
              },
            },
          },
        },
      ],
    },
  };
}
