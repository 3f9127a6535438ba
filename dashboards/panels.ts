/**
 * Building blocks shared by the Tandem dashboards, on top of `@grafana/grafana-foundation-sdk`: the Prometheus
 * data source variable, query and text box variables, and time series / stat panels that always carry a
 * title, a description and a unit, and whose queries all go to the selected data source.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import {
  AnnotationQueryBuilder,
  DashboardBuilder,
  DashboardCursorSync,
  DashboardLinkBuilder,
  DashboardLinkType,
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  TextBoxVariableBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
  type Dashboard,
  type Panel,
  type RowPanel,
  type Threshold,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanelBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesPanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';

/** The name of the data source variable every panel queries through. */
export const DATASOURCE_VARIABLE = 'datasource';
export const DATASOURCE: common.DataSourceRef = { type: 'prometheus', uid: `\${${DATASOURCE_VARIABLE}}` };

/** The Prometheus label name a Kubernetes label becomes on scraped series (`app.kubernetes.io/instance` → `app_kubernetes_io_instance`). */
export function promLabel(kubernetesLabel: string): string {
  return kubernetesLabel.replace(/[^a-zA-Z0-9_]/g, '_');
}

export interface Query {
  /** PromQL; may use the dashboard's variables and Grafana's `$__rate_interval`. */
  readonly expr: string;
  /** Legend format, e.g. `{{route}} {{status}}`. */
  readonly legend: string;
  /** Draws the series as a dashed red reference line (an objective or a limit) instead of a measurement. */
  readonly reference?: boolean;
}

export interface PanelProps {
  readonly title: string;
  /** Shown in the panel's (i) tooltip: what the panel measures, where it comes from, what good looks like. */
  readonly description: string;
  /** A Grafana unit id: `reqps`, `ops`, `wps`, `s`, `percentunit`, `bytes`, `short`, `none`… */
  readonly unit: string;
  readonly queries: readonly Query[];
  /** Grid width, out of 24. @default 12 */
  readonly width?: number;
  /** Grid height. @default 8 */
  readonly height?: number;
  readonly min?: number;
  readonly max?: number;
  readonly decimals?: number;
}

const REF_IDS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function targets(queries: readonly Query[], instant = false): DataqueryBuilder[] {
  if (queries.length === 0) throw new Error("'queries' must not be empty");
  if (queries.length > REF_IDS.length) throw new Error(`'queries' (${queries.length}) must be at most ${REF_IDS.length}`);
  return queries.map((q, i) => {
    const b = new DataqueryBuilder().refId(REF_IDS[i]!).datasource(DATASOURCE).expr(q.expr).legendFormat(q.legend);
    return instant ? b.instant() : b.range();
  });
}

/** A time series panel; `reference` queries are drawn as dashed red lines. */
export function timeseries(p: PanelProps & { readonly stacked?: boolean }): TimeseriesPanelBuilder {
  const b = new TimeseriesPanelBuilder()
    .title(p.title)
    .description(p.description)
    .datasource(DATASOURCE)
    .unit(p.unit)
    .span(p.width ?? 12)
    .height(p.height ?? 8)
    .targets(targets(p.queries))
    .lineWidth(1)
    .fillOpacity(p.stacked ? 30 : 10)
    .showPoints(common.VisibilityMode.Never)
    .legend(new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom).calcs([]))
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending));
  if (p.stacked) b.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
  if (p.min !== undefined) b.min(p.min);
  if (p.max !== undefined) b.max(p.max);
  if (p.decimals !== undefined) b.decimals(p.decimals);
  p.queries.forEach((q, i) => {
    if (!q.reference) return;
    b.overrideByQuery(REF_IDS[i]!, [
      { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } },
      { id: 'custom.fillOpacity', value: 0 },
      { id: 'custom.stacking', value: { mode: 'none', group: 'A' } },
      { id: 'color', value: { mode: 'fixed', fixedColor: 'red' } },
    ]);
  });
  return b;
}

export interface StatProps extends PanelProps {
  /** `value` shows the number; `name` shows the legend (e.g. a model version label). @default 'value' */
  readonly show?: 'value' | 'name';
  /** Colour steps, lowest first; the first step's value is ignored (it is the base colour). @default green */
  readonly steps?: readonly { readonly color: string; readonly value: number | null }[];
}

/** A stat panel of the last value of each series. */
export function stat(p: StatProps): StatPanelBuilder {
  const steps: Threshold[] = (p.steps ?? [{ color: 'green', value: null }]).map((s, i) => ({ color: s.color, value: i === 0 ? null : s.value }));
  const b = new StatPanelBuilder()
    .title(p.title)
    .description(p.description)
    .datasource(DATASOURCE)
    .unit(p.unit)
    .span(p.width ?? 6)
    .height(p.height ?? 4)
    .targets(targets(p.queries, true))
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .graphMode(common.BigValueGraphMode.None)
    .colorMode(common.BigValueColorMode.Value)
    .textMode(p.show === 'name' ? common.BigValueTextMode.Name : common.BigValueTextMode.Auto)
    .thresholds(new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps));
  if (p.min !== undefined) b.min(p.min);
  if (p.max !== undefined) b.max(p.max);
  if (p.decimals !== undefined) b.decimals(p.decimals);
  return b;
}

/** The Prometheus data source picker every query goes through. */
export function datasourceVariable(): DatasourceVariableBuilder {
  return new DatasourceVariableBuilder(DATASOURCE_VARIABLE).label('Data source').type('prometheus');
}

export interface QueryVariableProps {
  readonly name: string;
  readonly label: string;
  readonly description: string;
  /** A series selector whose label values are offered, e.g. `up{namespace="$namespace"}`. */
  readonly selector: string;
  /** The label whose values are offered. */
  readonly labelName: string;
  readonly multi?: boolean;
}

/** A variable filled from `label_values(selector, label)`, refreshed when the time range changes. */
export function queryVariable(p: QueryVariableProps): QueryVariableBuilder {
  const query = `label_values(${p.selector}, ${p.labelName})`;
  const b = new QueryVariableBuilder(p.name)
    .label(p.label)
    .description(p.description)
    .datasource(DATASOURCE)
    .query(query)
    .definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc);
  if (p.multi) b.multi(true).includeAll(true).allValue('.*').current({ text: ['All'], value: ['$__all'] });
  return b;
}

/** A free-text variable with a default, for a value Prometheus does not know (e.g. an objective from a spec). */
export function textVariable(p: { readonly name: string; readonly label: string; readonly description: string; readonly value: string }): TextBoxVariableBuilder {
  return new TextBoxVariableBuilder(p.name).label(p.label).description(p.description).defaultValue(p.value).current({ text: p.value, value: p.value });
}

/** The settings every Tandem dashboard shares: uid, tags, time range, refresh, shared crosshairs, links to the others, and Grafana's built-in annotations. */
export function dashboard(p: { readonly uid: string; readonly title: string; readonly description: string }): DashboardBuilder {
  return new DashboardBuilder(p.title)
    .uid(p.uid)
    .description(p.description)
    .tags(['tandem'])
    .timezone('browser')
    .time({ from: 'now-3h', to: 'now' })
    .refresh('30s')
    .tooltip(DashboardCursorSync.Crosshair)
    .readonly()
    .link(new DashboardLinkBuilder('Tandem dashboards').type(DashboardLinkType.Dashboards).tags(['tandem']).asDropdown(true).keepTime(true).includeVars(false).targetBlank(false).icon('external link'))
    .annotation(
      new AnnotationQueryBuilder()
        .name('Annotations & Alerts')
        .datasource({ type: 'grafana', uid: '-- Grafana --' })
        .type('dashboard')
        .builtIn(1)
        .enable(true)
        .hide(true)
        .iconColor('rgba(0, 211, 255, 1)'),
    );
}

/** An annotation that marks the moments a PromQL expression has a value (`{{label}}` in the title). */
export function promAnnotation(p: { readonly name: string; readonly expr: string; readonly title: string; readonly color: string }): AnnotationQueryBuilder {
  return new AnnotationQueryBuilder().name(p.name).datasource(DATASOURCE).enable(true).iconColor(p.color).expr(p.expr).titleFormat(p.title).step('60s');
}

/** Builds the dashboard and numbers its panels (rows included) 1, 2, 3… in layout order, so the JSON is stable. */
export function build(b: DashboardBuilder): Dashboard {
  const d = b.build();
  let id = 0;
  for (const panel of (d.panels ?? []) as (Panel | RowPanel)[]) {
    panel.id = ++id;
    for (const inner of (panel as RowPanel).panels ?? []) inner.id = ++id;
  }
  return d;
}
