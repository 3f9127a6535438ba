/** The operator as the end-to-end tests install it: from the Helm chart, on the node's images, reaching the API server by its address. */
import { inject } from 'vitest';
import { OPERATOR_NAME, OPERATOR_NAMESPACE } from '../../cdk8s/constants.js';
import { CHART_DIR } from '../../charts/generate.js';
import { NODE_API_PORT } from '../../hack/control-plane.js';
import { helm, imageParts, images, k } from './stack.js';

/** `helm install` of charts/tandem-operator with the locally built image. */
export async function installOperatorChart(): Promise<void> {
  const image = imageParts(images().operator);
  await helm([
    'install', OPERATOR_NAME, CHART_DIR, '-n', OPERATOR_NAMESPACE, '--create-namespace',
    '--set', `image.repository=${image.repository}`,
    '--set', `image.tag=${image.tag}`,
    // The operator may reach the API server by address only: here the node's, on kubeadm's port.
    '--set', `networkPolicy.apiServer.cidrs={${inject('nodeIp')}/32}`,
    '--set', `networkPolicy.apiServer.ports={${NODE_API_PORT}}`,
    '--wait', '--timeout=5m',
  ]);
}

/** Installs the chart unless a release is there already (test files share one operator). */
export async function ensureOperator(): Promise<void> {
  const installed = await helm(['status', OPERATOR_NAME, '-n', OPERATOR_NAMESPACE]).then(() => true, () => false);
  if (!installed) await installOperatorChart();
  await k(['-n', OPERATOR_NAMESPACE, 'rollout', 'status', `deployment/${OPERATOR_NAME}`, '--timeout=240s']);
}
