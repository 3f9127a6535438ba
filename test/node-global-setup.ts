/**
 * Vitest global setup of the `node` project: one control plane in node mode and one real kubelet node
 * (hack/node/) per test run, with all CRDs installed and the images of `npm run images` in the node's
 * registry. Tests isolate themselves by namespace.
 */
import type { TestProject } from 'vitest/node';
import type { ControlPlane } from '../hack/control-plane.js';
import { installCrdsBeforeControllers } from '../hack/install-crds.js';
import { startClusterWithNode, type NodeImages, type RealNode } from '../hack/node/node.js';

declare module 'vitest' {
  export interface ProvidedContext {
    nodeImages: NodeImages;
    nodeIp: string;
  }
}

let cluster: { plane: ControlPlane; node: RealNode } | undefined;

export async function setup(project: TestProject) {
  const started = Date.now();
  cluster = await startClusterWithNode({ log: (m) => console.warn(`[node] ${m}`), beforeControllers: installCrdsBeforeControllers });
  console.warn(`[node] cluster with a real node ready in ${Math.round((Date.now() - started) / 1000)} s`);
  project.provide('kubeconfigPath', cluster.plane.kubeconfigPath);
  project.provide('nodeImages', cluster.node.images);
  project.provide('nodeIp', cluster.node.ip);
}

export async function teardown() {
  try {
    await cluster?.node.stop();
  } catch (err) {
    // A leak must fail the run, and must not keep the control plane running.
    process.exitCode = 1;
    throw err;
  } finally {
    await cluster?.plane.stop();
  }
}
