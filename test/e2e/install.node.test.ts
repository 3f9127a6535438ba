/**
 * The operator installed the two ways a platform team installs it — the plain YAML bundle
 * (`dist/install.yaml`, as `npm run synth` writes it) and the Helm chart — running in the cluster on the
 * real node, electing a leader, and converging a Recommender whose pods really run.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { renderInstallBundle } from '../../cdk8s/install-bundle.js';
import { OPERATOR_NAME, OPERATOR_NAMESPACE, OPERATOR_POD_LABELS } from '../../cdk8s/constants.js';
import { recommenderNames } from '../../cdk8s/names.js';
import { NODE_API_PORT } from '../../hack/control-plane.js';
import {
  apply,
  createRecommender,
  deleteNamespace,
  helm,
  images,
  k,
  kJson,
  pods,
  restrictedNamespace,
  seedAndTrain,
  until,
  waitRecommenderReady,
  installOperatorChart,
} from './stack.js';
import { expectHardenedAndStable } from './hardening.js';

const MODEL_VERSION = /^\d{8}T\d{6}Z?-[0-9a-f]+$/;
const created: string[] = [];

afterAll(async () => {
  for (const ns of created) await deleteNamespace(ns);
});

async function operatorRunsAndLeads(): Promise<void> {
  await k(['-n', OPERATOR_NAMESPACE, 'rollout', 'status', `deployment/${OPERATOR_NAME}`, '--timeout=240s']);
  const running = await pods(OPERATOR_NAMESPACE, Object.entries(OPERATOR_POD_LABELS).map(([k, v]) => `${k}=${v}`).join(','));
  expect(running.length).toBeGreaterThan(0);
  for (const pod of running) expect(pod.spec.serviceAccountName).toBe(OPERATOR_NAME);
  // The Lease outlives an earlier install: wait until one of these pods holds it (identity `<pod>_<random>`).
  const names = running.map((p) => p.metadata.name);
  const holder = await until('one of the operator pods to hold the Lease', async () => {
    const lease = await kJson<{ spec?: { holderIdentity?: string } }>(['-n', OPERATOR_NAMESPACE, 'get', 'lease', OPERATOR_NAME]);
    const pod = lease.spec?.holderIdentity?.split('_')[0];
    return pod && names.includes(pod) ? pod : undefined;
  });
  expect(names).toContain(holder);
}

/** A Recommender converges: scoring and Redis pods Ready, status Ready=True, the model version the pods serve. */
async function recommenderConverges(prefix: string): Promise<void> {
  const ns = await restrictedNamespace(prefix);
  created.push(ns);
  const name = 'shop';
  await createRecommender(ns, name, { replicas: { min: 1, max: 1 }, autoscaling: { enabled: false } });
  await seedAndTrain(ns, name);
  const rec = await waitRecommenderReady(ns, name);
  const names = recommenderNames(name, ns);
  const scoring = await pods(ns, `app.kubernetes.io/instance=${name},app.kubernetes.io/component=scoring`);
  expect(scoring.map((p) => p.status.containerStatuses?.every((c) => c.ready))).toEqual([true]);
  const redis = await pods(ns, `app.kubernetes.io/instance=${name},app.kubernetes.io/component=cache`);
  expect(redis.map((p) => p.status.containerStatuses?.every((c) => c.ready))).toEqual([true]);
  expect(rec.status?.modelVersion).toMatch(MODEL_VERSION);
  expect(rec.status?.readyReplicas).toBe(1);
  expect(names.scoring).toBe(name);
  await expectHardenedAndStable(ns);
  const operatorPods = Object.entries(OPERATOR_POD_LABELS).map(([k, v]) => `${k}=${v}`).join(',');
  await expectHardenedAndStable(OPERATOR_NAMESPACE, { selector: operatorPods, token: true });
}

describe.sequential('Installing the operator on a real node', () => {
  it('When dist/install.yaml is applied, Then the operator runs as its ServiceAccount, one replica leads, and a Recommender converges', async () => {
    await helm(['uninstall', OPERATOR_NAME, '-n', OPERATOR_NAMESPACE, '--wait']).catch(() => undefined);
    // The operator may reach the API server by address only: here the node's, on kubeadm's port.
    const bundle = renderInstallBundle({ image: images().operator, apiServer: { cidrs: [`${inject('nodeIp')}/32`], ports: [NODE_API_PORT] } });
    try {
      await apply(bundle);
      await operatorRunsAndLeads();
      await recommenderConverges('bundle');
    } finally {
      // Uninstall as a user would: delete what was applied (the CRD too, so the chart installs it afresh).
      await k(['delete', '--wait=true', '--ignore-not-found', '-f', '-'], bundle.map((o) => stringify(o)).join('---\n'));
    }
  });

  it('When the chart is installed, Then the operator runs as its ServiceAccount, one replica leads, and a Recommender converges', async () => {
    await installOperatorChart();
    await operatorRunsAndLeads();
    await recommenderConverges('chart');
  });
});
