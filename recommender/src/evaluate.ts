/**
 * `npm run evaluate [-- --catalog F --events F --config F --json]`: temporal-split offline
 * evaluation of cross-sell against a popularity baseline (demo shop by default).
 */
import { parseArgs } from 'node:util';
import { loadConfigFile } from './config.js';
import { loadInputs } from './cli/inputs.js';
import { fmtMs, progressPrinter } from './cli/progress.js';
import { evaluateSplit, temporalSplit, type RankMetrics } from './evaluate-core.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { catalog: { type: 'string' }, events: { type: 'string' }, config: { type: 'string' }, json: { type: 'boolean' } },
  });
  const cfg = loadConfigFile(values.config);
  const inputs = await loadInputs(values);
  const t0 = performance.now();
  const split = temporalSplit(inputs.events, cfg.engine.sessionGapMinutes);
  const e = evaluateSplit(inputs.catalog, split, cfg.engine, progressPrinter('training'));
  const ms = performance.now() - t0;
  if (values.json) {
    process.stdout.write(JSON.stringify({ source: inputs.source, ...e }, null, 2) + '\n');
    return;
  }
  const row = (name: string, m: RankMetrics): string =>
    `| ${name.padEnd(12)} | ${m.hr10.toFixed(3)} | ${m.ndcg10.toFixed(3)} | ${m.precision5.toFixed(3)} | ${(m.coverage * 100).toFixed(1).padStart(5)}% |`;
  const ratio = e.popularity.hr10 > 0 ? e.crossSell.hr10 / e.popularity.hr10 : Infinity;
  process.stdout.write(
    [
      `Offline evaluation on ${inputs.source}: temporal split, ${e.queries} held-out baskets (each shopper's last order), ${fmtMs(ms)}`,
      '',
      '| model        | HR@10 | NDCG@10 | P@5   | coverage |',
      '|--------------|-------|---------|-------|----------|',
      row('cross-sell', e.crossSell),
      row('popularity', e.popularity),
      '',
      `cross-sell HR@10 is ${ratio.toFixed(1)}× popularity's (target ≥ 2×): ${ratio >= 2 ? 'PASS' : 'FAIL'}`,
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
