/**
 * The accepted findings (hack/policy-exceptions.yaml): each names a tool, a check, the objects it applies to
 * (`Kind/namespace/name` with `*` wildcards), optionally words of the finding, and why it stays. Matching is
 * pure: a finding no exception covers is a failure, and so is an exception that covers no finding.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { Finding, Tool } from './findings.js';

export interface PolicyException {
  readonly tool: Tool;
  readonly check: string;
  /** `Kind/namespace/name` patterns, `*` matching any run of characters; one of them must match. */
  readonly objects: readonly string[];
  /** Words the finding's detail must contain (for checks that say several things, like container-resources). */
  readonly detail?: string;
  readonly reason: string;
  /** Line in the file, for messages. */
  readonly line: number;
}

const FIELDS = new Set(['tool', 'check', 'object', 'detail', 'reason']);

/** Parses the exceptions file; throws naming the line of any entry that is malformed or spans several lines. */
export function parseExceptions(text: string, file = 'hack/policy-exceptions.yaml'): PolicyException[] {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
  const list = doc.toJS() as unknown;
  if (!Array.isArray(list)) throw new Error(`${file}: must be a list of exceptions`);
  const content = text.split('\n').map((l, i) => [l, i + 1] as const).filter(([l]) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  const entryLines = content.filter(([l]) => l.startsWith('- '));
  if (entryLines.length !== list.length || content.length !== list.length) throw new Error(`${file}: ${list.length} exceptions on ${entryLines.length} lines: write each as one line, \`- {tool: …, check: …, object: …, reason: …}\``);
  return list.map((raw: Record<string, unknown>, i) => {
    const line = entryLines[i]![1];
    const where = `${file}:${line}`;
    for (const k of Object.keys(raw ?? {})) if (!FIELDS.has(k)) throw new Error(`${where}: unknown field "${k}"`);
    const str = (k: string, required = true) => {
      const v = raw?.[k];
      if (v === undefined && !required) return undefined;
      if (typeof v !== 'string' || v.trim() === '') throw new Error(`${where}: "${k}" must be a non-empty string`);
      return v;
    };
    const tool = str('tool');
    if (tool !== 'kube-score' && tool !== 'checkov') throw new Error(`${where}: "tool" must be kube-score or checkov, not "${tool}"`);
    const detail = str('detail', false);
    const object = raw?.object;
    const objects = typeof object === 'string' ? [object] : object;
    if (!Array.isArray(objects) || objects.length === 0 || !objects.every((o) => typeof o === 'string' && o !== '')) {
      throw new Error(`${where}: "object" must be a pattern or a list of patterns (Kind/namespace/name, * wildcards)`);
    }
    return { tool, check: str('check')!, objects, ...(detail ? { detail } : {}), reason: str('reason')!, line };
  });
}

export function loadExceptions(path: string): PolicyException[] {
  return parseExceptions(readFileSync(path, 'utf8'), path);
}

function glob(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

export function covers(e: PolicyException, f: Finding): boolean {
  return e.tool === f.tool && e.check === f.check && e.objects.some((o) => glob(o).test(f.object)) && (e.detail === undefined || f.detail.includes(e.detail));
}

export interface Review {
  /** Findings no exception covers: fix them, or justify them in the file. */
  readonly unexcused: Finding[];
  /** Exceptions that cover no finding of their tool any more: delete them. */
  readonly stale: PolicyException[];
}

/** Matches the findings of `tools` against the exceptions for those tools. */
export function review(findings: readonly Finding[], exceptions: readonly PolicyException[], tools: readonly Tool[]): Review {
  const relevant = exceptions.filter((e) => tools.includes(e.tool));
  return {
    unexcused: findings.filter((f) => !relevant.some((e) => covers(e, f))),
    stale: relevant.filter((e) => !findings.some((f) => covers(e, f))),
  };
}

/** One line per finding, for a failure message. */
export function describeFinding(f: Finding): string {
  return `${f.tool} ${f.check} ${f.object}: ${f.detail} (in ${f.output})`;
}
