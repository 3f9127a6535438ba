import { OPERATOR_COMMAND } from './constants.js';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { recommenderCrd } from './api/v1alpha1/crd.js';
import { CHILD_KINDS } from './child-kinds.js';
import { API_SERVER_CIDRS, OPERATOR_RBAC, renderInstallBundle } from './install-bundle.js';
import { toYaml } from './render.js';
import { find, kinds } from './test/fixtures.js';

describe('renderInstallBundle', () => {
  const objects = renderInstallBundle();

  it('renders the namespace and CRD first, then RBAC, the operator, its Service, NetworkPolicy and PDB', () => {
    expect(kinds(objects)).toEqual([
      'Namespace/tandem-system',
      'CustomResourceDefinition/recommenders.tandem.dev',
      'ServiceAccount/tandem-operator',
      'ClusterRole/tandem-operator',
      'ClusterRoleBinding/tandem-operator',
      'Role/tandem-operator-leader-election',
      'RoleBinding/tandem-operator-leader-election',
      'NetworkPolicy/tandem-operator',
      'Service/tandem-operator-metrics',
      'Deployment/tandem-operator',
      'PodDisruptionBudget/tandem-operator',
    ]);
  });

  it('ships the CRD exactly as its single source builds it', () => {
    expect(isDeepStrictEqual(JSON.parse(JSON.stringify(find(objects, 'CustomResourceDefinition'))), JSON.parse(JSON.stringify(recommenderCrd())))).toBe(true);
  });

  it('enforces the restricted Pod Security Standard on its namespace', () => {
    expect(find(objects, 'Namespace').metadata?.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' });
  });

  it('grants exactly OPERATOR_RBAC, with no wildcard anywhere', () => {
    const clusterRole = find(objects, 'ClusterRole') as unknown as { rules: unknown[] };
    const role = find(objects, 'Role') as unknown as { rules: unknown[] };
    expect(clusterRole.rules).toEqual(OPERATOR_RBAC.clusterRole);
    expect(role.rules).toEqual(OPERATOR_RBAC.leaderElection);
    expect(JSON.stringify([clusterRole.rules, role.rules])).not.toContain('*');
  });

  it('lets the operator get, list, watch, create, patch and delete every child kind, and nothing more on them', () => {
    for (const kind of CHILD_KINDS) {
      const rules = OPERATOR_RBAC.clusterRole.filter((r) => (r.apiGroups as readonly string[]).includes(kind.group) && (r.resources as readonly string[]).includes(kind.plural));
      expect(rules.map((r) => r.verbs)).toEqual([['get', 'list', 'watch', 'create', 'patch', 'delete']]);
    }
  });

  it('binds the roles to the operator ServiceAccount, the lease role only in its namespace', () => {
    const subjects = [{ kind: 'ServiceAccount', name: 'tandem-operator', namespace: 'tandem-system' }];
    expect((find(objects, 'ClusterRoleBinding') as unknown as { subjects: unknown }).subjects).toEqual(subjects);
    const binding = find(objects, 'RoleBinding') as unknown as { subjects: unknown; metadata: { namespace: string } };
    expect(binding.subjects).toEqual(subjects);
    expect(binding.metadata.namespace).toBe('tandem-system');
  });

  it('runs two restricted operator replicas with leader election', () => {
    const deployment = find(objects, 'Deployment');
    const pod = deployment.spec.template.spec;
    expect(deployment.spec.replicas).toBe(2);
    expect(pod.containers[0]).toMatchObject({
      image: 'ghcr.io/tandem-dev/operator:0.1.0',
      command: [...OPERATOR_COMMAND],
      securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    });
    expect(pod.containers[0].args).toContain('--leader-elect=true');
    expect(pod.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    expect(pod.serviceAccountName).toBe('tandem-operator');
  });

  it('exposes the metrics port to the monitoring namespace only', () => {
    const policy = find(objects, 'NetworkPolicy');
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.ingress).toEqual([{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }], ports: [{ protocol: 'TCP', port: 8080 }] }]);
    expect(find(objects, 'Service').spec.selector).toEqual(policy.spec.podSelector.matchLabels);
  });

  it('lets the operator reach only the API server, by address, the cluster DNS, and the scoring pods\' metrics port', () => {
    const policy = find(objects, 'NetworkPolicy');
    expect(policy.spec.egress).toEqual([
      { to: API_SERVER_CIDRS.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: 'TCP', port: 443 }, { protocol: 'TCP', port: 6443 }] },
      {
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
        ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
      },
      { to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'app.kubernetes.io/component': 'scoring', 'app.kubernetes.io/name': 'tandem' } } }], ports: [{ protocol: 'TCP', port: 9090 }] },
    ]);
    expect(JSON.stringify(policy.spec.egress)).not.toContain('0.0.0.0/0');
    for (const rule of policy.spec.egress) expect(rule.to.length).toBeGreaterThan(0);
  });

  it('When the API server address and the DNS are given, Then the NetworkPolicy admits exactly those', () => {
    const custom = renderInstallBundle({
      apiServer: { cidrs: ['10.96.0.1/32', '192.0.2.10/32'], ports: [6443] },
      dns: { namespace: 'openshift-dns', podLabels: { 'dns.operator.openshift.io/daemonset-dns': 'default' }, cidrs: ['169.254.20.10/32'], ports: [5353] },
    });
    expect(find(custom, 'NetworkPolicy').spec.egress).toEqual([
      { to: [{ ipBlock: { cidr: '10.96.0.1/32' } }, { ipBlock: { cidr: '192.0.2.10/32' } }], ports: [{ protocol: 'TCP', port: 6443 }] },
      {
        to: [
          { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'openshift-dns' } }, podSelector: { matchLabels: { 'dns.operator.openshift.io/daemonset-dns': 'default' } } },
          { ipBlock: { cidr: '169.254.20.10/32' } },
        ],
        ports: [{ protocol: 'UDP', port: 5353 }, { protocol: 'TCP', port: 5353 }],
      },
      { to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'app.kubernetes.io/component': 'scoring', 'app.kubernetes.io/name': 'tandem' } } }], ports: [{ protocol: 'TCP', port: 9090 }] },
    ]);
  });

  it('requests and limits the operator container\'s ephemeral storage', () => {
    expect(find(objects, 'Deployment').spec.template.spec.containers[0].resources).toEqual({
      requests: { cpu: '100m', memory: '128Mi', 'ephemeral-storage': '64Mi' },
      limits: { memory: '512Mi', 'ephemeral-storage': '128Mi' },
    });
  });

  it('takes a namespace, image and replica count', () => {
    const custom = renderInstallBundle({ namespace: 'ops', image: 'example.com/op:2', replicas: 3 });
    expect(custom.filter((o) => o.metadata?.namespace !== undefined).every((o) => o.metadata?.namespace === 'ops')).toBe(true);
    expect(find(custom, 'Deployment').spec).toMatchObject({ replicas: 3, template: { spec: { containers: [{ image: 'example.com/op:2' }] } } });
  });

  it('When namespaces are watched, Then the operator is namespaced: the same rules in a Role per watched namespace, no ClusterRole', () => {
    const namespaced = renderInstallBundle({ watchNamespaces: ['shop', 'outlet'] });
    expect(kinds(namespaced).filter((k) => k.startsWith('Cluster'))).toEqual([]);
    expect(find(namespaced, 'Deployment').spec.template.spec.containers[0].args).toContain('--namespaces=shop,outlet');
    for (const ns of ['shop', 'outlet']) {
      const role = namespaced.find((o) => o.kind === 'Role' && o.metadata?.namespace === ns) as unknown as { rules: unknown; metadata: { name: string } };
      const binding = namespaced.find((o) => o.kind === 'RoleBinding' && o.metadata?.namespace === ns) as unknown as { subjects: unknown; roleRef: unknown };
      expect(role.metadata.name).toBe('tandem-operator');
      expect(role.rules).toEqual(OPERATOR_RBAC.clusterRole);
      expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'tandem-operator' });
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'tandem-operator', namespace: 'tandem-system' }]);
    }
    expect((find(namespaced, 'Role', 'tandem-operator-leader-election') as unknown as { rules: unknown }).rules).toEqual(OPERATOR_RBAC.leaderElection);
    expect(find(renderInstallBundle(), 'Deployment').spec.template.spec.containers[0].args.join(' ')).not.toContain('--namespaces');
  });

  it('When no monitoring is asked for, Then it renders no ServiceMonitor, PrometheusRule or dashboard ConfigMap (their CRDs and Grafana are optional)', () => {
    expect(objects.map((o) => o.kind)).not.toEqual(expect.arrayContaining(['ServiceMonitor']));
    expect(objects.filter((o) => o.kind === 'PrometheusRule' || o.kind === 'ConfigMap')).toEqual([]);
  });

  it('When monitoring is asked for, Then the ServiceMonitor selects the metrics Service, the PrometheusRule holds the operator alerts and each dashboard is a ConfigMap for the Grafana sidecar', () => {
    const files = new Map([['tandem-operator.json', '{"uid":"tandem-operator"}\n']]);
    const monitored = renderInstallBundle({ monitoring: { serviceMonitor: { labels: { release: 'kps' } }, prometheusRule: {}, dashboards: { files, namespace: 'grafana' } } });
    const monitor = find(monitored, 'ServiceMonitor');
    expect(monitor.metadata?.labels).toMatchObject({ release: 'kps' });
    expect(find(monitored, 'Service').metadata?.labels).toMatchObject(monitor.spec.selector.matchLabels);
    expect(find(monitored, 'PrometheusRule').spec.groups[0].rules.map((r: { alert: string }) => r.alert)).toEqual(['TandemOperatorReconcileErrors', 'TandemOperatorNoLeader', 'TandemOperatorQueueBacklog']);
    const dashboard = find(monitored, 'ConfigMap', 'tandem-operator-dashboard-operator');
    expect(dashboard.metadata).toMatchObject({ namespace: 'grafana', labels: { grafana_dashboard: '1' } });
    expect(dashboard.data).toEqual({ 'tandem-operator.json': '{"uid":"tandem-operator"}\n' });
  });

  it('is byte-identical from one render to the next', () => {
    expect(toYaml(renderInstallBundle())).toBe(toYaml(renderInstallBundle()));
  });
});
