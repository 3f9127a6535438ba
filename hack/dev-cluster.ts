/**
 * `npm run dev:cluster [-- --node]`: starts the local control plane with all CRDs installed (with
 * `--node`, also a real kubelet node where pods run: hack/node/), prints the KUBECONFIG export, and keeps
 * running until Ctrl-C (then stops everything it started).
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { toolsBinDir } from './control-plane.js';
import { installCrdsBeforeControllers, startControlPlaneWithCrds } from './install-crds.js';
import { startClusterWithNode } from './node/node.js';

const { values } = parseArgs({ options: { node: { type: 'boolean', default: false } } });
const log = (m: string) => process.stderr.write(`[cluster] ${m}\n`);
const { plane, node } = values.node
  ? await startClusterWithNode({ log, beforeControllers: installCrdsBeforeControllers })
  : { plane: await startControlPlaneWithCrds({ log }), node: undefined };
const kubeconfig = resolve('.tandem/kubeconfig');
mkdirSync(resolve('.tandem'), { recursive: true });
copyFileSync(plane.kubeconfigPath, kubeconfig);

process.stdout.write(`Control plane ready at ${plane.server} (logs in ${plane.dir}).
CRDs installed: recommenders.tandem.dev, prometheus-operator's and the Kubeflow Spark operator's.
${node ? `Node ${node.name} (${node.ip}) Ready: containerd, kube-proxy, kube-router, CoreDNS, metrics-server, local-path-provisioner.
Images in the local registry ${node.registry}:
${Object.entries(node.images).map(([k, v]) => `  ${k.padEnd(24)} ${v}`).join('\n')}
` : 'No node: pods are created but never run (add --node for a real kubelet node; needs root).\n'}
  export KUBECONFIG=${kubeconfig}
  export PATH=${toolsBinDir()}:$PATH     # kubectl, helm, promtool built by \`npm run tools\`
  kubectl get recommenders -A

Press Ctrl-C to stop.
`);

const shutdown = async () => {
  await node?.stop();
  await plane.stop();
  process.exit(0);
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
setInterval(() => {}, 1 << 30);
