/** Record-by-record validation: good records are kept, each bad one gets errors naming its index and field. */
import type { TSchema, Static } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { FieldError } from '../schemas.js';

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

export function checker<T extends TSchema>(schema: T): TypeCheck<T> {
  let c = compiled.get(schema);
  if (!c) {
    c = TypeCompiler.Compile(schema);
    compiled.set(schema, c);
  }
  return c as TypeCheck<T>;
}

/** Field errors of one value (first error per field), empty when valid. */
export function fieldErrors(schema: TSchema, value: unknown): { field: string; message: string }[] {
  const c = checker(schema);
  if (c.Check(value)) return [];
  const seen = new Set<string>();
  const out: { field: string; message: string }[] = [];
  for (const e of c.Errors(value)) {
    const field = e.path || '/';
    if (seen.has(field)) continue;
    seen.add(field);
    out.push({ field, message: e.message });
  }
  return out;
}

export interface BatchValidation<T> {
  valid: { index: number; value: T }[];
  errors: FieldError[];
  rejected: number;
}

/**
 * Validates each record of a batch fully before anything is applied. `extra` adds
 * domain checks (e.g. unknown item) that a schema cannot express.
 */
export function validateBatch<S extends TSchema>(
  schema: S,
  records: readonly unknown[],
  extra?: (value: Static<S>) => { field: string; message: string } | undefined,
): BatchValidation<Static<S>> {
  const valid: { index: number; value: Static<S> }[] = [];
  const errors: FieldError[] = [];
  let rejected = 0;
  records.forEach((record, index) => {
    const errs = fieldErrors(schema, record);
    if (errs.length === 0 && extra) {
      const e = extra(record as Static<S>);
      if (e) errs.push(e);
    }
    if (errs.length > 0) {
      rejected++;
      for (const e of errs) errors.push({ index, field: e.field, message: e.message });
    } else {
      valid.push({ index, value: record as Static<S> });
    }
  });
  return { valid, errors, rejected };
}

const NUMERIC = /^-?\d+(\.\d+)?$/;

/**
 * Turns numeric query strings into numbers where the schema wants a number or an integer
 * (what express hands over is all strings); everything else is left for the check to judge.
 */
export function coerceQuery(schema: TSchema, query: Record<string, unknown>): Record<string, unknown> {
  const props = (schema as { properties?: Record<string, { type?: string }> }).properties ?? {};
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(query)) {
    const v = query[key];
    const t = props[key]?.type;
    out[key] = typeof v === 'string' && (t === 'integer' || t === 'number') && NUMERIC.test(v) ? Number(v) : v;
  }
  return out;
}
