/**
 * The metrics table of docs/metrics.md, generated from the service's own registry (so the page cannot
 * drift from what /metrics exports); `npm run docs:recommender` writes it, a test checks it.
 */
import { createMetrics } from './metrics.js';
import { withTrustMetrics } from './trust-metrics.js';

interface Described {
  name: string;
  help: string;
  type: string;
  labelNames?: readonly string[];
}

export async function metricsTable(): Promise<string> {
  const { registry } = withTrustMetrics(createMetrics());
  const types = new Map((await registry.getMetricsAsJSON()).map((m) => [m.name, String(m.type)]));
  const rows = (registry.getMetricsAsArray() as unknown as Described[])
    .filter((m) => m.name.startsWith('tandem_'))
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((m) => {
      const labels = (m.labelNames ?? []).map((l) => `\`${l}\``).join(', ') || '–';
      const series = types.get(m.name) === 'histogram' ? `\`${m.name}\` (\`_bucket\`, \`_sum\`, \`_count\`)` : `\`${m.name}\``;
      return `| ${series} | ${types.get(m.name)} | ${labels} | ${m.help.replace(/\|/g, '\\|')} |`;
    });
  return ['| metric | type | labels | what it counts |', '|---|---|---|---|', ...rows].join('\n');
}
