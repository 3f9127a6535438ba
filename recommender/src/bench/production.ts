/**
 * The node flags the scoring pod runs with under the default Recommender (1Gi memory limit), so the
 * bench measures the service as deployed. cdk8s/recommender-chart.test.ts checks this against
 * `scoringNodeOptions` of the default spec.
 */
export const DEFAULT_POD_NODE_OPTIONS = '--max-old-space-size=512';
