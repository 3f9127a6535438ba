/**
 * The experiments file (`TANDEM_EXPERIMENTS_FILE`): A/B experiments, each with variants, their traffic
 * weights and, per variant, the model version and the serve-time engine parameters to use. The render
 * writes `{experiments: [...]}`; a bare list of variants (what older renders wrote) is one experiment
 * named `default`. An answer belongs to at most one experiment: the first one listed for its intent.
 */
import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import YAML from 'yaml';
import { EngineConfig } from '../config.js';
import { checker, fieldErrors } from '../data/validate.js';
import { Intent } from '../schemas.js';

const Name = Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 });

/** The engine parameters that act at serve time, so a variant can change them without a retrain. */
export const VariantEngine = Type.Partial(Type.Pick(EngineConfig, ['shrinkage', 'upsellBand', 'marginWeight', 'coldStartMinBaskets']), {
  additionalProperties: false,
});
export type VariantEngine = Static<typeof VariantEngine>;

export const Variant = Type.Object(
  {
    name: Name,
    weight: Type.Integer({ minimum: 0, maximum: 100, description: 'Share of the traffic, percent.' }),
    modelVersion: Type.Optional(Type.String({ maxLength: 100, description: 'Serve this model version to the variant; the main model when unset.' })),
    engine: Type.Optional(VariantEngine),
  },
  { additionalProperties: false },
);
export type Variant = Static<typeof Variant>;

export const Experiment = Type.Object(
  {
    name: Name,
    intents: Type.Optional(Type.Array(Intent, { minItems: 1, description: 'The intents it applies to; all when unset.' })),
    variants: Type.Array(Variant, { minItems: 2, maxItems: 15, description: 'The first variant is the control.' }),
  },
  { additionalProperties: false },
);
export type Experiment = Static<typeof Experiment>;

const ExperimentList = Type.Object({ experiments: Type.Array(Experiment, { maxItems: 20 }) }, { additionalProperties: false });
const LegacyVariants = Type.Array(Variant, { maxItems: 15 });
export const ExperimentsFile = Type.Union([ExperimentList, LegacyVariants]);

export class ExperimentsError extends Error {
  override readonly name = 'ExperimentsError';
}

/** Validates the file's content: weights sum to 100, names unique. An empty list means no experiment. */
export function parseExperiments(input: unknown): Experiment[] {
  if (!checker(ExperimentsFile).Check(input)) {
    const branch = Array.isArray(input) ? LegacyVariants : ExperimentList; // the branch meant, for errors that name fields
    const what = fieldErrors(branch, input).slice(0, 5).map((e) => `'${e.field}' ${e.message}`);
    throw new ExperimentsError(`invalid experiments file: ${what.join('; ')}`);
  }
  const experiments = Array.isArray(input) ? (input.length === 0 ? [] : [{ name: 'default', variants: input }]) : input.experiments;
  const names = new Set<string>();
  for (const e of experiments) {
    if (names.has(e.name)) throw new ExperimentsError(`invalid experiments file: experiment '${e.name}' appears twice`);
    names.add(e.name);
    if (e.variants.length < 2) throw new ExperimentsError(`invalid experiments file: experiment '${e.name}' needs at least two variants`);
    const sum = e.variants.reduce((s, v) => s + v.weight, 0);
    if (sum !== 100) throw new ExperimentsError(`invalid experiments file: the weights of experiment '${e.name}' sum to ${sum}, not 100`);
    const variants = new Set<string>();
    for (const v of e.variants) {
      if (variants.has(v.name)) throw new ExperimentsError(`invalid experiments file: experiment '${e.name}' has variant '${v.name}' twice`);
      variants.add(v.name);
      const band = v.engine?.upsellBand;
      if (band && band.min > band.max) {
        throw new ExperimentsError(`invalid experiments file: variant '${e.name}/${v.name}' 'engine.upsellBand.min' (${band.min}) must be ≤ 'max' (${band.max})`);
      }
    }
  }
  return experiments;
}

/** Reads the experiments file (YAML or JSON); no file means no experiment. */
export function loadExperimentsFile(path: string | undefined): Experiment[] {
  if (!path) return [];
  let raw: unknown;
  try {
    raw = YAML.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ExperimentsError(`failed to read experiments file ${path}: ${(err as Error).message}`);
  }
  return parseExperiments(raw ?? []);
}
