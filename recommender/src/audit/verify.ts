/**
 * Verifies audit files: the files of each writer (one directory per scoring pod) are checked as one
 * chain, oldest first (file names sort by the time they were opened). Used by `npm run audit:verify`.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { ChainVerifier } from './chain.js';

export interface FileProblem {
  file: string;
  line: number;
  problem: string;
}

export interface VerifyReport {
  ok: boolean;
  files: number;
  records: number;
  redacted: number;
  problems: FileProblem[];
  /** Per writer directory, the hash of its last line (compare with a copy kept elsewhere). */
  heads: Record<string, string>;
}

/** Audit files under the given paths (files, or directories searched recursively). */
export async function auditFiles(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const s = await stat(p);
    if (s.isDirectory()) {
      for (const e of await readdir(p, { recursive: true, withFileTypes: true })) {
        if (e.isFile() && e.name.endsWith('.jsonl')) out.push(join(e.parentPath, e.name));
      }
    } else out.push(p);
  }
  return out;
}

export async function verifyFiles(paths: readonly string[]): Promise<VerifyReport> {
  const files = await auditFiles(paths);
  const byWriter = new Map<string, string[]>();
  for (const f of files) {
    const dir = dirname(f);
    byWriter.set(dir, [...(byWriter.get(dir) ?? []), f]);
  }
  const report: VerifyReport = { ok: true, files: files.length, records: 0, redacted: 0, problems: [], heads: {} };
  for (const [dir, list] of byWriter) {
    const verifier = new ChainVerifier();
    for (const file of list.sort((a, b) => basename(a).localeCompare(basename(b)))) {
      verifier.startFile();
      const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
      let n = 0;
      for await (const text of rl) {
        n++;
        if (text === '') {
          report.problems.push({ file, line: n, problem: 'is empty: a line was blanked' });
          continue;
        }
        for (const p of verifier.check(text, n)) report.problems.push({ file, ...p });
      }
    }
    report.records += verifier.records;
    report.redacted += verifier.redacted;
    if (verifier.head) report.heads[dir] = verifier.head;
  }
  report.ok = report.problems.length === 0;
  return report;
}
