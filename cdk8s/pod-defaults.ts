/**
 * What every pod of a Recommender shares: the restricted Pod Security settings, the exact resources of
 * the spec (not cdk8s-plus's defaults), and the removal of cdk8s-plus's construct-path pod label, so
 * the rendered pods carry only our labels.
 */
import { ApiObject, JsonPatch, type ApiObjectMetadata } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import type { RecommenderSpec } from './api/v1alpha1/recommender.js';
import { LOG_STORAGE_BYTES, type Component } from './constants.js';
import { objectLabels, type RecommenderNames } from './names.js';
import { quantityValue } from './quantity.js';

/** A container securityContext that satisfies the `restricted` Pod Security Standard. */
export function restrictedContainer(uid: number, gid = uid): kplus.ContainerSecurityContextProps {
  return {
    ensureNonRoot: true,
    user: uid,
    group: gid,
    privileged: false,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: [kplus.Capability.ALL] },
    seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
  };
}

/** The pod-level half: non-root, a fixed fsGroup for the volumes, no service-account token. */
export function restrictedPod(uid: number, gid = uid): Pick<kplus.AbstractPodProps, 'securityContext' | 'automountServiceAccountToken'> {
  return {
    automountServiceAccountToken: false,
    securityContext: {
      ensureNonRoot: true,
      user: uid,
      group: gid,
      fsGroup: gid,
      fsGroupChangePolicy: kplus.FsGroupChangePolicy.ON_ROOT_MISMATCH,
    },
  };
}

type ResourceSpec = RecommenderSpec['resources'] | RecommenderSpec['training']['resources'];

/** Requests and limits exactly as written in the spec (quantities are passed through, never converted). */
export function resourceRequirements(resources: ResourceSpec): ResourceRequirements {
  const out: ResourceRequirements = {};
  for (const kind of ['requests', 'limits'] as const) {
    const list = resources[kind] as Record<string, string | number | undefined> | undefined;
    if (!list) continue;
    const entries = Object.entries(list).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)] as const);
    if (entries.length > 0) out[kind] = Object.fromEntries(entries);
  }
  return out;
}

/** Mebibytes, rounded up, as a quantity (how cdk8s-plus writes emptyDir sizes too). */
export function mebibytes(bytes: number): string {
  return `${Math.ceil(bytes / 2 ** 20)}Mi`;
}

/**
 * Adds the ephemeral storage a container's pod uses: a request of `volumeBytes` (its emptyDirs), and a limit
 * of that plus its logs (LOG_STORAGE_BYTES), unless the resources already name them. A limit below the
 * request is refused with the field named, before the API server refuses the workload.
 */
export function withEphemeralStorage(resources: ResourceRequirements, volumeBytes: number, field: string): ResourceRequirements {
  const request = resources.requests?.['ephemeral-storage'] ?? mebibytes(volumeBytes);
  const limit = resources.limits?.['ephemeral-storage'] ?? mebibytes(quantityValue(request) + LOG_STORAGE_BYTES);
  if (quantityValue(limit) < quantityValue(request)) {
    throw new Error(`${field}.limits.ephemeral-storage: Invalid value: "${limit}": must be greater than or equal to ${field}.requests.ephemeral-storage ("${request}")`);
  }
  return { requests: { ...resources.requests, 'ephemeral-storage': request }, limits: { ...resources.limits, 'ephemeral-storage': limit } };
}

/** `{requests?: {cpu?, memory?}, limits?: {...}}` with quantities as strings. */
export type ResourceRequirements = Partial<Record<'requests' | 'limits', Record<string, string>>>;

/**
 * Post-synthesis touches on a workload's pod template at `templatePath` (e.g. `/spec/template`):
 * the pod-level seccomp profile, the exact resources of each container, and no construct-path label.
 */
export function finishPodTemplate(
  apiObject: ApiObject,
  templatePath: string,
  containerResources: readonly ResourceRequirements[],
): void {
  apiObject.addJsonPatch(
    JsonPatch.remove(`${templatePath}/metadata/labels/${escapePointer(kplus.Pod.ADDRESS_LABEL)}`),
    JsonPatch.add(`${templatePath}/spec/securityContext/seccompProfile`, { type: 'RuntimeDefault' }),
    ...containerResources.map((r, i) => JsonPatch.add(`${templatePath}/spec/containers/${i}/resources`, asQuantities(r))),
  );
}

/**
 * The typed (L1) objects convert their JSON once more after the patches, and that conversion wants
 * `Quantity` objects, not strings, in resource lists.
 */
function asQuantities(r: ResourceRequirements): Record<string, Record<string, kplus.k8s.Quantity>> {
  return Object.fromEntries(
    Object.entries(r).map(([kind, list]) => [kind, Object.fromEntries(Object.entries(list).map(([k, v]) => [k, kplus.k8s.Quantity.fromString(v)]))]),
  );
}

/** Makes a Service select exactly `selector` (cdk8s-plus would select its construct-path pod label). */
export function selectPods(service: kplus.Service, selector: Record<string, string>): void {
  ApiObject.of(service).addJsonPatch(JsonPatch.replace('/spec/selector', selector), JsonPatch.remove('/spec/externalIPs'));
}

/** RFC 6901 escaping of one JSON Pointer segment. */
export function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

/**
 * A component's object metadata (its labels, in the Recommender's namespace) and its own ServiceAccount,
 * which never mounts a token: no Tandem pod talks to the API server.
 */
export function componentIdentity(
  scope: Construct,
  names: RecommenderNames,
  component: Component,
  serviceAccountName: string,
): { labels: Record<string, string>; metadata: (name: string) => ApiObjectMetadata; serviceAccount: kplus.ServiceAccount } {
  const labels = objectLabels(names.instance, component);
  const metadata = (name: string) => ({ name, namespace: names.namespace, labels });
  const serviceAccount = new kplus.ServiceAccount(scope, 'ServiceAccount', { metadata: metadata(serviceAccountName), automountToken: false });
  return { labels, metadata, serviceAccount };
}
