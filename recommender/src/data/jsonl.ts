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

/**
 * Streams a JSON Lines file, validating each line: `onRecord` gets the good ones, bad lines
 * are reported by number and field (blank lines are skipped).
 */
export async function forEachJsonl<S extends TSchema>(
  path: string,
  schema: S,
  onRecord: (value: Static<S>, line: number) => void,
  onError: (e: FieldError) => void,
): Promise<number> {
  const rl = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let line = 0;
  for await (const text of rl) {
    line++;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      onError({ line, field: '/', message: `invalid JSON: ${(err as Error).message}` });
      continue;
    }
    const errs = fieldErrors(schema, value);
    if (errs.length > 0) {
      for (const e of errs) onError({ line, field: e.field, message: e.message });
      continue;
    }
    onRecord(value as Static<S>, line);
  }
  return line;
}

/** Reads a whole JSON Lines file (see forEachJsonl); keeps at most `maxErrors` errors. */
export async function readJsonl<S extends TSchema>(
  path: string,
  schema: S,
  opts: { maxErrors?: number } = {},
): Promise<JsonlResult<Static<S>>> {
  const maxErrors = opts.maxErrors ?? 1000;
  const records: Static<S>[] = [];
  const errors: FieldError[] = [];
  const lines = await forEachJsonl(
    path,
    schema,
    (r) => records.push(r),
    (e) => {
      if (errors.length < maxErrors) errors.push(e);
    },
  );
  return { records, errors, lines };
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
