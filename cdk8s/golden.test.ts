/**
 * Golden files: the full render of each testdata/<name>.yaml (storefront: most features on a model volume;
 * storefront-s3: models in object storage; storefront-spark: training on Spark). A change to any construct shows up here as a reviewable YAML
 * diff. Regenerate with `UPDATE_GOLDEN=1 npx vitest run --project unit cdk8s/golden`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderRecommenderFile } from './synth.js';
import { toYaml } from './render.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'testdata');

describe('the golden render', () => {
  it.each(['storefront', 'storefront-s3', 'storefront-spark'])('of testdata/%s.yaml equals testdata/%s.golden.yaml', (name) => {
    const input = join(dir, `${name}.yaml`);
    const golden = join(dir, `${name}.golden.yaml`);
    const actual = toYaml(renderRecommenderFile(readFileSync(input, 'utf8'), input));
    if (process.env.UPDATE_GOLDEN) writeFileSync(golden, actual);
    expect(actual).toBe(readFileSync(golden, 'utf8'));
  });
});
