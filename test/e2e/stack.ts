/** The end-to-end tests' client for the shared cluster with a real node (set up by test/node-global-setup.ts). */
import { inject } from 'vitest';
import { nodeClusterClient } from '../../hack/node/cluster-client.js';

export { imageParts, until } from '../../hack/node/cluster-client.js';

const client = nodeClusterClient(inject('kubeconfigPath'), inject('nodeImages'), inject('nodeIp'));

export const images = () => client.images;
export const {
  k,
  kJson,
  apply,
  helm,
  restrictedNamespace,
  deleteNamespace,
  API_KEY,
  createRecommender,
  getRecommender,
  waitJob,
  seedAndTrain,
  retrain,
  condition,
  waitRecommenderReady,
  pods,
  installOperatorChart,
  ensureOperator,
} = client;
