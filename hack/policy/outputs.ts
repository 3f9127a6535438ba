/**
 * Every manifest Tandem hands a user, rendered into one directory for the policy checkers: the install bundle
 * from `npm run synth` (cluster-wide and namespaced), the examples it renders (the Spark one with the packing
 * Job the operator adds after a run), and the Helm chart with its default values and with representative ones.
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { validateRecommender } from '../../cdk8s/api/v1alpha1/validate.js';
import { toYaml } from '../../cdk8s/render.js';
import { packJobs } from '../../cdk8s/spark-training.js';
import { runSynth } from '../../cdk8s/synth.js';
import { helmTemplateYaml } from '../../charts/test/helm.js';

/** Chart values a platform team would set, each render checked on its own. */
export const CHART_VALUES: Readonly<Record<string, object>> = {
  'chart-default': {},
  'chart-namespaced': {
    namespace: { create: true },
    watchNamespaces: ['shop', 'outlet'],
    replicas: 3,
    image: { digest: `sha256:${'0'.repeat(64)}` },
    networkPolicy: { apiServer: { cidrs: ['10.96.0.1/32'], ports: [6443] }, dns: { cidrs: ['169.254.20.10/32'] } },
    serviceMonitor: { enabled: true },
  },
};

export interface RenderedOutput {
  /** e.g. `install.yaml`, `examples/recommender.yaml`, `chart-default.yaml` */
  readonly name: string;
  readonly path: string;
}

/** Renders every output under `dir`; throws with synth's or helm's words when one cannot be rendered. */
export function renderOutputs(dir: string, repo: string): RenderedOutput[] {
  const errors: string[] = [];
  const synth = (args: string[]) => {
    if (runSynth(args, repo, (l) => errors.push(l)) !== 0) throw new Error(`npm run synth ${args.join(' ')} failed:\n${errors.join('\n')}`);
  };
  synth(['-o', join(dir, 'synth')]);
  synth(['-o', join(dir, 'synth-namespaced'), '--watch-namespace', 'shop', '--watch-namespace', 'outlet']);
  const outputs: RenderedOutput[] = [
    { name: 'install.yaml', path: join(dir, 'synth', 'install.yaml') },
    { name: 'install-namespaced.yaml', path: join(dir, 'synth-namespaced', 'install.yaml') },
    ...readdirSync(join(dir, 'synth', 'examples'))
      .sort()
      .map((f) => ({ name: `examples/${f}`, path: join(dir, 'synth', 'examples', f) })),
  ];
  // The operator adds a packing Job per successful Spark run (cdk8s/spark-training.ts): review one with the
  // objects of its Recommender, as the cluster would hold them.
  const example = validateRecommender(parse(readFileSync(join(repo, 'examples', 'recommender-spark.yaml'), 'utf8')));
  if (!example.ok) throw new Error(`examples/recommender-spark.yaml: ${example.errors.join('; ')}`);
  appendFileSync(join(dir, 'synth', 'examples', 'recommender-spark.yaml'), `---\n${toYaml(packJobs(example.value, ['megastore-spark-1796176767176000000']))}`);
  mkdirSync(join(dir, 'chart'), { recursive: true });
  for (const [name, values] of Object.entries(CHART_VALUES)) {
    const path = join(dir, 'chart', `${name}.yaml`);
    writeFileSync(path, helmTemplateYaml(values, { includeCrds: true }));
    outputs.push({ name: `${name}.yaml`, path });
  }
  return outputs;
}
