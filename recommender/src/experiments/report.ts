/**
 * The experiment report: per variant the counts, conversion rate and, against the control (the first
 * variant), the uplift, a two-proportion z-test p-value and a confidence interval, and one verdict in
 * plain words. Several variants are each compared with the control at a Bonferroni-corrected level, so
 * "wins at 95%" stays true however many variants there are. Pure: counts in, report out.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { Experiment } from './config.js';
import { twoProportionZTest } from './stats.js';

export const VariantCounts = Type.Object(
  {
    impressions: Type.Integer({ minimum: 0, description: 'Answers shown.' }),
    clicks: Type.Integer({ minimum: 0, description: 'Answers with a view or add-to-cart that carried their recommendationId.' }),
    conversions: Type.Integer({ minimum: 0, description: 'Answers with a purchase that carried their recommendationId.' }),
    revenue: Type.Number({ minimum: 0, description: 'price × quantity of the purchases credited.' }),
  },
  { additionalProperties: false },
);
export type VariantCounts = Static<typeof VariantCounts>;

export const VariantReport = Type.Object(
  {
    name: Type.String(),
    weight: Type.Integer(),
    ...VariantCounts.properties,
    conversionRate: Type.Number(),
    clickRate: Type.Number(),
    revenuePerImpression: Type.Number(),
    vsControl: Type.Optional(
      Type.Object(
        {
          uplift: Type.Union([Type.Number(), Type.Null()], { description: 'Relative change of the conversion rate; null when the control has none.' }),
          difference: Type.Number({ description: 'Conversion rate minus the control’s.' }),
          ci: Type.Array(Type.Number(), { minItems: 2, maxItems: 2, description: 'Confidence interval of the difference: [low, high].' }),
          z: Type.Number(),
          pValue: Type.Number({ description: 'Two-sided two-proportion z-test.' }),
          significant: Type.Boolean(),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type VariantReport = Static<typeof VariantReport>;

export const ExperimentReport = Type.Object(
  {
    experiment: Type.String(),
    control: Type.String(),
    confidence: Type.Number(),
    variants: Type.Array(VariantReport),
    verdict: Type.String({ description: 'e.g. "not enough data yet", "variant b wins at 95%".' }),
    winner: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
);
export type ExperimentReport = Static<typeof ExperimentReport>;

export interface ReportOptions {
  confidence?: number;
  /** Impressions each variant needs before a verdict. Default 100. */
  minImpressions?: number;
  /** Conversions and non-conversions each variant needs (the normal approximation). Default 5. */
  minSuccesses?: number;
}

const EMPTY: VariantCounts = { impressions: 0, clicks: 0, conversions: 0, revenue: 0 };
const pct = (x: number): string => `${(x * 100).toFixed(x !== 0 && Math.abs(x) < 0.001 ? 3 : 1)}%`;
const rate = (num: number, den: number): number => (den === 0 ? 0 : num / den);

export function buildReport(experiment: Experiment, counts: ReadonlyMap<string, VariantCounts>, opts: ReportOptions = {}): ExperimentReport {
  const confidence = opts.confidence ?? 0.95;
  const minImpressions = opts.minImpressions ?? 100;
  const minSuccesses = opts.minSuccesses ?? 5;
  const level = `${Math.round(confidence * 1000) / 10}%`;
  const [control, ...rest] = experiment.variants;
  const comparisons = Math.max(1, rest.length);
  const alpha = (1 - confidence) / comparisons;
  const c = counts.get(control!.name) ?? EMPTY;

  const variants: VariantReport[] = experiment.variants.map((v, i) => {
    const k = counts.get(v.name) ?? EMPTY;
    const out: VariantReport = {
      name: v.name,
      weight: v.weight,
      ...k,
      conversionRate: rate(k.conversions, k.impressions),
      clickRate: rate(k.clicks, k.impressions),
      revenuePerImpression: rate(k.revenue, k.impressions),
    };
    if (i > 0 && k.impressions > 0 && c.impressions > 0) {
      // The interval is at the corrected level too, so it excludes 0 exactly when the test is significant.
      const t = twoProportionZTest(k.conversions, k.impressions, c.conversions, c.impressions, 1 - alpha);
      out.vsControl = {
        uplift: t.p2 === 0 ? null : t.difference / t.p2,
        difference: t.difference,
        ci: t.ci,
        z: t.z,
        pValue: t.pValue,
        significant: t.pValue < alpha,
      };
    }
    return out;
  });

  const short = variants.find(
    (v) => v.impressions < minImpressions || v.conversions < minSuccesses || v.impressions - v.conversions < minSuccesses,
  );
  let verdict: string;
  let winner: string | null = null;
  if (short) {
    verdict =
      `not enough data yet: variant ${short.name} has ${short.impressions} impressions and ${short.conversions} conversions ` +
      `(each variant needs ≥ ${minImpressions} impressions and ≥ ${minSuccesses} conversions and non-conversions)`;
  } else {
    const better = variants.filter((v) => v.vsControl?.significant && v.vsControl.difference > 0).sort((a, b) => b.conversionRate - a.conversionRate);
    const worse = variants.filter((v) => v.vsControl?.significant && v.vsControl.difference < 0);
    const ctrl = variants[0]!;
    if (better.length > 0) {
      const w = better[0]!;
      winner = w.name;
      const uplift = w.vsControl!.uplift === null ? '' : `, ${w.vsControl!.uplift >= 0 ? '+' : ''}${pct(w.vsControl!.uplift)}`;
      verdict = `variant ${w.name} wins at ${level}: it converts ${pct(w.conversionRate)} against ${pct(ctrl.conversionRate)} for ${ctrl.name}${uplift} (p = ${w.vsControl!.pValue.toPrecision(2)})`;
    } else if (worse.length > 0) {
      const list = `${worse.map((v) => `${v.name} ${pct(v.conversionRate)}`).join(', ')} against ${pct(ctrl.conversionRate)}`;
      if (worse.length === rest.length) {
        winner = ctrl.name;
        verdict = `${ctrl.name} wins at ${level}: every variant converts worse (${list})`;
      } else verdict = `no variant beats ${ctrl.name} at ${level}, and some convert worse (${list})`;
    } else {
      const best = Math.min(...variants.slice(1).map((v) => v.vsControl?.pValue ?? 1));
      verdict = `no significant difference yet at ${level} (smallest p = ${best.toPrecision(2)}): keep the experiment running`;
    }
  }
  return { experiment: experiment.name, control: control!.name, confidence, variants, verdict, winner };
}
