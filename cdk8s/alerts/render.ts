/**
 * From the alert definitions to rule groups: what a Recommender's PrometheusRule, the operator's PrometheusRule and
 * a plain Prometheus rule file (`rule_files:`, `promtool check rules`) contain.
 */
import type { RecommenderSpec } from '../api/v1alpha1/recommender.js';
import type { RecommenderNames } from '../names.js';
import { sloAlerts, sloRecordingRules } from './slo.js';
import { symptomAlerts } from './symptoms.js';
import type { Alert, AlertRule, RuleGroup } from './types.js';

/** Every alert of one Recommender, SLO burn rates first. */
export function recommenderAlerts(names: RecommenderNames, spec: RecommenderSpec): Alert[] {
  return [...sloAlerts(names, spec), ...symptomAlerts(names, spec)];
}

/** The alert rules alone (as the PrometheusRule holds them). */
export function recommenderAlertRules(names: RecommenderNames, spec: RecommenderSpec): AlertRule[] {
  return recommenderAlerts(names, spec).map((a) => a.rule);
}

/** The rule groups of one Recommender's PrometheusRule: the SLO records, the SLO alerts, the symptoms. */
export function recommenderRuleGroups(names: RecommenderNames, spec: RecommenderSpec): RuleGroup[] {
  const prefix = `tandem.recommender.${names.instance}`;
  return [
    { name: `${prefix}.slo-records`, rules: sloRecordingRules(names, spec) },
    { name: `${prefix}.slo-alerts`, rules: sloAlerts(names, spec).map((a) => a.rule) },
    { name: `${prefix}.symptoms`, rules: symptomAlerts(names, spec).map((a) => a.rule) },
  ];
}

/** A Prometheus rule file: `{groups: [...]}`, as `rule_files:` and promtool read it. */
export function ruleFile(groups: readonly RuleGroup[]): { groups: readonly RuleGroup[] } {
  return { groups };
}
