/**
 * Rewrites the block between `<!-- NAME:start -->` and `<!-- NAME:end -->` of the README (benchmarks write their
 * figures there) or of a page under docs/ (generated tables).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const README_PATH = join(ROOT, 'README.md');
/** A page of the manual, e.g. `docPath('chart.md')`. */
export const docPath = (page: string): string => join(ROOT, 'docs', page);

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
