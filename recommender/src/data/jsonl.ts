/** JSON Lines reading and writing, with line-numbered errors for bad records. */
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Static, TSchema } from '@sinclair/typebox';
import type { FieldError } from '../schemas.js';
import { fieldErrors } from './validate.js';

export interface JsonlResult<T> {
  records: T[];
  errors: FieldError[];
  lines: number;
}

/** Reads a JSON Lines file, validating each line; blank lines are skipped, bad lines reported by number. */
export async function readJsonl<S extends TSchema>(
  path: string,
  schema: S,
  opts: { maxErrors?: number } = {},
): Promise<JsonlResult<Static<S>>> {
  const maxErrors = opts.maxErrors ?? 1000;
  const rl = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  const records: Static<S>[] = [];
  const errors: FieldError[] = [];
  let line = 0;
  for await (const text of rl) {
    line++;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      if (errors.length < maxErrors) errors.push({ line, field: '/', message: `invalid JSON: ${(err as Error).message}` });
      continue;
    }
    const errs = fieldErrors(schema, value);
    if (errs.length > 0) {
      for (const e of errs) if (errors.length < maxErrors) errors.push({ line, field: e.field, message: e.message });
      continue;
    }
    records.push(value as Static<S>);
  }
  return { records, errors, lines: line };
}

/** Writes records as JSON Lines, honouring back-pressure. */
export async function writeJsonl(path: string, records: Iterable<unknown>): Promise<void> {
  const out = createWriteStream(path, 'utf8');
  for (const r of records) {
    if (!out.write(JSON.stringify(r) + '\n')) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

export function formatFieldError(e: FieldError): string {
  const where = e.line !== undefined ? `line ${e.line}` : e.index !== undefined ? `index ${e.index}` : 'record';
  return `${where}: ${e.field} ${e.message}`;
}
