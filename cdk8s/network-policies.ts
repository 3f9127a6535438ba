/**
 * The NetworkPolicies of one Recommender: default deny for all its pods, then the few allowed paths.
 *
 * - scoring ← allowed callers on the API port; ← the monitoring namespace and the operator's pods on the
 *   metrics port (the operator reads the model version the pods serve there);
 * - scoring → its Redis; → DNS (`spec.network.dns`: kube-system / k8s-app=kube-dns, 53 UDP and TCP by
 *   default; NodeLocal DNSCache and OpenShift DNS are peers and ports of their own); → the object store
 *   (`spec.model.storage.s3.egress`, s3 mode only);
 * - Redis ← scoring and the trainer only;
 * - trainer → its Redis; → DNS; → the object store;
 * - with `training.engine: spark`: the driver ← its executors on the driver and block-manager ports, → its
 *   executors' block managers, → the API server (`training.spark.apiServer`, to run the executors), → DNS;
 *   executors ← the driver and each other on the block-manager port, → the driver, → each other, → DNS.
 *   The model volume they share needs no network rule; the packing Job is a trainer pod.
 *
 * Every peer names its namespace with a namespaceSelector that is ANDed with the negation of
 * `spec.network.protectedNamespaces`, so no rule can admit a protected namespace, not even the
 * Recommender's own namespace or kube-system if they were labelled protected.
 */
import { Construct } from 'constructs';
import * as kplus from 'cdk8s-plus-28';
import type { LabelSelector, RecommenderSpec } from './api/v1alpha1/recommender.js';
import { API_PORT, Component, METRICS_PORT, NAMESPACE_NAME_LABEL, OPERATOR_NAMESPACE, OPERATOR_POD_LABELS, REDIS_PORT, SPARK_BLOCK_MANAGER_PORT, SPARK_DRIVER_PORT } from './constants.js';
import { s3Storage } from './model-storage.js';
import { instanceSelectorLabels, objectLabels, podSelectorLabels, type RecommenderNames } from './names.js';
import { excluding, isEmptySelector, requirements, satisfiable, type Requirement } from './selectors.js';

type Peer = kplus.k8s.NetworkPolicyPeer;
type Port = kplus.k8s.NetworkPolicyPort;

/** The cluster DNS of a kubeadm, GKE, EKS, AKS or kind cluster (the defaults of `spec.network.dns`). */
export const DNS_NAMESPACE = 'kube-system';
export const DNS_POD_LABELS: Readonly<Record<string, string>> = { 'k8s-app': 'kube-dns' };
export const DNS_PORT = 53;

const tcp = (port: number): Port => ({ protocol: 'TCP', port: kplus.k8s.IntOrString.fromNumber(port) });
const udp = (port: number): Port => ({ protocol: 'UDP', port: kplus.k8s.IntOrString.fromNumber(port) });

export interface RecommenderNetworkPoliciesProps {
  readonly names: RecommenderNames;
  readonly spec: RecommenderSpec;
  /** Where the operator runs. @default OPERATOR_NAMESPACE */
  readonly operatorNamespace?: string;
}

/** Thrown when the spec could let a protected namespace in; the message names the fields. */
export class UnsafeNetworkSpecError extends Error {
  override readonly name = 'UnsafeNetworkSpecError';
  constructor(readonly problems: readonly string[]) {
    super(`refusing to render: allowed callers could match a protected namespace:\n  ${problems.join('\n  ')}`);
  }
}

/**
 * The problems that make `spec.network.allowedCallers` unsafe, empty when safe. A caller is unsafe
 * when its namespaceSelector selects every namespace, or constrains a label of
 * `spec.network.protectedNamespaces` in a way a protected namespace satisfies. Labels the caller does
 * not mention cannot be predicted at render time; for those, the rendered peers exclude protected
 * namespaces explicitly.
 */
export function allowedCallerProblems(spec: RecommenderSpec): string[] {
  const protectedSelector = spec.network.protectedNamespaces as LabelSelector;
  const protectedReqs = withPaths(protectedSelector, 'spec.network.protectedNamespaces');
  const protectedKeys = new Set(protectedReqs.map((r) => r.req.key));
  const problems: string[] = [];
  spec.network.allowedCallers.forEach((caller, i) => {
    const path = `spec.network.allowedCallers[${i}].namespaceSelector`;
    if (caller.namespaceSelector === undefined) return; // the Recommender's own namespace
    if (isEmptySelector(caller.namespaceSelector)) {
      problems.push(`${path}: Invalid value: {}: selects every namespace, including protected ones (spec.network.protectedNamespaces)`);
      return;
    }
    const touching = withPaths(caller.namespaceSelector, path).filter((r) => protectedKeys.has(r.req.key));
    if (touching.length === 0) return;
    if (satisfiable([...touching.map((t) => t.req), ...protectedReqs.map((p) => p.req)])) {
      const callerFields = touching.map((t) => t.path).join(', ');
      const callerValue = touching.map((t) => describe(t.req)).join(', ');
      const protectedFields = protectedReqs.map((p) => `${p.path}: "${describe(p.req)}"`).join(', ');
      problems.push(`${callerFields}: Invalid value: "${callerValue}": could match a protected namespace (${protectedFields})`);
    }
  });
  return problems;
}

/** Throws `UnsafeNetworkSpecError` when `allowedCallerProblems` finds any. */
export function assertSafeNetworkSpec(spec: RecommenderSpec): void {
  const problems = allowedCallerProblems(spec);
  if (problems.length > 0) throw new UnsafeNetworkSpecError(problems);
}

export class RecommenderNetworkPolicies extends Construct {
  constructor(scope: Construct, id: string, props: RecommenderNetworkPoliciesProps) {
    super(scope, id);
    const { names, spec } = props;
    assertSafeNetworkSpec(spec);
    const protectedSelector = spec.network.protectedNamespaces as LabelSelector;
    const cacheEnabled = spec.cache.enabled;

    /** Peers for pods matching `podSelector` in namespaces matching `namespaceSelector`, protected ones excluded. */
    const peers = (namespaceSelector: LabelSelector, podSelector?: LabelSelector): Peer[] =>
      excluding(namespaceSelector, protectedSelector).map((ns) => ({
        namespaceSelector: ns,
        ...(podSelector ? { podSelector } : {}),
      }));
    const byName = (namespace: string): LabelSelector => ({ matchLabels: { [NAMESPACE_NAME_LABEL]: namespace } });
    const ownPods = (component: Component) => peers(byName(names.namespace), { matchLabels: podSelectorLabels(names.instance, component) });

    const callers = spec.network.allowedCallers.flatMap((c) =>
      peers(c.namespaceSelector ?? byName(names.namespace), c.podSelector),
    );
    const monitoring = peers(byName(spec.network.monitoringNamespace));
    const operator = peers(byName(props.operatorNamespace ?? OPERATOR_NAMESPACE), { matchLabels: { ...OPERATOR_POD_LABELS } });
    const dnsSpec = spec.network.dns;
    const dns = [...peers(byName(dnsSpec.namespace), dnsSpec.podSelector as LabelSelector), ...ipBlocks(dnsSpec.cidrs)];
    const dnsPorts = dnsSpec.ports.flatMap((p) => [udp(p), tcp(p)]);
    const s3 = s3Storage(spec);
    const objectStore = s3
      ? [
          {
            to: [
              ...ipBlocks(s3.egress.cidrs),
              ...(s3.egress.namespaceSelector || s3.egress.podSelector ? peers(s3.egress.namespaceSelector ?? byName(names.namespace), s3.egress.podSelector) : []),
            ],
            ports: s3.egress.ports.map(tcp),
          },
        ]
      : [];

    const policy = (id: string, name: string, podLabels: Record<string, string>, body: Partial<kplus.k8s.NetworkPolicySpec>) =>
      new kplus.k8s.KubeNetworkPolicy(this, id, {
        metadata: { name, namespace: names.namespace, labels: objectLabels(names.instance, Component.NETWORK) },
        spec: { podSelector: { matchLabels: podLabels }, ...body },
      });
    /** A rule with no peers would allow everyone: drop it instead. */
    const rules = <T extends { from?: Peer[]; to?: Peer[] }>(...list: T[]) => list.filter((r) => (r.from ?? r.to ?? []).length > 0);

    policy('DefaultDeny', names.policies.defaultDeny, instanceSelectorLabels(names.instance), {
      policyTypes: ['Ingress', 'Egress'],
    });

    policy('ScoringIngress', names.policies.scoringIngress, podSelectorLabels(names.instance, Component.SCORING), {
      policyTypes: ['Ingress'],
      ingress: rules({ from: callers, ports: [tcp(API_PORT)] }, { from: [...monitoring, ...operator], ports: [tcp(METRICS_PORT)] }),
    });

    policy('ScoringEgress', names.policies.scoringEgress, podSelectorLabels(names.instance, Component.SCORING), {
      policyTypes: ['Egress'],
      egress: rules(
        ...(cacheEnabled ? [{ to: ownPods(Component.CACHE), ports: [tcp(REDIS_PORT)] }] : []),
        { to: dns, ports: dnsPorts },
        ...objectStore,
      ),
    });

    if (cacheEnabled) {
      policy('CacheIngress', names.policies.cacheIngress, podSelectorLabels(names.instance, Component.CACHE), {
        policyTypes: ['Ingress'],
        ingress: rules({ from: [...ownPods(Component.SCORING), ...ownPods(Component.TRAINER)], ports: [tcp(REDIS_PORT)] }),
      });
    }

    policy('TrainerEgress', names.policies.trainerEgress, podSelectorLabels(names.instance, Component.TRAINER), {
      policyTypes: ['Egress'],
      egress: rules(
        ...(cacheEnabled ? [{ to: ownPods(Component.CACHE), ports: [tcp(REDIS_PORT)] }] : []),
        { to: dns, ports: dnsPorts },
        ...objectStore,
      ),
    });

    if (spec.training.engine === 'spark') {
      const driver = ownPods(Component.SPARK_DRIVER);
      const executors = ownPods(Component.SPARK_EXECUTOR);
      const apiServer = spec.training.spark.apiServer;
      policy('SparkDriver', names.policies.sparkDriver, podSelectorLabels(names.instance, Component.SPARK_DRIVER), {
        policyTypes: ['Ingress', 'Egress'],
        ingress: rules({ from: executors, ports: [tcp(SPARK_DRIVER_PORT), tcp(SPARK_BLOCK_MANAGER_PORT)] }),
        egress: rules(
          { to: executors, ports: [tcp(SPARK_BLOCK_MANAGER_PORT)] },
          { to: ipBlocks(apiServer.cidrs), ports: apiServer.ports.map(tcp) },
          { to: dns, ports: dnsPorts },
        ),
      });
      policy('SparkExecutor', names.policies.sparkExecutor, podSelectorLabels(names.instance, Component.SPARK_EXECUTOR), {
        policyTypes: ['Ingress', 'Egress'],
        ingress: rules({ from: [...driver, ...executors], ports: [tcp(SPARK_BLOCK_MANAGER_PORT)] }),
        egress: rules(
          { to: driver, ports: [tcp(SPARK_DRIVER_PORT), tcp(SPARK_BLOCK_MANAGER_PORT)] },
          { to: executors, ports: [tcp(SPARK_BLOCK_MANAGER_PORT)] },
          { to: dns, ports: dnsPorts },
        ),
      });
    }
  }
}

/** ipBlock peers for addresses that are not pods (node-local DNS, an object store outside the cluster). */
function ipBlocks(cidrs: readonly string[]): Peer[] {
  return cidrs.map((cidr) => ({ ipBlock: { cidr } }));
}

interface PathedRequirement {
  readonly req: Requirement;
  readonly path: string;
}

function withPaths(selector: LabelSelector, path: string): PathedRequirement[] {
  const reqs = requirements(selector);
  const labelKeys = Object.keys(selector.matchLabels ?? {}).sort();
  return reqs.map((req, i) => ({
    req,
    path: i < labelKeys.length ? `${path}.matchLabels[${JSON.stringify(req.key)}]` : `${path}.matchExpressions[${i - labelKeys.length}]`,
  }));
}

function describe(r: Requirement): string {
  switch (r.operator) {
    case 'In':
      return r.values?.length === 1 ? `${r.key}=${r.values[0]}` : `${r.key} in (${(r.values ?? []).join(', ')})`;
    case 'NotIn':
      return `${r.key} notin (${(r.values ?? []).join(', ')})`;
    case 'Exists':
      return `${r.key} exists`;
    case 'DoesNotExist':
      return `!${r.key}`;
  }
}
