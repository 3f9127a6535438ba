/**
 * Vitest global setup of the `cluster` project: one real control plane per test run, shared by all
 * integration tests (each isolates itself in its own namespace), with all CRDs installed.
 */
import type { TestProject } from 'vitest/node';
import type { ControlPlane } from '../hack/control-plane.js';
import { startControlPlaneWithCrds } from '../hack/install-crds.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfigPath: string;
  }
}

let plane: ControlPlane | undefined;

export async function setup(project: TestProject) {
  plane = await startControlPlaneWithCrds({ log: (m) => console.warn(`[control-plane] ${m}`) });
  project.provide('kubeconfigPath', plane.kubeconfigPath);
}

export async function teardown() {
  await plane?.stop();
}
