/**
 * `npm run dev -- --node`: the real thing for a newcomer. A control plane with a real kubelet node
 * (hack/node/), the operator deployed in the cluster from the install bundle, examples/recommender.yaml on
 * the locally built images with the demo shop as its data and a first model trained by its own CronJob,
 * its pods Running, and a `curl` through its Service that returns recommendations. Needs root.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import type { Recommender } from '../cdk8s/api/v1alpha1/recommender.js';
import { API_PORT, OPERATOR_NAME, OPERATOR_NAMESPACE } from '../cdk8s/constants.js';
import { renderInstallBundle } from '../cdk8s/install-bundle.js';
import { recommenderNames } from '../cdk8s/names.js';
import { NODE_API_PORT, toolsBinDir } from './control-plane.js';
import { installCrdsBeforeControllers } from './install-crds.js';
import { nodeClusterClient, until } from './node/cluster-client.js';
import { startClusterWithNode } from './node/node.js';

const out = (line = '') => process.stdout.write(`${line}\n`);
const log = (m: string) => process.stderr.write(`  [cluster] ${m}\n`);

out('1/6 Starting the control plane and a real node (containerd, kubelet, kube-proxy, kube-router, CoreDNS, metrics-server)…');
const { plane, node } = await startClusterWithNode({ log, beforeControllers: installCrdsBeforeControllers });
const kubeconfig = resolve('.tandem/kubeconfig');
mkdirSync(resolve('.tandem'), { recursive: true });
copyFileSync(plane.kubeconfigPath, kubeconfig);
const cluster = nodeClusterClient(kubeconfig, node.images, node.ip);

const shutdown = async () => {
  await node.stop();
  await plane.stop();
  process.exit(0);
};
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());

try {
  out('2/6 Deploying the operator in the cluster from the install bundle (dist/install.yaml)…');
  await cluster.apply(renderInstallBundle({ image: node.images.operator, apiServer: { cidrs: [`${node.ip}/32`], ports: [NODE_API_PORT] } }));
  await cluster.k(['-n', OPERATOR_NAMESPACE, 'rollout', 'status', `deployment/${OPERATOR_NAME}`, '--timeout=240s']);

  const example = parse(readFileSync('examples/recommender.yaml', 'utf8')) as Recommender;
  const { name, namespace = 'shop' } = example.metadata;
  const names = recommenderNames(name, namespace);
  const apiKey = `dev-${randomBytes(12).toString('hex')}`;
  out(`3/6 Applying examples/recommender.yaml (${namespace}/${name}) on the local images, with its Secrets…`);
  await cluster.restrictedNamespace(namespace, {}, { exact: true });
  const authRef = example.spec.auth.apiKeysSecretRef ?? { name: names.defaultAuthSecret, key: 'api-keys' };
  const hmacRef = example.spec.auth.hmacKeySecretRef ?? { name: names.defaultAuthSecret, key: 'hmac-key' };
  const redisRef = example.spec.cache.passwordSecretRef;
  const secrets = new Map<string, Record<string, string>>();
  const put = (ref: { name: string; key: string }, value: string) => secrets.set(ref.name, { ...secrets.get(ref.name), [ref.key]: value });
  put(authRef, apiKey);
  put(hmacRef, randomBytes(32).toString('hex'));
  if (redisRef) put(redisRef, randomBytes(16).toString('hex'));
  await cluster.apply([...secrets].map(([secret, stringData]) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: secret, namespace }, stringData })));
  await cluster.apply([
    {
      ...example,
      spec: { ...example.spec, image: node.images.recommender, cache: { ...example.spec.cache, image: node.images.redis } },
    },
  ]);

  out('4/6 Writing the demo shop onto the model volume and training the first model with the retraining CronJob…');
  await cluster.seedAndTrain(namespace, name);

  out('5/6 Waiting for the scoring pods and Redis…');
  const rec = await cluster.waitRecommenderReady(namespace, name, 600_000);
  const serviceIp = (await cluster.k(['-n', namespace, 'get', 'service', names.scoring, '-o', 'jsonpath={.spec.clusterIP}'])).trim();
  const url = `http://${serviceIp}:${API_PORT}/v1/recommendations/cross-sell?items=sku-0001&limit=5`;
  out('6/6 Asking the Service for recommendations…');
  const answer = await until('the Service to answer', async () => {
    const res = await fetch(url, { headers: { authorization: `Bearer ${apiKey}` }, signal: AbortSignal.timeout(5000) });
    return res.ok ? await res.text() : undefined;
  }, 60_000);

  out(`\n${await cluster.k(['-n', namespace, 'get', 'pods', '-o', 'wide'])}`);
  out(`Recommender ${namespace}/${name}: ${rec.status?.conditions?.map((c) => `${c.type}=${c.status}`).join(' ')}; model ${rec.status?.modelVersion}`);
  out(`
Through the Service (the node reaches ClusterIPs and its own pods):
  curl -s -H 'Authorization: Bearer ${apiKey}' '${url}'
  → ${answer.slice(0, 160)}…

  export KUBECONFIG=${kubeconfig}
  export PATH=${toolsBinDir()}:$PATH
  kubectl get rec -A
  kubectl -n ${namespace} create job retrain-now --from=cronjob/${names.retrain}   # a new model version; the pods switch to it
  kubectl -n ${OPERATOR_NAMESPACE} logs deploy/${OPERATOR_NAME}

Press Ctrl-C to stop (everything the node set up is removed).`);
  setInterval(() => {}, 1 << 30);
} catch (err) {
  process.stderr.write(`npm run dev -- --node failed: ${err instanceof Error ? err.message : String(err)}\n`);
  await node.stop();
  await plane.stop();
  process.exit(1);
}
