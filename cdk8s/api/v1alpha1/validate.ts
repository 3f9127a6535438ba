/**
 * Offline validation of a Recommender, as the API server would do it: unknown fields, schema defaults,
 * schema constraints, then the same CEL `x-kubernetes-validations` rules. `npm run synth` uses it so a
 * GitOps render fails with the errors `kubectl apply` would have shown.
 */
import { CelScalar, celEnv, celMethod, isCelError, listType, parse, plan, type CelInput } from '@bufbuild/cel';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { API_VERSION, KIND, MAX_NAME_LENGTH, RecommenderSpecSchema, type CelRule, type Recommender } from './recommender.js';

export type ValidationResult = { ok: true; value: Recommender } | { ok: false; errors: string[] };

// Kubernetes' CEL `lists` library; the evaluator has only the standard ones.
const listSum = celMethod('sum', listType(CelScalar.INT), [], CelScalar.INT, function () {
  let total = 0n;
  for (const v of this) total += v as bigint;
  return total;
});

const env = celEnv({ funcs: [listSum] });
const compiled = new Map<string, (ctx: { self: CelInput }) => unknown>();
function evaluate(rule: string, self: CelInput): unknown {
  let program = compiled.get(rule);
  if (!program) {
    program = plan(env, parse(rule)) as (ctx: { self: CelInput }) => unknown;
    compiled.set(rule, program);
  }
  return program({ self });
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Validates and defaults one Recommender document. Never throws on bad input. */
export function validateRecommender(doc: unknown): ValidationResult {
  const errors: string[] = [];
  const obj = (isObject(doc) ? doc : {}) as Record<string, unknown>;
  if (obj.apiVersion !== API_VERSION) errors.push(`apiVersion: Invalid value: ${JSON.stringify(obj.apiVersion)}: must be "${API_VERSION}"`);
  if (obj.kind !== KIND) errors.push(`kind: Invalid value: ${JSON.stringify(obj.kind)}: must be "${KIND}"`);
  const metadata = isObject(obj.metadata) ? obj.metadata : {};
  const name = metadata.name;
  if (typeof name !== 'string' || name.length === 0) errors.push('metadata.name: Required value: name is required');
  else if (!DNS_SUBDOMAIN.test(name)) errors.push(`metadata.name: Invalid value: "${name}": must be a lowercase RFC 1123 subdomain`);
  else if (name.length > MAX_NAME_LENGTH) errors.push(`metadata.name: Too long: may not be more than ${MAX_NAME_LENGTH} bytes`);
  if (!isObject(obj.spec)) {
    errors.push('spec: Required value');
    return { ok: false, errors };
  }

  const spec = applyDefaults(RecommenderSpecSchema, structuredClone(obj.spec)) as Record<string, unknown>;
  unknownFields(RecommenderSpecSchema, spec, 'spec', errors);
  for (const e of Value.Errors(RecommenderSpecSchema, spec)) {
    // Unions report once per branch; the CRD form reports the value once.
    if (e.path.length === 0 && errors.length > 0) continue;
    errors.push(`spec${jsonPointerToPath(e.path)}: Invalid value: ${JSON.stringify(e.value)}: ${e.message}`);
  }
  if (errors.length === 0) celRules(RecommenderSpecSchema, spec, 'spec', errors);
  if (errors.length > 0) return { ok: false, errors: [...new Set(errors)] };
  return { ok: true, value: { ...(obj as object), spec } as Recommender };
}

/**
 * Structural-schema defaulting as the API server does it: a default fills only an absent field, then
 * defaulting continues inside it. (TypeBox's Value.Default merges object defaults into given objects.)
 */
export function applyDefaults(schema: TSchema, value: unknown): unknown {
  const v = value === undefined && schema.default !== undefined ? structuredClone(schema.default) : value;
  if (isObject(v) && schema.properties) {
    for (const [k, child] of Object.entries(schema.properties as Record<string, TSchema>)) {
      const filled = applyDefaults(child, v[k]);
      if (filled !== undefined) v[k] = filled;
    }
  } else if (Array.isArray(v) && schema.items) {
    return v.map((item) => applyDefaults(schema.items as TSchema, item));
  }
  return v;
}

function unknownFields(schema: TSchema, value: unknown, path: string, errors: string[]): void {
  if (isObject(value) && schema.properties) {
    const props = schema.properties as Record<string, TSchema>;
    for (const [k, v] of Object.entries(value)) {
      if (!(k in props)) errors.push(`${path}.${k}: unknown field "${k}"`);
      else unknownFields(props[k]!, v, `${path}.${k}`, errors);
    }
  } else if (Array.isArray(value) && schema.items) {
    value.forEach((v, i) => unknownFields(schema.items as TSchema, v, `${path}[${i}]`, errors));
  }
}

function celRules(schema: TSchema, value: unknown, path: string, errors: string[]): void {
  if (value === undefined) return;
  if (isObject(value) && schema.properties) {
    for (const [k, child] of Object.entries(schema.properties as Record<string, TSchema>)) celRules(child, value[k], `${path}.${k}`, errors);
  } else if (Array.isArray(value) && schema.items) {
    value.forEach((v, i) => celRules(schema.items as TSchema, v, `${path}[${i}]`, errors));
  }
  for (const { rule, message, fieldPath } of (schema['x-kubernetes-validations'] ?? []) as CelRule[]) {
    const result = evaluate(rule, toCel(schema, value));
    if (result === true) continue;
    const detail = isCelError(result) ? `rule could not be evaluated: ${result.message}` : message;
    errors.push(`${path}${fieldPath ?? ''}: Invalid value: "${Array.isArray(value) ? 'array' : typeof value}": ${detail}`);
  }
}

/** Converts a JSON value to CEL input typed by its schema: objects become maps and integers become CEL ints. */
function toCel(schema: TSchema, value: unknown): CelInput {
  if (Array.isArray(value)) return value.map((v) => toCel((schema.items ?? {}) as TSchema, v));
  if (isObject(value)) {
    const props = (schema.properties ?? {}) as Record<string, TSchema>;
    const extra = schema.patternProperties ? (Object.values(schema.patternProperties)[0] as TSchema) : ({} as TSchema);
    return new Map(Object.entries(value).map(([k, v]) => [k, toCel(props[k] ?? extra, v)]));
  }
  if (typeof value === 'number' && (schema.type === 'integer' || (Number.isInteger(value) && schema['x-kubernetes-int-or-string']))) return BigInt(value);
  return value as CelInput;
}

/** `/network/allowedCallers/0/podSelector` → `.network.allowedCallers[0].podSelector`, as the API server writes paths. */
function jsonPointerToPath(pointer: string): string {
  return pointer.split('/').slice(1).map((seg) => (/^\d+$/.test(seg) ? `[${seg}]` : `.${seg.replaceAll('~1', '/').replaceAll('~0', '~')}`)).join('');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
