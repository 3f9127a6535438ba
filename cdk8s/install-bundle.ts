/**
 * The install bundle: everything that runs the operator, in its own `tandem-system` namespace.
 * The CRD comes from its single TypeBox source; the RBAC rules are `OPERATOR_RBAC`, the exact verbs the
 * operator uses and nothing more (no `*`), so the operator and its permissions are kept in one place.
 * Cluster-wide by default (a ClusterRole); with `watchNamespaces`, namespaced like the chart's
 * `watchNamespaces`: a Role and RoleBinding with the same rules in each watched namespace, no ClusterRole.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { ApiObject, App, Chart, Duration, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { recommenderCrd } from './api/v1alpha1/crd.js';
import { GROUP, PLURAL } from './api/v1alpha1/recommender.js';
import { CHILD_KINDS } from './child-kinds.js';
import {
  APP_NAME,
  LABEL_COMPONENT,
  LABEL_NAME,
  LABEL_PART_OF,
  NAMESPACE_NAME_LABEL,
  OPERATOR_COMMAND,
  OPERATOR_HEALTH_PORT,
  OPERATOR_IMAGE,
  OPERATOR_METRICS_PORT,
  OPERATOR_NAME,
  OPERATOR_NAMESPACE,
  OPERATOR_POD_LABELS,
  OPERATOR_RESOURCES,
  OPERATOR_UID,
  SCORING_POD_LABELS,
  METRICS_PORT,
} from './constants.js';
import { DNS_NAMESPACE, DNS_POD_LABELS, DNS_PORT } from './network-policies.js';
import { OperatorMonitoring, type OperatorMonitoringOptions } from './operator-monitoring.js';
import { finishPodTemplate, restrictedContainer, selectPods } from './pod-defaults.js';
import { chartObjects } from './render.js';

export interface PolicyRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
}

const childRules: PolicyRule[] = [...new Set(CHILD_KINDS.map((k) => k.group))].map((group) => ({
  apiGroups: [group],
  resources: CHILD_KINDS.filter((k) => k.group === group).map((k) => k.plural),
  verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'],
}));

/**
 * Every permission of the operator. `clusterRole` is granted cluster-wide (Recommenders and their
 * children live in any namespace), or in each watched namespace; `leaderElection` only in the operator's
 * namespace.
 */
export const OPERATOR_RBAC = {
  clusterRole: [
    // The operator reads Recommenders only through its informers and writes only their status (server-side apply).
    { apiGroups: [GROUP], resources: [PLURAL], verbs: ['list', 'watch'] },
    { apiGroups: [GROUP], resources: [`${PLURAL}/status`], verbs: ['patch'] },
    // The children's ownerReferences set blockOwnerDeletion; with OwnerReferencesPermissionEnforcement
    // admission (OpenShift and hardened clusters) that needs update on the owner's finalizers.
    { apiGroups: [GROUP], resources: [`${PLURAL}/finalizers`], verbs: ['update'] },
    ...childRules,
    { apiGroups: [''], resources: ['events'], verbs: ['create'] },
    // Where the ready scoring pods are, to read the model version they serve (operator/model-probe.ts).
    { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list'] },
  ],
  leaderElection: [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] }],
} as const satisfies Record<string, readonly PolicyRule[]>;

export interface InstallBundleOptions {
  /** Default `tandem-system`. */
  readonly namespace?: string;
  /** Default `ghcr.io/tandem-dev/operator:0.1.0`. */
  readonly image?: string;
  /** Default 2 (one leads, one stands by). */
  readonly replicas?: number;
  /** Where Prometheus runs; it may scrape the operator's metrics port. Default `monitoring`. */
  readonly monitoringNamespace?: string;
  /**
   * Namespaces to watch (`--namespaces`). Default none: the whole cluster, through a ClusterRole. Listed: a
   * Role and RoleBinding with the same rules in each (they must exist), and no ClusterRole.
   */
  readonly watchNamespaces?: readonly string[];
  /** Where the operator's NetworkPolicy lets it connect to the Kubernetes API server. */
  readonly apiServer?: {
    /** Default API_SERVER_CIDRS (the private ranges); set the API server's own addresses where you can. */
    readonly cidrs?: readonly string[];
    /** Default [443, 6443]. */
    readonly ports?: readonly number[];
  };
  /** The cluster DNS the operator may query (as `spec.network.dns` for Recommenders). */
  readonly dns?: {
    /** Default `kube-system`. */
    readonly namespace?: string;
    /** Default `k8s-app: kube-dns`. */
    readonly podLabels?: Readonly<Record<string, string>>;
    /** Addresses that are not pods, e.g. NodeLocal DNSCache's `169.254.20.10/32`. Default none. */
    readonly cidrs?: readonly string[];
    /** Default [53] (OpenShift DNS listens on 5353). */
    readonly ports?: readonly number[];
  };
  /** Opt-in ServiceMonitor, PrometheusRule (the operator's alerts) and Grafana dashboard ConfigMaps. Default none. */
  readonly monitoring?: OperatorMonitoringOptions;
}

/**
 * The API server is not a pod, so the operator's egress to it is by address. The default admits the private
 * ranges where the API server of nearly every cluster lives (kubeadm, kind, minikube, EKS, GKE private
 * clusters) and, unlike the old "port 443 anywhere", never the internet; pin it to the API server's own
 * addresses (`kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes`) where you can,
 * and widen it where the API server has a public address (AKS, a public-only EKS endpoint).
 */
export const API_SERVER_CIDRS = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7'] as const;
export const API_SERVER_PORTS = [443, 6443] as const;

const bundleLabels = (component: string) => ({
  [LABEL_COMPONENT]: component,
  [LABEL_NAME]: APP_NAME,
  [LABEL_PART_OF]: APP_NAME,
});

/** The operator's install bundle as a chart: the CRD, RBAC, the Deployment, its Service and NetworkPolicy. */
export class InstallBundleChart extends Chart {
  constructor(scope: Construct, id: string, options: InstallBundleOptions = {}) {
    super(scope, id);
    const namespace = options.namespace ?? OPERATOR_NAMESPACE;
    const labels = bundleLabels('operator');
    const podLabels = { ...OPERATOR_POD_LABELS };
    const metadata = (name: string) => ({ name, namespace, labels });

    new kplus.k8s.KubeNamespace(this, 'Namespace', {
      metadata: {
        name: namespace,
        labels: {
          ...labels,
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'latest',
          'pod-security.kubernetes.io/warn': 'restricted',
          'pod-security.kubernetes.io/audit': 'restricted',
        },
      },
    });

    const crd = recommenderCrd();
    new ApiObject(this, 'CustomResourceDefinition', { apiVersion: crd.apiVersion, kind: crd.kind, metadata: crd.metadata, spec: crd.spec });

    const serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', { metadata: metadata(OPERATOR_NAME), automountToken: true });

    const rules = (list: readonly PolicyRule[]) => list.map((r) => ({ apiGroups: [...r.apiGroups], resources: [...r.resources], verbs: [...r.verbs] }));
    const subjects = [{ kind: 'ServiceAccount', name: OPERATOR_NAME, namespace }];
    const watched = options.watchNamespaces ?? [];
    if (watched.length === 0) {
      new kplus.k8s.KubeClusterRole(this, 'ClusterRole', { metadata: { name: OPERATOR_NAME, labels }, rules: rules(OPERATOR_RBAC.clusterRole) });
      new kplus.k8s.KubeClusterRoleBinding(this, 'ClusterRoleBinding', {
        metadata: { name: OPERATOR_NAME, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: OPERATOR_NAME },
        subjects,
      });
    }
    for (const ns of watched) {
      const inWatched = { name: OPERATOR_NAME, namespace: ns, labels };
      new kplus.k8s.KubeRole(this, `Role-${ns}`, { metadata: inWatched, rules: rules(OPERATOR_RBAC.clusterRole) });
      new kplus.k8s.KubeRoleBinding(this, `RoleBinding-${ns}`, {
        metadata: inWatched,
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: OPERATOR_NAME },
        subjects,
      });
    }
    const leaseRole = `${OPERATOR_NAME}-leader-election`;
    new kplus.k8s.KubeRole(this, 'LeaderElectionRole', { metadata: metadata(leaseRole), rules: rules(OPERATOR_RBAC.leaderElection) });
    new kplus.k8s.KubeRoleBinding(this, 'LeaderElectionRoleBinding', {
      metadata: metadata(leaseRole),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: leaseRole },
      subjects: [{ kind: 'ServiceAccount', name: OPERATOR_NAME, namespace }],
    });

    const deployment = new kplus.Deployment(this, 'Deployment', {
      metadata: metadata(OPERATOR_NAME),
      podMetadata: { labels },
      select: false,
      replicas: options.replicas ?? 2,
      strategy: kplus.DeploymentStrategy.rollingUpdate({
        maxSurge: kplus.PercentOrAbsolute.absolute(1),
        maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
      }),
      serviceAccount,
      automountServiceAccountToken: true,
      securityContext: { ensureNonRoot: true, user: OPERATOR_UID, group: OPERATOR_UID, fsGroup: OPERATOR_UID },
      terminationGracePeriod: Duration.seconds(30),
    });
    deployment.select(kplus.LabelSelector.of({ labels: podLabels }));
    deployment.addContainer({
      name: 'operator',
      image: options.image ?? OPERATOR_IMAGE,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      command: [...OPERATOR_COMMAND],
      args: [
        '--leader-elect=true',
        `--metrics-port=${OPERATOR_METRICS_PORT}`,
        `--health-port=${OPERATOR_HEALTH_PORT}`,
        ...(watched.length > 0 ? [`--namespaces=${watched.join(',')}`] : []),
      ],
      ports: [
        { name: 'metrics', number: OPERATOR_METRICS_PORT, protocol: kplus.Protocol.TCP },
        { name: 'health', number: OPERATOR_HEALTH_PORT, protocol: kplus.Protocol.TCP },
      ],
      envVariables: {
        POD_NAME: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAME),
        POD_NAMESPACE: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAMESPACE),
      },
      resources: {},
      securityContext: restrictedContainer(OPERATOR_UID),
      liveness: kplus.Probe.fromHttpGet('/healthz', { port: OPERATOR_HEALTH_PORT, periodSeconds: Duration.seconds(10), failureThreshold: 3 }),
      readiness: kplus.Probe.fromHttpGet('/readyz', { port: OPERATOR_HEALTH_PORT, periodSeconds: Duration.seconds(5), failureThreshold: 2 }),
      startup: kplus.Probe.fromHttpGet('/healthz', { port: OPERATOR_HEALTH_PORT, periodSeconds: Duration.seconds(2), failureThreshold: 30 }),
    });
    const deploymentObject = ApiObject.of(deployment);
    finishPodTemplate(deploymentObject, '/spec/template', [{ requests: { ...OPERATOR_RESOURCES.requests }, limits: { ...OPERATOR_RESOURCES.limits } }]);
    deploymentObject.addJsonPatch(
      JsonPatch.add('/spec/revisionHistoryLimit', 5),
      JsonPatch.add('/spec/template/spec/topologySpreadConstraints', [
        {
          maxSkew: 1,
          topologyKey: 'kubernetes.io/hostname',
          whenUnsatisfiable: 'ScheduleAnyway',
          labelSelector: { matchLabels: podLabels },
          matchLabelKeys: ['pod-template-hash'],
        },
      ]),
    );

    const service = new kplus.Service(this, 'MetricsService', {
      metadata: metadata(`${OPERATOR_NAME}-metrics`),
      type: kplus.ServiceType.CLUSTER_IP,
      ports: [{ name: 'metrics', port: OPERATOR_METRICS_PORT, targetPort: OPERATOR_METRICS_PORT, protocol: kplus.Protocol.TCP }],
    });
    selectPods(service, podLabels);
    new OperatorMonitoring(this, 'Monitoring', { namespace, labels, serviceLabels: podLabels, options: options.monitoring ?? {} });

    new kplus.k8s.KubePodDisruptionBudget(this, 'DisruptionBudget', {
      metadata: metadata(OPERATOR_NAME),
      spec: { maxUnavailable: kplus.k8s.IntOrString.fromNumber(1), selector: { matchLabels: podLabels }, unhealthyPodEvictionPolicy: 'AlwaysAllow' },
    });

    const port = (n: number, protocol = 'TCP') => ({ protocol, port: kplus.k8s.IntOrString.fromNumber(n) });
    const dns = options.dns ?? {};
    const ipBlocks = (cidrs: readonly string[]) => cidrs.map((cidr) => ({ ipBlock: { cidr } }));
    new kplus.k8s.KubeNetworkPolicy(this, 'NetworkPolicy', {
      metadata: metadata(OPERATOR_NAME),
      spec: {
        podSelector: { matchLabels: podLabels },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [
          {
            from: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: options.monitoringNamespace ?? 'monitoring' } } }],
            ports: [port(OPERATOR_METRICS_PORT)],
          },
        ],
        egress: [
          // The API server is not a pod: reach it by address (see API_SERVER_CIDRS).
          { to: ipBlocks(options.apiServer?.cidrs ?? API_SERVER_CIDRS), ports: (options.apiServer?.ports ?? API_SERVER_PORTS).map((p) => port(p)) },
          {
            to: [
              { namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: dns.namespace ?? DNS_NAMESPACE } }, podSelector: { matchLabels: { ...(dns.podLabels ?? DNS_POD_LABELS) } } },
              ...ipBlocks(dns.cidrs ?? []),
            ],
            ports: (dns.ports ?? [DNS_PORT]).flatMap((p) => [port(p, 'UDP'), port(p)]),
          },
          // The model version each Recommender's scoring pods serve (operator/model-probe.ts), on the metrics port only.
          { to: [{ namespaceSelector: {}, podSelector: { matchLabels: { ...SCORING_POD_LABELS } } }], ports: [port(METRICS_PORT)] },
        ],
      },
    });
  }
}

/** The install bundle's objects, in apply order (Namespace and CRD first). */
export function renderInstallBundle(options: InstallBundleOptions = {}): KubernetesObject[] {
  const app = new App();
  return chartObjects(new InstallBundleChart(app, 'install', options));
}
