/** The comparison as Markdown (pure): one table per shop, the verdict against the targets, a summary line. */
import type { Comparison, Row } from './evaluate-compare.js';

const f3 = (x: number | undefined): string => (x === undefined ? '–' : x.toFixed(3));
const pct = (x: number | undefined): string => (x === undefined ? '–' : `${(x * 100).toFixed(1)}%`);

export function comparisonTable(c: Comparison): string {
  const q = c.queries;
  const head = [
    `**${c.shop}**: ${q.crossSell} held-out baskets (cross-sell), ${q.planted} primary items with planted accessories, ` +
      `${q.personal} shoppers (personal), ${q.upSell} viewed-then-bought-pricier sessions (up-sell)` +
      (c.peer ? `; implicit ${c.peer.implicit}` : '; peer not run'),
    '',
    '| intent | method | HR@10 | NDCG@10 | recall@5 planted | noise share | coverage | valid up-sells |',
    '|---|---|---|---|---|---|---|---|',
  ];
  const rows = c.rows.map((r) => {
    const name = r.method.startsWith('Tandem') ? `**${r.method}**` : r.method;
    return `| ${r.intent} | ${name} | ${f3(r.hr10)} | ${f3(r.ndcg10)} | ${f3(r.recall5)} | ${f3(r.noise)} | ${pct(r.coverage)} | ${pct(r.valid)} |`;
  });
  return [...head, ...rows].join('\n');
}

export interface Verdict {
  shop: string;
  checks: { name: string; tandem: number; bar: number; against: string; pass: boolean }[];
}

/** The best row of `rows` other than Tandem's by `key` (highest), or undefined. */
function best(rows: Row[], key: 'hr10' | 'recall5'): Row | undefined {
  let b: Row | undefined;
  for (const r of rows) if (!r.method.startsWith('Tandem') && r[key] !== undefined && (!b || r[key] > b[key]!)) b = r;
  return b;
}

/**
 * The targets on one shop: cross-sell recall@5 of planted accessories and HR@10 at least the best
 * of baselines and peer, a noise share ≤ 0.10, and personal HR@10 at least 95% of implicit ALS's.
 */
export function verdict(c: Comparison): Verdict {
  const cross = c.rows.filter((r) => r.intent === 'cross-sell');
  const pers = c.rows.filter((r) => r.intent === 'personal');
  const tc = cross.find((r) => r.method.startsWith('Tandem'))!;
  const tp = pers.find((r) => r.method.startsWith('Tandem'))!;
  const checks: Verdict['checks'] = [];
  const rec = best(cross, 'recall5');
  if (rec && tc.recall5 !== undefined) checks.push({ name: 'cross-sell recall@5 ≥ best', tandem: tc.recall5, bar: rec.recall5!, against: rec.method, pass: tc.recall5 >= rec.recall5! });
  if (tc.noise !== undefined) checks.push({ name: 'cross-sell noise share ≤ 0.10', tandem: tc.noise, bar: 0.1, against: 'target', pass: tc.noise <= 0.1 });
  const hr = best(cross, 'hr10');
  if (hr) checks.push({ name: 'cross-sell HR@10 ≥ best', tandem: tc.hr10, bar: hr.hr10, against: hr.method, pass: tc.hr10 >= hr.hr10 });
  const als = pers.find((r) => r.method === 'implicit ALS');
  if (als) checks.push({ name: 'personal HR@10 ≥ 95% of ALS', tandem: tp.hr10, bar: 0.95 * als.hr10, against: 'implicit ALS × 0.95', pass: tp.hr10 >= 0.95 * als.hr10 });
  return { shop: c.shop, checks };
}

export function verdictTable(vs: Verdict[]): string {
  const lines = ['| shop | target | Tandem | bar | against | |', '|---|---|---|---|---|---|'];
  for (const v of vs) for (const k of v.checks) lines.push(`| ${v.shop} | ${k.name} | ${k.tandem.toFixed(3)} | ${k.bar.toFixed(3)} | ${k.against} | ${k.pass ? 'met' : '**not met**'} |`);
  return lines.join('\n');
}

/** One line for the README: how many targets were met, and each target's range over the shops (Tandem, then the bar). */
export function summaryLine(vs: Verdict[]): string {
  const all = vs.flatMap((v) => v.checks);
  const met = all.filter((k) => k.pass).length;
  const range = (xs: number[]): string => {
    const lo = Math.min(...xs).toFixed(3);
    const hi = Math.max(...xs).toFixed(3);
    return lo === hi ? lo : `${lo}–${hi}`;
  };
  const names = [...new Set(all.map((k) => k.name))];
  const parts = names.map((name) => {
    const ks = all.filter((k) => k.name === name);
    return `${name}: ${range(ks.map((k) => k.tandem))} (bar ${range(ks.map((k) => k.bar))})`;
  });
  return `${met} of ${all.length} targets met on ${vs.length} shop${vs.length === 1 ? '' : 's'} (${vs.map((v) => v.shop).join(', ')}); ${parts.join('; ')}`;
}
