/**
 * Reading the audit directory of every writer: a decision by its id, the lines about a shopper (export),
 * and redaction of a shopper in place. Lines are found by byte search, parsed only when they match.
 *
 * Redaction overwrites `"user":"<pseudonym>"` with `"user":null` and spaces, byte for byte the same
 * length, at the same offset: the file's other lines do not move, so it is safe while its writer keeps
 * appending (its own descriptor writes at the end), safe to repeat, and the chain still verifies because
 * the user is not hashed (see record.ts).
 */
import { open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checker } from '../data/validate.js';
import { uuidV7Time } from '../recommendation-id.js';
import { fileOpenedAt } from './file-sink.js';
import { AuditLine, DecisionLine, decisionView, type DecisionView, type OutcomeRecord } from './record.js';

const isDecisionLine = checker(DecisionLine);
const isLine = checker(AuditLine);

/** The decision line at byte `at` with its outcome (earlier in the same file), or undefined. */
function resolve(buf: Buffer, at: number): DecisionView | undefined {
  const text = lineAround(buf, at);
  if (text === undefined) return undefined;
  const line: unknown = JSON.parse(text);
  if (!isDecisionLine.Check(line)) return undefined;
  const needle = Buffer.from(`"digest":"${line.rec.outcome}"`);
  for (let o = buf.lastIndexOf(needle, at); o >= 0; o = o === 0 ? -1 : buf.lastIndexOf(needle, o - 1)) {
    const t = lineAround(buf, o);
    const candidate: unknown = t === undefined ? undefined : JSON.parse(t);
    if (isLine.Check(candidate) && candidate.rec.type === 'outcome') return decisionView(line, candidate.rec as OutcomeRecord);
  }
  return undefined; // its outcome line is gone: the verifier reports it
}

/** Every writer's audit files (or one writer's), oldest first within a writer. */
async function writerFiles(root: string, only?: string): Promise<string[][]> {
  let writers: string[];
  try {
    writers = only === undefined ? (await readdir(root)).sort() : [only];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: string[][] = [];
  for (const w of writers) {
    let names: string[];
    try {
      names = await readdir(join(root, w));
    } catch {
      continue;
    }
    out.push(names.filter((n) => fileOpenedAt(n) !== undefined).sort().map((n) => join(root, w, n)));
  }
  return out;
}

async function readIfPresent(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // removed by retention meanwhile
    throw err;
  }
}

/** The complete line around byte `at`, or undefined if it is not finished yet. */
function lineAround(buf: Buffer, at: number): string | undefined {
  const start = buf.lastIndexOf(0x0a, at) + 1;
  const end = buf.indexOf(0x0a, at);
  return end < 0 ? undefined : buf.toString('utf8', start, end);
}

/**
 * The files that can hold a record made at `time`: per writer, the last file opened before it and the
 * one after (a record is written up to a batch delay after it is made). All files when the time is unknown.
 */
function filesAround(files: string[], time: number | undefined): string[] {
  if (time === undefined) return files;
  let last = -1;
  files.forEach((f, i) => {
    if (fileOpenedAt(f)! <= time) last = i;
  });
  return files.slice(Math.max(0, last), last + 2);
}

export async function findDecision(root: string, id: string): Promise<DecisionView | undefined> {
  const needle = Buffer.from(`"id":${JSON.stringify(id)}`);
  const time = uuidV7Time(id);
  for (const files of await writerFiles(root)) {
    for (const f of filesAround(files, time)) {
      const buf = await readIfPresent(f);
      if (!buf) continue;
      for (let at = buf.indexOf(needle); at >= 0; at = buf.indexOf(needle, at + needle.length)) {
        const view = resolve(buf, at);
        if (view?.id === id) return view;
      }
    }
  }
  return undefined;
}

function userNeedles(pseudonyms: readonly string[]): Buffer[] {
  return pseudonyms.map((p) => Buffer.from(`"user":${JSON.stringify(p)}`));
}

/** The decisions about a shopper (any of its pseudonyms), oldest first per writer, at most `max`. */
export async function decisionsOf(root: string, pseudonyms: readonly string[], max = 10_000): Promise<{ lines: DecisionView[]; truncated: boolean }> {
  const needles = userNeedles(pseudonyms);
  const lines: DecisionView[] = [];
  for (const files of await writerFiles(root)) {
    for (const f of files) {
      const buf = await readIfPresent(f);
      if (!buf) continue;
      for (const needle of needles) {
        for (let at = buf.indexOf(needle); at >= 0; at = buf.indexOf(needle, at + needle.length)) {
          const view = resolve(buf, at);
          if (!view) continue;
          if (lines.length >= max) return { lines, truncated: true };
          lines.push(view);
        }
      }
    }
  }
  return { lines, truncated: false };
}

/** Redacts a shopper (any of its pseudonyms) in every audit file under `root` (or one writer's); returns the lines redacted. */
export async function redactUsers(root: string, pseudonyms: readonly string[], writer?: string): Promise<number> {
  const needles = userNeedles(pseudonyms);
  let redacted = 0;
  for (const files of await writerFiles(root, writer)) {
    for (const f of files) redacted += await redactFile(f, needles);
  }
  return redacted;
}

async function redactFile(path: string, needles: readonly Buffer[]): Promise<number> {
  const buf = await readIfPresent(path);
  if (!buf) return 0;
  const hits: { at: number; len: number }[] = [];
  for (const needle of needles) {
    for (let at = buf.indexOf(needle); at >= 0; at = buf.indexOf(needle, at + needle.length)) {
      if (lineAround(buf, at) !== undefined) hits.push({ at, len: needle.length });
    }
  }
  if (hits.length === 0) return 0;
  // 'r+', not 'a': positional writes on an append-mode descriptor would go to the end of the file.
  const fh = await open(path, 'r+');
  try {
    const before = await fh.stat();
    for (const { at, len } of hits) {
      const replacement = Buffer.from('"user":null'.padEnd(len, ' '));
      await fh.write(replacement, 0, len, at);
    }
    // Keep the modification time: retention goes by it, and a redaction is not new audit data.
    await fh.utimes(before.atime, before.mtime);
  } finally {
    await fh.close();
  }
  return hits.length;
}

