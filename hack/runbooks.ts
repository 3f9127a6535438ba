/**
 * `npm run runbooks`: writes the generated block of every runbook in docs/runbooks/ (the alert's rules as rendered
 * for the example Recommender or the operator) and the index in docs/runbooks/README.md. A runbook that does not
 * exist yet is reported, not invented: the prose around the block is written by hand.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ALERT_SECTION, INDEX_SECTION, alertBlock, alertsByName, indexTable } from '../cdk8s/alerts/runbooks.js';
import { RecommenderSpecSchema, type RecommenderSpec } from '../cdk8s/api/v1alpha1/recommender.js';
import { applyDefaults } from '../cdk8s/api/v1alpha1/validate.js';
import { docPath, replaceReadmeSection } from './readme.js';

const RUNBOOKS = docPath('runbooks');
const byName = alertsByName(applyDefaults(RecommenderSpecSchema, {}) as RecommenderSpec);
let missing = 0;
for (const [name, alerts] of byName) {
  const path = join(RUNBOOKS, `${name}.md`);
  if (!existsSync(path) || !replaceReadmeSection(ALERT_SECTION, alertBlock(name, alerts), path)) {
    process.stderr.write(`docs/runbooks/${name}.md is missing, or has no <!-- ${ALERT_SECTION}:start --> marker\n`);
    missing++;
  }
}
if (!replaceReadmeSection(INDEX_SECTION, indexTable(byName), join(RUNBOOKS, 'README.md'))) {
  process.stderr.write(`docs/runbooks/README.md has no <!-- ${INDEX_SECTION}:start --> marker\n`);
  missing++;
}
process.stderr.write(`wrote the generated blocks of ${byName.size - missing} runbooks\n`);
process.exitCode = missing > 0 ? 1 : 0;
