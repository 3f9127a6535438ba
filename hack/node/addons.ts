/**
 * The cluster add-ons of the test node, as objects to server-side apply: CoreDNS as `kube-dns` (so the
 * Recommender's DNS egress rule meets the pods it names in a real cluster), metrics-server behind the
 * `v1beta1.metrics.k8s.io` APIService (so the HPA scales on real CPU), kube-state-metrics (the object
 * series Tandem's alerts and dashboards read), and local-path-provisioner with the default StorageClass.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { CLUSTER_DNS_IP, CLUSTER_DOMAIN } from './config.js';

const NS = 'kube-system';
const restricted = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

/** A one-replica Deployment of an add-on, its pods labelled as it selects them. */
function addonDeployment(name: string, namespace: string, labels: Readonly<Record<string, string>>, pod: Record<string, unknown>): KubernetesObject {
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace, labels }, spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: pod } } } as KubernetesObject;
}

export interface AddonImages {
  readonly coredns: string;
  readonly metricsServer: string;
  readonly kubeStateMetrics: string;
  readonly localPathProvisioner: string;
  readonly busybox: string;
}

export function coreDns(image: string): KubernetesObject[] {
  const labels = { 'k8s-app': 'kube-dns' };
  const corefile = `.:53 {
    errors
    health :8080
    ready :8181
    kubernetes ${CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    forward . /etc/resolv.conf
    cache 30
    loop
    reload
}
`;
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'coredns', namespace: NS } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'system:coredns' },
      rules: [
        { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    } as KubernetesObject,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'system:coredns' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' },
      subjects: [{ kind: 'ServiceAccount', name: 'coredns', namespace: NS }],
    } as KubernetesObject,
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: NS }, data: { Corefile: corefile } } as KubernetesObject,
    addonDeployment('coredns', NS, labels, {
      serviceAccountName: 'coredns',
      priorityClassName: 'system-cluster-critical',
      dnsPolicy: 'Default',
      // Port 53 without a capability: a namespaced, "safe" sysctl that the kubelet allows by default.
      securityContext: { runAsUser: 65532, runAsGroup: 65532, sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }] },
      containers: [
        {
          name: 'coredns',
          image,
          imagePullPolicy: 'IfNotPresent',
          args: ['-conf', '/etc/coredns/Corefile'],
          ports: [
            { name: 'dns', containerPort: 53, protocol: 'UDP' },
            { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
          ],
          resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '170Mi' } },
          securityContext: restricted,
          volumeMounts: [{ name: 'config', mountPath: '/etc/coredns', readOnly: true }],
          livenessProbe: { httpGet: { path: '/health', port: 8080 }, periodSeconds: 10 },
          readinessProbe: { httpGet: { path: '/ready', port: 8181 }, periodSeconds: 2 },
        },
      ],
      volumes: [{ name: 'config', configMap: { name: 'coredns' } }],
    }),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kube-dns', namespace: NS, labels: { ...labels, 'kubernetes.io/name': 'CoreDNS' } },
      spec: {
        selector: labels,
        clusterIP: CLUSTER_DNS_IP,
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        ],
      },
    } as KubernetesObject,
  ];
}

export function metricsServer(image: string): KubernetesObject[] {
  const labels = { 'k8s-app': 'metrics-server' };
  const rbac = (kind: string, name: string, body: Record<string, unknown>) =>
    ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind, metadata: { name, ...(kind.startsWith('Cluster') ? {} : { namespace: NS }) }, ...body }) as KubernetesObject;
  const sa = [{ kind: 'ServiceAccount', name: 'metrics-server', namespace: NS }];
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'metrics-server', namespace: NS } },
    rbac('ClusterRole', 'system:metrics-server', {
      rules: [
        { apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] },
        { apiGroups: [''], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] },
      ],
    }),
    rbac('ClusterRoleBinding', 'system:metrics-server', {
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:metrics-server' },
      subjects: sa,
    }),
    rbac('ClusterRoleBinding', 'metrics-server:system:auth-delegator', {
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
      subjects: sa,
    }),
    rbac('RoleBinding', 'metrics-server-auth-reader', {
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'extension-apiserver-authentication-reader' },
      subjects: sa,
    }),
    addonDeployment('metrics-server', NS, labels, {
      serviceAccountName: 'metrics-server',
      priorityClassName: 'system-cluster-critical',
      securityContext: { runAsUser: 65532, runAsGroup: 65532 },
      containers: [
        {
          name: 'metrics-server',
          image,
          imagePullPolicy: 'IfNotPresent',
          args: [
            '--cert-dir=/tmp',
            '--secure-port=10250',
            '--kubelet-preferred-address-types=InternalIP',
            '--kubelet-use-node-status-port',
            // The kubelet serves a self-signed certificate (its default); tests only.
            '--kubelet-insecure-tls',
            '--metric-resolution=15s',
          ],
          ports: [{ name: 'https', containerPort: 10250, protocol: 'TCP' }],
          resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '200Mi' } },
          securityContext: restricted,
          volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
          readinessProbe: { httpGet: { path: '/readyz', port: 'https', scheme: 'HTTPS' }, periodSeconds: 5 },
        },
      ],
      volumes: [{ name: 'tmp', emptyDir: {} }],
    }),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'metrics-server', namespace: NS, labels },
      spec: { selector: labels, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 'https' }] },
    } as KubernetesObject,
    {
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      metadata: { name: 'v1beta1.metrics.k8s.io', labels },
      spec: {
        service: { name: 'metrics-server', namespace: NS, port: 443 },
        group: 'metrics.k8s.io',
        version: 'v1beta1',
        insecureSkipTLSVerify: true,
        groupPriorityMinimum: 100,
        versionPriority: 100,
      },
    } as KubernetesObject,
  ];
}

/** What kube-state-metrics watches: the objects whose series Tandem's alerts and dashboards read. */
export const KUBE_STATE_METRICS_RESOURCES = ['cronjobs', 'deployments', 'horizontalpodautoscalers', 'jobs', 'pods', 'statefulsets'] as const;
export const KUBE_STATE_METRICS_PORT = 8080;

/**
 * kube-state-metrics as kube-prometheus runs it, watching only KUBE_STATE_METRICS_RESOURCES (so its RBAC is
 * list/watch on those), behind the Service `kube-state-metrics` whose port `http-metrics` Prometheus scrapes.
 */
export function kubeStateMetrics(image: string): KubernetesObject[] {
  const name = 'kube-state-metrics';
  const labels = { 'app.kubernetes.io/name': name };
  const groups: Record<(typeof KUBE_STATE_METRICS_RESOURCES)[number], string> = {
    cronjobs: 'batch',
    jobs: 'batch',
    deployments: 'apps',
    statefulsets: 'apps',
    horizontalpodautoscalers: 'autoscaling',
    pods: '',
  };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: NS } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name },
      rules: KUBE_STATE_METRICS_RESOURCES.map((r) => ({ apiGroups: [groups[r]], resources: [r], verbs: ['list', 'watch'] })),
    } as KubernetesObject,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace: NS }],
    } as KubernetesObject,
    addonDeployment(name, NS, labels, {
      serviceAccountName: name,
      priorityClassName: 'system-cluster-critical',
      securityContext: { runAsUser: 65534, runAsGroup: 65534 },
      containers: [
        {
          name,
          image,
          imagePullPolicy: 'IfNotPresent',
          args: [`--port=${KUBE_STATE_METRICS_PORT}`, '--telemetry-port=8081', `--resources=${KUBE_STATE_METRICS_RESOURCES.join(',')}`],
          ports: [
            { name: 'http-metrics', containerPort: KUBE_STATE_METRICS_PORT, protocol: 'TCP' },
            { name: 'telemetry', containerPort: 8081, protocol: 'TCP' },
          ],
          resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } },
          securityContext: restricted,
          livenessProbe: { httpGet: { path: '/livez', port: 'http-metrics' }, periodSeconds: 10 },
          readinessProbe: { httpGet: { path: '/readyz', port: 'telemetry' }, periodSeconds: 2 },
        },
      ],
    }),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: NS, labels },
      spec: {
        selector: labels,
        ports: [
          { name: 'http-metrics', port: KUBE_STATE_METRICS_PORT, protocol: 'TCP', targetPort: 'http-metrics' },
          { name: 'telemetry', port: 8081, protocol: 'TCP', targetPort: 'telemetry' },
        ],
      },
    } as KubernetesObject,
  ];
}

/**
 * Volumes as kind and k3s provision them: rancher's local-path-provisioner, here with one shared directory
 * (so ReadWriteMany claims bind too; single node, testing only). Its helper pods create each volume's
 * directory with mode 0777, so non-root pods can write to it.
 */
export function localPathProvisioner(images: { provisioner: string; helper: string }, sharedPath: string): KubernetesObject[] {
  const ns = 'local-path-storage';
  // The name its helper pods run as (the provisioner's --service-account-name default).
  const sa = 'local-path-provisioner-service-account';
  const labels = { app: 'local-path-provisioner' };
  const helperPod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'helper-pod' },
    spec: {
      priorityClassName: 'system-node-critical',
      containers: [{ name: 'helper-pod', image: images.helper, imagePullPolicy: 'IfNotPresent' }],
    },
  };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace: ns } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: sa, namespace: ns },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'] }],
    } as KubernetesObject,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: sa, namespace: ns },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: sa },
      subjects: [{ kind: 'ServiceAccount', name: sa, namespace: ns }],
    } as KubernetesObject,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: sa },
      rules: [
        { apiGroups: [''], resources: ['nodes', 'persistentvolumeclaims', 'configmaps', 'pods', 'pods/log'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['persistentvolumes'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'] },
        { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
        { apiGroups: ['storage.k8s.io'], resources: ['storageclasses'], verbs: ['get', 'list', 'watch'] },
      ],
    } as KubernetesObject,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: sa },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: sa },
      subjects: [{ kind: 'ServiceAccount', name: sa, namespace: ns }],
    } as KubernetesObject,
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'local-path-config', namespace: ns },
      data: {
        'config.json': JSON.stringify({ sharedFileSystemPath: sharedPath }),
        setup: '#!/bin/sh\nset -eu\nmkdir -m 0777 -p "$VOL_DIR"\n',
        teardown: '#!/bin/sh\nset -eu\nrm -rf "$VOL_DIR"\n',
        'helperPod.yaml': JSON.stringify(helperPod),
      },
    } as KubernetesObject,
    addonDeployment('local-path-provisioner', ns, labels, {
      serviceAccountName: sa,
      containers: [
        {
          name: 'local-path-provisioner',
          image: images.provisioner,
          imagePullPolicy: 'IfNotPresent',
          args: ['start', '--config', '/etc/config/config.json'],
          env: [
            { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
            { name: 'CONFIG_MOUNT_PATH', value: '/etc/config/' },
          ],
          resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } },
          volumeMounts: [{ name: 'config', mountPath: '/etc/config/' }],
        },
      ],
      volumes: [{ name: 'config', configMap: { name: 'local-path-config' } }],
    }),
    {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'rancher.io/local-path',
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'Immediate',
    } as KubernetesObject,
  ];
}

export function addons(images: AddonImages, volumesPath: string): KubernetesObject[] {
  return [
    ...coreDns(images.coredns),
    ...metricsServer(images.metricsServer),
    ...kubeStateMetrics(images.kubeStateMetrics),
    ...localPathProvisioner({ provisioner: images.localPathProvisioner, helper: images.busybox }, volumesPath),
  ];
}
