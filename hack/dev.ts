/**
 * `npm run dev`: a newcomer's first run. Starts the local control plane with the CRDs, runs the
 * operator in-process, applies examples/recommender.yaml, shows the objects it created and the
 * status conditions, then keeps running (printing condition changes) until Ctrl-C.
 * `npm run dev -- --node` does it on a real node, where the pods run (hack/dev-node.ts).
 */
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CoreV1Api, CustomObjectsApi, KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { GROUP, PLURAL, VERSION, type Recommender } from '../cdk8s/api/v1alpha1/recommender.js';
import { LABEL_INSTANCE } from '../cdk8s/constants.js';
import { CHILD_KINDS } from '../cdk8s/recommender-chart.js';
import { loadConfig } from '../operator/config.js';
import { createLogger } from '../operator/log.js';
import { startOperator } from '../operator/operator.js';
import { useWireJson } from '../operator/wire-json.js';
import { toolsBinDir } from './control-plane.js';
import { startControlPlaneWithCrds } from './install-crds.js';

if (process.argv.includes('--node')) {
  await import('./dev-node.js');
} else {
  await withoutNode();
}

async function withoutNode(): Promise<void> {
  const out = (line = '') => process.stdout.write(`${line}\n`);
  const example = parse(readFileSync('examples/recommender.yaml', 'utf8')) as Recommender;
  const { name, namespace = 'default' } = example.metadata;

  out('1/5 Starting etcd, kube-apiserver and kube-controller-manager, 2/5 with the Recommender CRD (and prometheus-operator CRDs)…');
  const plane = await startControlPlaneWithCrds();
  const kubeconfig = resolve('.tandem/kubeconfig');
  mkdirSync(resolve('.tandem'), { recursive: true });
  copyFileSync(plane.kubeconfigPath, kubeconfig);
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);

  out('3/5 Starting the operator (logs: .tandem/operator.log)…');
  const config = loadConfig(['--leader-elect=false', '--metrics-port=0', '--health-port=0']);
  const operator = await startOperator(kc, config, createLogger({ file: '.tandem/operator.log' }));

  out(`4/5 Applying examples/recommender.yaml (${namespace}/${name})…`);
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } }).catch(() => undefined);
  useWireJson(CHILD_KINDS);
  const objects = KubernetesObjectApi.makeApiClient(kc);
  await objects.patch(example as unknown as KubernetesObject, undefined, undefined, 'tandem-dev', true, PatchStrategy.ServerSideApply);

  out('5/5 Waiting for the operator…');
  const custom = kc.makeApiClient(CustomObjectsApi);
  const read = () => custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace, name }) as Promise<Recommender>;
  for (let i = 0; i < 50; i++) {
    const rec = await read();
    if (rec.status?.observedGeneration === rec.metadata.generation && rec.status?.conditions?.some((c) => c.message.includes('available replicas:'))) break;
    await new Promise((r) => setTimeout(r, 200));
  }

  out(`\nObjects owned by ${namespace}/${name}:`);
  for (const kind of CHILD_KINDS) {
    const list = await objects.list(kind.apiVersion, kind.kind, namespace, undefined, undefined, undefined, undefined, `${LABEL_INSTANCE}=${name}`);
    for (const item of list.items) out(`  ${kind.kind.padEnd(24)} ${item.metadata?.name}`);
  }
  let shown = '';
  const showConditions = async () => {
    const rec = await read();
    const lines = (rec.status?.conditions ?? []).map((c) => `  ${c.type.padEnd(12)} ${c.status.padEnd(6)} ${c.reason.padEnd(18)} ${c.message}`);
    const text = lines.join('\n');
    if (text === shown) return;
    shown = text;
    out(`\nStatus conditions (generation ${rec.metadata.generation}, observed ${rec.status?.observedGeneration}):\n${text}`);
  };
  await showConditions();
  out(`
  No kubelet runs here, so no pod ever starts: Available=False with the Deployment's own reason is the honest answer.

  Try it:
    export KUBECONFIG=${kubeconfig}
    export PATH=${toolsBinDir()}:$PATH
    kubectl get rec -A
    kubectl -n ${namespace} delete service ${name}          # the operator restores it
    kubectl -n ${namespace} patch rec ${name} --type merge -p '{"spec":{"cache":{"enabled":false}}}'   # Redis is pruned
    curl -s localhost:${operator.metricsPort}/metrics | grep tandem_operator_

  Press Ctrl-C to stop.`);

  const timer = setInterval(() => void showConditions().catch(() => undefined), 2000);
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    clearInterval(timer);
    await operator.stop();
    await plane.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}
