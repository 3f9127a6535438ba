/** The public surface of `cdk8s/`: the Recommender chart, the install bundle, synth helpers and constants. */
export * from './recommender-chart.js';
export { InstallBundleChart, OPERATOR_RBAC, renderInstallBundle, type InstallBundleOptions, type PolicyRule } from './install-bundle.js';
export { KIND_ORDER, chartObjects, sortObjects, toYaml } from './render.js';
export { recommenderAlertRules, type AlertRule } from './monitoring.js';
export * from './constants.js';
