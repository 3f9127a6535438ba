/**
 * The business dashboard: what one Recommender's A/B experiment earns, per variant. Impressions, click-through,
 * add-to-cart and conversion rates and attributed revenue over time, and each variant's uplift against the control
 * variant over the dashboard's time range. The counters are the service's per-variant experiment counters
 * (`cdk8s/constants.ts` Metrics.EXPERIMENT_*); an event is credited to the answer whose recommendationId it carries.
 */
import { RowBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { scoringSelector } from '../cdk8s/alerts/series.js';
import { Metrics } from '../cdk8s/constants.js';
import { build, dashboard, datasourceVariable, queryVariable, stat, timeseries } from './panels.js';
import { RecommenderVariables, recommenderVariable, selectedRecommender } from './recommender.js';

export const BUSINESS_DASHBOARD_UID = 'tandem-business';

export const BusinessVariables = {
  ...RecommenderVariables,
  EXPERIMENT: 'experiment',
  CONTROL: 'control',
} as const;

/** A rate of outcomes per impression, and its name on the panels. */
const OUTCOMES = [
  { title: 'Click-through rate', short: 'CTR', metric: Metrics.EXPERIMENT_CLICKS_TOTAL, unit: units.PercentUnit, what: 'the share of answers shown that got a click (an event that carried their recommendationId)' },
  { title: 'Add-to-cart rate', short: 'add-to-cart rate', metric: Metrics.EXPERIMENT_ADD_TO_CARTS_TOTAL, unit: units.PercentUnit, what: 'the share of answers shown followed by an add_to_cart that carried their recommendationId' },
  { title: 'Conversion rate', short: 'conversion rate', metric: Metrics.EXPERIMENT_CONVERSIONS_TOTAL, unit: units.PercentUnit, what: 'the share of answers shown followed by a purchase that carried their recommendationId' },
  { title: 'Revenue per impression', short: 'revenue per impression', metric: Metrics.EXPERIMENT_REVENUE_TOTAL, unit: units.NoUnit, what: 'the attributed revenue (shop currency) per answer shown' },
] as const;

export function businessDashboard(): Dashboard {
  const v = BusinessVariables;
  const names = selectedRecommender();
  const sel = `${scoringSelector(names)},experiment="$${v.EXPERIMENT}"`;
  const control = `${sel},variant="$${v.CONTROL}"`;
  const ri = '$__rate_interval';
  const impressions = Metrics.EXPERIMENT_IMPRESSIONS_TOTAL;
  const byVariant = (metric: string) => `sum by (variant) (rate(${metric}{${sel}}[${ri}]))`;
  // Over the whole time range: the uplift of a short window is noise.
  const total = (metric: string, matchers: string, by = ' by (variant)') => `sum${by} (increase(${metric}{${matchers}}[$__range]))`;
  const perImpression = (metric: string) => `${total(metric, sel)} / ${total(impressions, sel)}`;
  const controlPerImpression = (metric: string) => `(${total(metric, control, '')} / ${total(impressions, control, '')})`;
  const uplift = (metric: string) => `${perImpression(metric)} / on () group_left () ${controlPerImpression(metric)} - 1`;

  const b = dashboard({
    uid: BUSINESS_DASHBOARD_UID,
    title: 'Tandem / Business',
    description: "One Recommender's A/B experiment: impressions, click-through, add-to-cart and conversion rates, attributed revenue, and each variant's uplift against the control.",
  })
    .withVariable(datasourceVariable())
    .withVariable(queryVariable({ name: v.NAMESPACE, label: 'Namespace', description: 'Namespaces with a Recommender that runs an experiment.', selector: impressions, labelName: 'namespace' }))
    .withVariable(recommenderVariable(impressions))
    .withVariable(
      queryVariable({
        name: v.EXPERIMENT,
        label: 'Experiment',
        description: 'The experiment of spec.experiments whose variants are compared.',
        selector: `${impressions}{${scoringSelector(names)}}`,
        labelName: 'experiment',
      }),
    )
    .withVariable(
      queryVariable({
        name: v.CONTROL,
        label: 'Control variant',
        description: 'The variant the others are compared with (the experiment report takes the first variant of spec.experiments.variants).',
        selector: `${impressions}{${sel}}`,
        labelName: 'variant',
      }),
    )

    .withRow(new RowBuilder('Uplift against the control, over the time range'));
  for (const o of OUTCOMES) {
    b.withPanel(
      stat({
        title: `${o.title} uplift`,
        description: `Each variant's ${o.short} over the dashboard's time range relative to the control variant's (+10%: a tenth more). The ${o.short} is ${o.what}. Whether a difference is significant is in the experiment report (GET /v1/experiments/{name}/report).`,
        unit: units.PercentUnit,
        decimals: 1,
        queries: [{ expr: uplift(o.metric), legend: '{{variant}}' }],
        steps: [
          { color: 'red', value: null },
          { color: 'text', value: -0.005 },
          { color: 'green', value: 0.005 },
        ],
      }),
    );
  }
  for (const o of OUTCOMES) {
    b.withPanel(
      stat({
        title: `${o.title} over the range`,
        description: `Each variant's ${o.short} over the dashboard's time range: ${o.what}.`,
        unit: o.unit,
        decimals: 2,
        queries: [{ expr: perImpression(o.metric), legend: '{{variant}}' }],
      }),
    );
  }

  b.withRow(new RowBuilder('Per variant, over time'))
    .withPanel(
      timeseries({
        title: 'Impressions by variant',
        description: 'Recommendation answers shown per second, by variant. The split should follow the variant weights of spec.experiments.',
        unit: units.OpsPerSecond,
        min: 0,
        stacked: true,
        queries: [{ expr: byVariant(impressions), legend: '{{variant}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Attributed revenue by variant',
        description: 'Revenue per second of the purchases that carried a recommendationId of each variant (shop currency).',
        unit: units.NoUnit,
        min: 0,
        queries: [{ expr: byVariant(Metrics.EXPERIMENT_REVENUE_TOTAL), legend: '{{variant}}' }],
      }),
    );
  for (const o of OUTCOMES.filter((x) => x.unit === units.PercentUnit)) {
    b.withPanel(
      timeseries({
        title: `${o.title} by variant`,
        description: `The ${o.short} of each variant over time: ${o.what}.`,
        unit: units.PercentUnit,
        width: 8,
        min: 0,
        queries: [{ expr: `${byVariant(o.metric)} / ${byVariant(impressions)}`, legend: '{{variant}}' }],
      }),
    );
  }

  return build(b);
}
