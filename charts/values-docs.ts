/**
 * The README's values table, read from values.yaml itself: every key documented with a `# -- ` comment
 * (helm-docs style, continued on the following `# ` lines) is a row, with its default as JSON.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export interface ValueDoc {
  /** Dotted path, e.g. `image.pullPolicy`. */
  readonly key: string;
  readonly defaultValue: unknown;
  readonly description: string;
}

/** The documented keys of a values.yaml, in file order. */
export function valueDocs(text: string): ValueDoc[] {
  const values = parse(text) as Record<string, unknown>;
  const stack: { indent: number; key: string }[] = [];
  const docs: ValueDoc[] = [];
  let pending: string[] | undefined;
  for (const line of text.split('\n')) {
    const doc = /^\s*# -- (.*)$/.exec(line);
    const more = /^\s*# (.*)$/.exec(line);
    const key = /^(\s*)([A-Za-z][\w-]*):/.exec(line);
    if (doc) pending = [doc[1]!];
    else if (more && pending) pending.push(more[1]!);
    else if (key) {
      const indent = key[1]!.length;
      while (stack.length > 0 && stack[stack.length - 1]!.indent >= indent) stack.pop();
      stack.push({ indent, key: key[2]! });
      if (pending) {
        const path = stack.map((s) => s.key);
        const defaultValue = path.reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], values);
        docs.push({ key: path.join('.'), defaultValue, description: pending.join(' ') });
      }
      pending = undefined;
    } else if (line.trim() === '') pending = undefined;
  }
  return docs;
}

/** The markdown table of the chart's values. */
export function valuesTable(chartDir: string): string {
  const rows = valueDocs(readFileSync(join(chartDir, 'values.yaml'), 'utf8')).map(
    (d) => `| \`${d.key}\` | \`${JSON.stringify(d.defaultValue)}\` | ${d.description.replaceAll('|', '\\|')} |`,
  );
  return ['| value | default | description |', '|---|---|---|', ...rows].join('\n');
}
