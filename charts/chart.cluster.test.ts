import { AuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { OPERATOR_RBAC } from '../cdk8s/install-bundle.js';
import { createTestNamespace, deleteNamespace, eventually, testKubeConfig } from '../test/kube.js';
import { CHART_DIR, helmTemplateYaml, run } from './test/helm.js';

const FIELD_MANAGER = 'tandem-chart-test';
const RESTRICTED = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/warn': 'restricted',
  'pod-security.kubernetes.io/audit': 'restricted',
};

describe('the chart on a real API server', () => {
  // A release name of its own, so the cluster-scoped ClusterRole and binding never collide with other test files.
  const release = `chart-${process.pid}-a`;
  const fullname = `${release}-tandem-operator`;
  let kc: KubeConfig;
  let kubeconfig: string;
  let namespace: string;
  const kubectl = (args: string[], input?: string) => run('kubectl', ['--kubeconfig', kubeconfig, ...args], input);
  const apply = (yaml: string, dryRun: boolean) =>
    kubectl(['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`, '--validate=strict', ...(dryRun ? ['--dry-run=server'] : []), '-f', '-'], yaml);

  beforeAll(async () => {
    kc = testKubeConfig();
    kubeconfig = inject('kubeconfigPath');
    namespace = await createTestNamespace(kc, 'chart', RESTRICTED);
  });
  afterAll(async () => {
    kubectl(['delete', 'clusterrolebinding,clusterrole', fullname, '--ignore-not-found']);
    await deleteNamespace(kc, namespace);
  });

  it('When the default render (CRD included) is applied server-side in a fresh restricted namespace, Then the dry run and the real apply succeed with no warnings', () => {
    const yaml = helmTemplateYaml({}, { release, namespace, includeCrds: true });
    for (const dryRun of [true, false]) {
      const res = apply(yaml, dryRun);
      expect({ dryRun, status: res.status, stderr: res.stderr }).toEqual({ dryRun, status: 0, stderr: '' });
      expect(res.stdout).toContain(`deployment.apps/${fullname} serverside-applied`);
    }
  });

  it('When a render breaks restricted Pod Security, Then the dry run reports the warning, so the empty stderr above means something', () => {
    const broken = helmTemplateYaml({}, { release, namespace }).replace('allowPrivilegeEscalation: false', 'allowPrivilegeEscalation: true');
    const res = apply(broken, true);
    expect(res.status).toBe(0);
    expect(res.stderr).toContain('Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false');
  });

  it('Then the ReplicaSet controller creates both operator pods, admitted under restricted Pod Security', async () => {
    const pods = await eventually(
      async () => {
        const res = kubectl(['get', 'pods', '-n', namespace, '-l', 'app.kubernetes.io/name=tandem,app.kubernetes.io/component=operator', '-o', 'name']);
        const names = res.stdout.split('\n').filter(Boolean);
        return names.length === 2 ? names : undefined;
      },
      30_000,
      'two operator pods',
    );
    expect(pods).toHaveLength(2);
  });

  it('When the same render is applied again, Then the Deployment is not changed', () => {
    const generation = () => kubectl(['get', 'deployment', fullname, '-n', namespace, '-o', 'jsonpath={.metadata.generation}']).stdout;
    const before = generation();
    expect(apply(helmTemplateYaml({}, { release, namespace }), false).status).toBe(0);
    expect(generation()).toBe(before);
  });
});

describe('helm install on a real API server', () => {
  const release = `chart-${process.pid}-b`;
  const fullname = `${release}-tandem-operator`;
  let kc: KubeConfig;
  let kubeconfig: string;
  let namespace: string;
  let watched: string;
  let other: string;
  const helm = (args: string[], input?: string) => run('helm', ['--kubeconfig', kubeconfig, ...args], input);
  const can = async (verb: string, group: string, resource: string, ns: string) => {
    const [res, subresource] = resource.split('/') as [string, string | undefined];
    const review = await kc.makeApiClient(AuthorizationV1Api).createSubjectAccessReview({
      body: {
        spec: {
          user: `system:serviceaccount:${namespace}:${fullname}`,
          groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`],
          resourceAttributes: { verb, group, resource: res, namespace: ns, ...(subresource ? { subresource } : {}) },
        },
      },
    });
    return review.status?.allowed === true;
  };

  beforeAll(async () => {
    kc = testKubeConfig();
    kubeconfig = inject('kubeconfigPath');
    [namespace, watched, other] = await Promise.all([createTestNamespace(kc, 'chart-helm', RESTRICTED), createTestNamespace(kc, 'chart-shop'), createTestNamespace(kc, 'chart-other')]);
  });
  afterAll(async () => {
    helm(['uninstall', release, '--namespace', namespace]);
    await Promise.all([namespace, watched, other].map((ns) => deleteNamespace(kc, ns)));
  });

  it('When installed with a watched namespace, one replica without leader election and a ServiceMonitor, Then helm installs it with no warnings', () => {
    const values = { watchNamespaces: [watched], leaderElect: false, replicas: 1, serviceMonitor: { enabled: true }, workers: 2 };
    // The shared control plane already has the CRD; --skip-crds leaves it to the global setup.
    const res = helm(['install', release, CHART_DIR, '--namespace', namespace, '--skip-crds', '--values', '-'], JSON.stringify(values));
    expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: '' });
    expect(res.stdout).toContain('STATUS: deployed');
    expect(res.stdout).toContain(`watching the namespaces ${watched}`);
    const kinds = run('kubectl', ['--kubeconfig', kubeconfig, 'get', 'deployment,service,servicemonitor,networkpolicy,poddisruptionbudget,serviceaccount', '-n', namespace, '-l', `app.kubernetes.io/instance=${release}`, '-o', 'name']);
    expect(kinds.stdout.split('\n').filter(Boolean).sort()).toEqual(
      [
        `deployment.apps/${fullname}`,
        `networkpolicy.networking.k8s.io/${fullname}`,
        `poddisruptionbudget.policy/${fullname}`,
        `service/${fullname}-metrics`,
        `serviceaccount/${fullname}`,
        `servicemonitor.monitoring.coreos.com/${fullname}`,
      ].sort(),
    );
  });

  it('When an install would break restricted Pod Security, Then helm shows the API server\'s warning, so the empty stderr above means something', async () => {
    const warnNamespace = await createTestNamespace(kc, 'chart-warn', { 'pod-security.kubernetes.io/warn': 'restricted' });
    try {
      const res = helm([
        'install', 'warned', CHART_DIR, '--namespace', warnNamespace, '--skip-crds', '--set', 'watchNamespaces={' + warnNamespace + '}',
        '--post-renderer', 'sed', '--post-renderer-args', 's/allowPrivilegeEscalation: false/allowPrivilegeEscalation: true/',
      ]);
      expect(res.status).toBe(0);
      expect(res.stderr, 'helm stderr').toMatch(/would violate PodSecurity .*allowPrivilegeEscalation != false/);
    } finally {
      helm(['uninstall', 'warned', '--namespace', warnNamespace]);
      await deleteNamespace(kc, warnNamespace);
    }
  });

  it('Then its ServiceAccount has exactly the operator\'s rules in the watched namespace, none elsewhere, and no Lease rights', async () => {
    for (const rule of OPERATOR_RBAC.clusterRole) {
      for (const resource of rule.resources) {
        for (const verb of rule.verbs) {
          expect(await can(verb, rule.apiGroups[0]!, resource, watched), `${verb} ${resource} in the watched namespace`).toBe(true);
          expect(await can(verb, rule.apiGroups[0]!, resource, other), `${verb} ${resource} elsewhere`).toBe(false);
        }
      }
    }
    expect(await can('create', 'coordination.k8s.io', 'leases', namespace)).toBe(false);
    expect(await can('get', '', 'secrets', watched)).toBe(false);
    expect(await can('update', 'apps', 'deployments', watched)).toBe(false);
  });
});
