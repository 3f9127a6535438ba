/**
 * `npm run dev:cluster`: starts the local control plane with all CRDs installed, prints the
 * KUBECONFIG export, and keeps running until Ctrl-C (then stops everything it started).
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { toolsBinDir } from './control-plane.js';
import { startControlPlaneWithCrds } from './install-crds.js';

const plane = await startControlPlaneWithCrds({ log: (m) => process.stderr.write(`[control-plane] ${m}\n`) });
const kubeconfig = resolve('.tandem/kubeconfig');
mkdirSync(resolve('.tandem'), { recursive: true });
copyFileSync(plane.kubeconfigPath, kubeconfig);

process.stdout.write(`Control plane ready at ${plane.server} (logs in ${plane.dir}).
CRDs installed: recommenders.tandem.dev and prometheus-operator's.

  export KUBECONFIG=${kubeconfig}
  export PATH=${toolsBinDir()}:$PATH     # kubectl, helm, promtool built by \`npm run tools\`
  kubectl get recommenders -A

Press Ctrl-C to stop.
`);

const shutdown = async () => {
  await plane.stop();
  process.exit(0);
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
setInterval(() => {}, 1 << 30);
