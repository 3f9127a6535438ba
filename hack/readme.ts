/** Rewrites the README block between `<!-- NAME:start -->` and `<!-- NAME:end -->` (benchmarks write their figures there). */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const README_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', 'README.md');

/** Returns false (and changes nothing) when the README lacks the markers. */
export function replaceReadmeSection(name: string, content: string, path = README_PATH): boolean {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const text = readFileSync(path, 'utf8');
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i === -1 || j < i) return false;
  writeFileSync(path, `${text.slice(0, i + start.length)}\n${content.trim()}\n${text.slice(j)}`);
  return true;
}
