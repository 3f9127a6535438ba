/** The public surface of `cdk8s/`: the Recommender chart, the install bundle, synth helpers and constants. */
export * from './recommender-chart.js';
export { InstallBundleChart, OPERATOR_RBAC, renderInstallBundle, type InstallBundleOptions, type PolicyRule } from './install-bundle.js';
export { KIND_ORDER, chartObjects, sortObjects, toYaml } from './render.js';
export { recommenderAlerts, recommenderAlertRules, recommenderRuleGroups } from './alerts/render.js';
export { operatorRuleGroups } from './alerts/operator.js';
export type { Alert, AlertRule, RecordingRule, RuleGroup, Severity } from './alerts/types.js';
export * from './constants.js';
