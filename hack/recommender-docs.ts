/**
 * `npm run docs:recommender`: rewrites the generated tables of the recommender's pages: the metrics
 * (docs/metrics.md, from the service's registry) and the environment variables (docs/recommender.md,
 * from recommender/src/env.ts). recommender/test/docs.test.ts fails while they are stale.
 */
import { metricsTable } from '../recommender/src/api/metrics-doc.js';
import { envTable } from '../recommender/src/env.js';
import { docPath, replaceReadmeSection } from './readme.js';

export const METRICS_SECTION = 'metrics';
export const ENV_SECTION = 'service-env';

export async function generatedSections(): Promise<{ page: string; section: string; content: string }[]> {
  return [
    { page: docPath('metrics.md'), section: METRICS_SECTION, content: await metricsTable() },
    { page: docPath('recommender.md'), section: ENV_SECTION, content: envTable() },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const { page, section, content } of await generatedSections()) {
    if (!replaceReadmeSection(section, content, page)) throw new Error(`failed to update ${page}: no <!-- ${section}:start --> / <!-- ${section}:end --> markers`);
    process.stdout.write(`wrote the ${section} table of ${page}\n`);
  }
}
