/**
 * A record schema (TypeBox) as SQL over a table's columns, so that a Parquet file is validated by the engine
 * that reads it, row by row, without passing every row through JavaScript. Only the rows it rejects go to
 * TypeBox (data/validate.ts) for their messages, so a bad row reads the same whether it came from JSON Lines
 * or Parquet. Covers what the event schema uses: strings (length, pattern, `date-time`), numbers and
 * integers (bounds), unions of string literals, optional fields. Pure.
 *
 * Where the two can differ (noted so nobody is surprised): DuckDB's regular expressions (RE2) take `\s` as
 * ASCII white space only, lengths count code points rather than UTF-16 units, and a date-time is parsed by
 * DuckDB, which rejects calendar dates JavaScript rolls over (February 30).
 */
import type { TObject, TSchema } from '@sinclair/typebox';
import { ident, quote } from './duckdb.js';

/** The DuckDB column types a schema type accepts. */
const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL.*)$/;
const INTEGER = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT)$/;
const TIMESTAMP = /^(TIMESTAMP.*|DATE)$/;

interface Prop {
  name: string;
  schema: TSchema & Record<string, unknown>;
  optional: boolean;
}

function props(schema: TObject): Prop[] {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties).map(([name, s]) => ({ name, schema: s as Prop['schema'], optional: !required.has(name) }));
}

function kindOf(s: Prop['schema']): 'string' | 'number' | 'integer' | 'literals' {
  if (Array.isArray(s.anyOf) && (s.anyOf as Record<string, unknown>[]).every((x) => typeof x.const === 'string')) return 'literals';
  if (s.type === 'string' || s.type === 'number' || s.type === 'integer') return s.type;
  throw new Error(`schema-check: field type ${JSON.stringify(s.type ?? s)} is not supported`);
}

/**
 * Why the columns cannot hold the schema's records (a missing required column, an unknown one, a wrong
 * type), or undefined. `columns` maps a column name to its DuckDB type.
 */
export function columnProblems(schema: TObject, columns: ReadonlyMap<string, string>, what: string): string | undefined {
  const problems: string[] = [];
  const known = new Set(Object.keys(schema.properties));
  for (const name of columns.keys()) if (!known.has(name)) problems.push(`column '${name}' is not in the ${what} schema (${[...known].join(', ')})`);
  for (const p of props(schema)) {
    const type = columns.get(p.name);
    if (type === undefined) {
      if (!p.optional) problems.push(`required column '${p.name}' is missing`);
      continue;
    }
    const kind = kindOf(p.schema);
    const ok =
      kind === 'string' || kind === 'literals'
        ? type === 'VARCHAR' || (p.schema.format === 'date-time' && TIMESTAMP.test(type))
        : NUMERIC.test(type);
    if (!ok) problems.push(`column '${p.name}' is ${type}; the ${what} schema wants ${p.schema.format === 'date-time' ? 'a date-time string or a timestamp' : kind === 'literals' ? 'a string' : `a ${kind}`}`);
  }
  return problems.length > 0 ? problems.join('; ') : undefined;
}

/** JavaScript's ISO date-time test (schemas.ts) as RE2 source. */
const ISO_DATE_TIME = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$';

function fieldCheck(p: Prop, type: string): string {
  const c = ident(p.name);
  const s = p.schema;
  const checks: string[] = [];
  switch (kindOf(s)) {
    case 'literals':
      checks.push(`${c} IN (${(s.anyOf as { const: string }[]).map((x) => quote(x.const)).join(', ')})`);
      break;
    case 'string':
      if (s.format === 'date-time' && TIMESTAMP.test(type)) break;
      if (typeof s.minLength === 'number') checks.push(`length(${c}) >= ${s.minLength}`);
      if (typeof s.maxLength === 'number') checks.push(`length(${c}) <= ${s.maxLength}`);
      if (typeof s.pattern === 'string') checks.push(`regexp_matches(${c}, ${quote(s.pattern)})`);
      if (s.format === 'date-time') checks.push(`regexp_matches(${c}, ${quote(ISO_DATE_TIME)})`, `TRY_CAST(${c} AS TIMESTAMPTZ) IS NOT NULL`);
      else if (s.format !== undefined) throw new Error(`schema-check: format '${String(s.format)}' is not supported`);
      break;
    case 'integer':
    case 'number':
      if (kindOf(s) === 'integer' && !INTEGER.test(type)) checks.push(`${c} = floor(${c})`);
      checks.push(`isfinite(CAST(${c} AS DOUBLE))`);
      if (typeof s.minimum === 'number') checks.push(`${c} >= ${s.minimum}`);
      if (typeof s.maximum === 'number') checks.push(`${c} <= ${s.maximum}`);
      if (typeof s.exclusiveMinimum === 'number') checks.push(`${c} > ${s.exclusiveMinimum}`);
      if (typeof s.exclusiveMaximum === 'number') checks.push(`${c} < ${s.exclusiveMaximum}`);
      break;
  }
  const all = checks.length > 0 ? checks.join(' AND ') : 'TRUE';
  return p.optional ? `(${c} IS NULL OR (${all}))` : `(${c} IS NOT NULL AND ${all})`;
}

/** A SQL condition true exactly for the rows that are valid records (call columnProblems first). */
export function validRowSql(schema: TObject, columns: ReadonlyMap<string, string>): string {
  return props(schema)
    .filter((p) => columns.has(p.name))
    .map((p) => fieldCheck(p, columns.get(p.name)!))
    .join('\n  AND ');
}
