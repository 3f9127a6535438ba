/**
 * Raw server-side apply for cluster tests: sends each object as-is (no client-side serializer that could
 * drop fields) and returns the API server's `Warning` headers, which the typed clients hide.
 */
import { request, type RequestOptions } from 'node:https';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { CHILD_KINDS } from '../child-kinds.js';

export const TEST_FIELD_MANAGER = 'tandem-cdk8s-test';

interface Resource {
  readonly plural: string;
  readonly namespaced: boolean;
}

/** The REST resource of every kind the chart and the install bundle write. */
const RESOURCES: Record<string, Resource> = {
  ...Object.fromEntries(CHILD_KINDS.map((k) => [`${k.apiVersion}/${k.kind}`, { plural: k.plural, namespaced: true }])),
  'v1/Namespace': { plural: 'namespaces', namespaced: false },
  'v1/Pod': { plural: 'pods', namespaced: true },
  'apiextensions.k8s.io/v1/CustomResourceDefinition': { plural: 'customresourcedefinitions', namespaced: false },
  'rbac.authorization.k8s.io/v1/ClusterRole': { plural: 'clusterroles', namespaced: false },
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': { plural: 'clusterrolebindings', namespaced: false },
  'rbac.authorization.k8s.io/v1/Role': { plural: 'roles', namespaced: true },
  'rbac.authorization.k8s.io/v1/RoleBinding': { plural: 'rolebindings', namespaced: true },
};

/** `/api/v1/namespaces/ns/services` or `/apis/apps/v1/deployments` for an object. */
export function collectionPath(obj: KubernetesObject): string {
  const resource = RESOURCES[`${obj.apiVersion}/${obj.kind}`];
  if (!resource) throw new Error(`no REST resource known for ${obj.apiVersion} ${obj.kind}`);
  const prefix = obj.apiVersion?.includes('/') ? `/apis/${obj.apiVersion}` : `/api/${obj.apiVersion}`;
  const ns = resource.namespaced ? `/namespaces/${obj.metadata?.namespace}` : '';
  return `${prefix}${ns}/${resource.plural}`;
}

export interface ApiResponse {
  readonly status: number;
  readonly body: string;
  readonly warnings: string[];
}

/** One request with the kubeconfig's credentials. */
export async function send(kc: KubeConfig, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<ApiResponse> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('kubeconfig has no current cluster');
  const url = new URL(path, server);
  const opts: RequestOptions = { method, headers: { Accept: 'application/json', 'Content-Type': contentType } };
  await kc.applyToHTTPSOptions(opts);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(url, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = res.headers.warning;
        const warnings = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), warnings });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** Server-side apply of one object; throws with the server's message on any non-2xx answer. */
export async function serverSideApply(kc: KubeConfig, obj: KubernetesObject, options: { dryRun?: boolean } = {}): Promise<ApiResponse> {
  const query = new URLSearchParams({ fieldManager: TEST_FIELD_MANAGER, force: 'true', fieldValidation: 'Strict' });
  if (options.dryRun) query.set('dryRun', 'All');
  const path = `${collectionPath(obj)}/${obj.metadata?.name}?${query}`;
  const res = await send(kc, 'PATCH', path, obj, 'application/apply-patch+yaml');
  if (res.status < 200 || res.status >= 300) {
    throw new Error(`${options.dryRun ? 'dry-run ' : ''}apply of ${obj.kind} ${obj.metadata?.namespace ?? ''}/${obj.metadata?.name} failed (${res.status}): ${res.body}`);
  }
  return res;
}

/** Server-side dry-run create (e.g. a Pod built from a workload template, to pass Pod Security admission). */
export async function dryRunCreate(kc: KubeConfig, obj: KubernetesObject): Promise<ApiResponse> {
  return send(kc, 'POST', `${collectionPath(obj)}?dryRun=All&fieldValidation=Strict`, obj);
}

/** Deletes an object, ignoring "not found". */
export async function remove(kc: KubeConfig, obj: KubernetesObject): Promise<void> {
  const res = await send(kc, 'DELETE', `${collectionPath(obj)}/${obj.metadata?.name}`);
  if (res.status >= 300 && res.status !== 404) throw new Error(`delete of ${obj.kind} ${obj.metadata?.name} failed (${res.status}): ${res.body}`);
}
