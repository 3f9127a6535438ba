/**
 * Reading a built dashboard back: its panels, every PromQL expression it sends (panel targets, annotations and
 * the selectors of `label_values()` variables), the metric names an expression reads, and the expression with
 * its Grafana variables replaced by sample values (so promtool can parse it). The tests use these.
 */
import type { Dashboard, Panel, RowPanel, VariableModel } from '@grafana/grafana-foundation-sdk/dashboard';

export interface DashboardQuery {
  /** Where the expression lives, for failure messages: `panel "Request rate" A`, `variable instance`… */
  readonly where: string;
  readonly expr: string;
}

/** Every panel, rows excluded (a collapsed row's panels included). */
export function panelsOf(d: Dashboard): Panel[] {
  const out: Panel[] = [];
  for (const p of (d.panels ?? []) as (Panel | RowPanel)[]) {
    if (p.type === 'row') out.push(...((p as RowPanel).panels ?? []));
    else out.push(p as Panel);
  }
  return out;
}

export function rowsOf(d: Dashboard): RowPanel[] {
  return ((d.panels ?? []) as (Panel | RowPanel)[]).filter((p): p is RowPanel => p.type === 'row');
}

export function variablesOf(d: Dashboard): VariableModel[] {
  return d.templating?.list ?? [];
}

const LABEL_VALUES = /^label_values\(([\s\S]+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$/;

export function dashboardQueries(d: Dashboard): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  for (const p of panelsOf(d)) {
    for (const t of (p.targets ?? []) as { refId?: string; expr?: string }[]) {
      if (typeof t.expr !== 'string') throw new Error(`panel "${p.title}" ${t.refId}: the target has no PromQL expr`);
      out.push({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr });
    }
  }
  for (const a of d.annotations?.list ?? []) {
    const expr = (a as { expr?: string }).expr;
    if (typeof expr === 'string') out.push({ where: `annotation "${a.name}"`, expr });
  }
  for (const v of variablesOf(d)) {
    if (v.type !== 'query') continue;
    const m = LABEL_VALUES.exec(String(v.query));
    if (!m) throw new Error(`variable ${v.name}: expected label_values(<selector>, <label>), got ${JSON.stringify(v.query)}`);
    out.push({ where: `variable ${v.name}`, expr: m[1]! });
  }
  return out;
}

/** Sample values of Grafana's built-in variables, as they expand at query time. */
export const BUILTIN_VARIABLES: Readonly<Record<string, string>> = { __rate_interval: '2m', __interval: '30s', __range: '3h' };

/**
 * Replaces `$name` and `${name}` by sample values: `overrides`, else a text box variable's default, `sample` for
 * any other dashboard variable, and BUILTIN_VARIABLES. Throws on a variable the dashboard does not define.
 */
export function expandVariables(expr: string, d: Dashboard, overrides: Readonly<Record<string, string>> = {}): string {
  const values = new Map<string, string>(Object.entries(BUILTIN_VARIABLES));
  for (const v of variablesOf(d)) values.set(v.name, v.type === 'textbox' ? String(v.query) : 'sample');
  for (const [name, value] of Object.entries(overrides)) {
    if (!values.has(name)) throw new Error(`${name} is not a variable of dashboard ${d.uid}`);
    values.set(name, value);
  }
  // `$1` in label_replace() is a regex group, not a variable.
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$([A-Za-z_]\w*)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    const value = values.get(name);
    if (value === undefined) throw new Error(`${whole} is not a variable of dashboard ${d.uid} (it has ${[...values.keys()].join(', ')})`);
    return value;
  });
}

const AGGREGATIONS = new Set(['sum', 'avg', 'min', 'max', 'count', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values', 'group', 'limitk', 'limit_ratio']);
const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const KEYWORDS = new Set(['and', 'or', 'unless', 'atan2', 'bool', 'offset', 'inf', 'nan', 'start', 'end']);

/**
 * The metric names a PromQL expression reads: the bare identifiers that are not functions, aggregations,
 * keywords, labels or Grafana variables (label matchers, grouping lists, durations and strings are skipped). Throws on
 * `__name__` matchers, which it cannot see through.
 */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  let i = 0;
  const skipSpace = () => {
    while (i < expr.length && /\s/.test(expr[i]!)) i++;
  };
  const skipString = () => {
    const quote = expr[i++];
    while (i < expr.length && expr[i] !== quote) i += expr[i] === '\\' ? 2 : 1;
    i++;
  };
  const skipBalanced = (open: string, close: string) => {
    let depth = 0;
    while (i < expr.length) {
      const c = expr[i]!;
      if (c === '"' || c === "'" || c === '`') {
        skipString();
        continue;
      }
      if (c === open) depth++;
      else if (c === close && --depth === 0) {
        i++;
        return;
      }
      i++;
    }
    throw new Error(`unbalanced ${open}${close} in ${expr}`);
  };
  while (i < expr.length) {
    const c = expr[i]!;
    if (/\s/.test(c)) i++;
    else if (c === '"' || c === "'" || c === '`') skipString();
    else if (c === '{') {
      const start = i;
      skipBalanced('{', '}');
      if (expr.slice(start, i).includes('__name__')) throw new Error(`a __name__ matcher hides the metric name: ${expr}`);
    } else if (c === '[') skipBalanced('[', ']');
    else if (c === '#') while (i < expr.length && expr[i] !== '\n') i++;
    else if (c === '$') {
      // A Grafana variable ($name, ${name}) stands for a value, not a metric.
      i++;
      if (expr[i] === '{') skipBalanced('{', '}');
      else while (i < expr.length && /\w/.test(expr[i]!)) i++;
    }
    else if (/[0-9.]/.test(c)) while (i < expr.length && /[0-9a-zA-Z._]/.test(expr[i]!)) i++;
    else if (/[a-zA-Z_:]/.test(c)) {
      const start = i;
      while (i < expr.length && /[a-zA-Z0-9_:]/.test(expr[i]!)) i++;
      const word = expr.slice(start, i);
      const lower = word.toLowerCase();
      skipSpace();
      const next = expr[i];
      if (GROUPING.has(lower)) {
        if (next === '(') skipBalanced('(', ')');
      } else if (next === '(' || AGGREGATIONS.has(lower) || KEYWORDS.has(lower)) {
        // A function or aggregation call, or a keyword.
      } else names.add(word);
    } else i++;
  }
  return [...names].sort();
}

export interface Selector {
  readonly metric: string;
  /** Label name → the value of an equality matcher, or undefined for `!=`, `=~` and `!~`. */
  readonly matchers: ReadonlyMap<string, string | undefined>;
}

/** The `metric{…}` selectors of an expression, with their matchers. */
export function selectorsOf(expr: string): Selector[] {
  const out: Selector[] = [];
  for (const m of expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}/g)) {
    const matchers = new Map<string, string | undefined>();
    for (const l of m[2]!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!=|!~|=)\s*"((?:[^"\\]|\\.)*)"/g)) matchers.set(l[1]!, l[2] === '=' ? l[3] : undefined);
    out.push({ metric: m[1]!, matchers });
  }
  return out;
}

/** The labels of the `by`, `without`, `on`, `ignoring` and `group_*` clauses of an expression. */
export function groupingLabels(expr: string): string[] {
  const out = new Set<string>();
  for (const m of expr.matchAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g)) {
    for (const l of m[1]!.split(',')) if (l.trim()) out.add(l.trim());
  }
  return [...out].sort();
}

/** The label a `label_values(<selector>, <label>)` variable offers. */
export function variableLabel(v: VariableModel): string | undefined {
  return LABEL_VALUES.exec(String(v.query))?.[2];
}
