/**
 * Installs the Recommender CRD (generated from its TypeBox source) and the third-party CRDs the
 * manifests reference (prometheus-operator's and the Kubeflow Spark operator's, vendored unmodified in
 * hack/crds/), then waits until each is Established. Used by the test global setup, `npm run dev:cluster` and `npm run dev`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiextensionsV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { recommenderCrd } from '../cdk8s/api/v1alpha1/crd.js';
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from './control-plane.js';

const THIRD_PARTY_DIRS = ['prometheus-operator', 'spark-operator'].map((d) => join(dirname(fileURLToPath(import.meta.url)), 'crds', d));

export function thirdPartyCrds(): KubernetesObject[] {
  return THIRD_PARTY_DIRS.flatMap((dir) =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as KubernetesObject)),
  );
}

export async function installCrds(kc: KubeConfig, crds: KubernetesObject[] = [recommenderCrd() as KubernetesObject, ...thirdPartyCrds()]): Promise<void> {
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  // The typed patch takes the body as-is; KubernetesObjectApi would drop the `x-kubernetes-*` keys.
  const apply = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
  for (const crd of crds) {
    await ext.patchCustomResourceDefinition({ name: crd.metadata!.name!, body: crd, fieldManager: 'tandem-dev', force: true }, apply);
  }
  for (const crd of crds) await waitEstablished(ext, crd.metadata!.name!);
}

export async function waitEstablished(ext: ApiextensionsV1Api, name: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const crd = await ext.readCustomResourceDefinition({ name });
    if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    if (Date.now() > deadline) throw new Error(`CRD ${name} not Established after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Installs every CRD once the API server is ready, before the controllers start (so garbage collection knows them). */
export async function installCrdsBeforeControllers(kubeconfigPath: string): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  await installCrds(kc);
}

/** The local control plane with every CRD installed. */
export function startControlPlaneWithCrds(options: Omit<ControlPlaneOptions, 'beforeControllers'> = {}): Promise<ControlPlane> {
  return startControlPlane({ ...options, beforeControllers: installCrdsBeforeControllers });
}
