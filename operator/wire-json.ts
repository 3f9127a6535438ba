/**
 * Makes @kubernetes/client-node send and return the API server's own JSON for the given kinds.
 * Its generated models rename reserved words (NetworkPolicy `from` is `_from`) and drop every key
 * they don't know, so a plain object in wire form loses fields on the way out: a NetworkPolicy
 * applied through KubernetesObjectApi would lose its `from` and admit everyone. The operator only
 * ever holds wire-form objects (cdk8s output, watch events), so it registers pass-through models.
 */
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';

const passThrough = { serialize: (data: unknown) => data, deserialize: (data: unknown) => data };
const registered = new Set<string>();

export function useWireJson(kinds: readonly { apiVersion: string; kind: string }[]): void {
  for (const { apiVersion, kind } of kinds) {
    const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/') as [string, string]) : ['', apiVersion];
    for (const k of [kind, `${kind}List`]) {
      const id = `${apiVersion}/${k}`;
      if (registered.has(id)) continue;
      registered.add(id);
      ObjectSerializer.registerModel({ group, version, kind: k }, passThrough);
    }
  }
}
