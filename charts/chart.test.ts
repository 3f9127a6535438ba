import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { operatorRuleGroups } from '../cdk8s/alerts/operator.js';
import { promtoolDir } from '../cdk8s/test/promtool.js';
import { renderDashboards } from '../dashboards/render.js';
import { recommenderCrd } from '../cdk8s/api/v1alpha1/crd.js';
import { OPERATOR_RBAC, renderInstallBundle } from '../cdk8s/install-bundle.js';
import { find, kinds, type Obj } from '../cdk8s/test/fixtures.js';
import { parse } from 'yaml';
import { generatedFiles, VALUES_DOC, VALUES_SECTION } from './generate.js';
import { valueDocs, valuesTable } from './values-docs.js';
import { CHART_DIR, chartYaml, helmLabels, helmTemplate, helmTemplateRun, normaliseBundle, normaliseChart, objectKey, run } from './test/helm.js';

const tools = promtoolDir();
afterAll(() => tools.cleanup());

const container = (objects: readonly KubernetesObject[]) => find(objects, 'Deployment').spec.template.spec.containers[0];

describe('the generated chart files', () => {
  it.each(Object.entries(generatedFiles()))('When %s is committed, Then it equals what `npm run chart` writes from its source', (path, content) => {
    expect(readFileSync(join(CHART_DIR, path), 'utf8'), `charts/tandem-operator/${path} is stale: run \`npm run chart\``).toBe(content);
  });

  it('ships the CRD exactly as recommenderCrd() builds it, and helm renders it unchanged with --include-crds', () => {
    const crd = find(helmTemplate({}, { includeCrds: true }), 'CustomResourceDefinition');
    expect(crd).toEqual(JSON.parse(JSON.stringify(recommenderCrd())));
  });
});

describe('the values documentation', () => {
  const valuesText = readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8');
  const docs = valueDocs(valuesText);

  it('When the docs/chart.md values table is committed, Then it equals what `npm run chart` writes from values.yaml', () => {
    const page = readFileSync(VALUES_DOC, 'utf8');
    const block = new RegExp(`<!-- ${VALUES_SECTION}:start -->\\n([\\s\\S]*?)\\n<!-- ${VALUES_SECTION}:end -->`).exec(page);
    expect(block?.[1], 'docs/chart.md values table is stale: run `npm run chart`').toBe(valuesTable(CHART_DIR));
  });

  it('documents every value, and the schema knows exactly the documented values', () => {
    const leaves = (value: unknown, path: string[] = []): string[] =>
      value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0 && !docs.some((d) => d.key === path.join('.'))
        ? Object.entries(value).flatMap(([k, v]) => leaves(v, [...path, k]))
        : [path.join('.')];
    const keys = docs.map((d) => d.key);
    expect(leaves(parse(valuesText))).toEqual(keys);
    type Schema = { properties?: Record<string, Schema> };
    const schemaPaths = (schema: Schema, path: string[] = []): string[] =>
      Object.entries(schema.properties ?? {}).flatMap(([k, s]) => [[...path, k].join('.'), ...schemaPaths(s, [...path, k])]);
    const paths = schemaPaths(JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')) as Schema);
    for (const key of keys) expect(paths, `values.schema.json has no property for ${key}`).toContain(key);
    for (const path of paths) expect(keys.some((k) => path === k || path.startsWith(`${k}.`) || k.startsWith(`${path}.`)), `${path} is in the schema but not in values.yaml`).toBe(true);
  });
});

describe('helm lint', () => {
  it('passes --strict with the default values', () => {
    const res = run('helm', ['lint', '--strict', CHART_DIR]);
    expect(res.stdout + res.stderr).toContain('0 chart(s) failed');
    expect(res.status).toBe(0);
  });

  it('passes --strict with every optional feature switched on', () => {
    const values = {
      watchNamespaces: ['shop'],
      replicas: 3,
      workers: 8,
      resyncSeconds: 300,
      serviceMonitor: { enabled: true },
      prometheusRule: { enabled: true },
      dashboards: { enabled: true },
      namespace: { create: true },
    };
    const res = run('helm', ['lint', '--strict', CHART_DIR, '--values', '-'], JSON.stringify(values));
    expect(res.stdout + res.stderr).toContain('0 chart(s) failed');
    expect(res.status).toBe(0);
  });
});

describe('the default render equals the cdk8s install bundle', () => {
  it('When installed as release tandem-operator, Then every object equals the bundle\'s, but for Helm\'s labels and the Namespace', () => {
    const chart = normaliseChart(helmTemplate({}, { includeCrds: true }));
    const bundle = normaliseBundle(renderInstallBundle().filter((o) => o.kind !== 'Namespace'));
    expect([...chart.keys()].sort()).toEqual([...bundle.keys()].sort());
    for (const [key, object] of bundle) expect(chart.get(key), key).toEqual(object);
  });

  it('When namespace.create is true, Then the Namespace (restricted Pod Security) is rendered too and the whole bundle is equal', () => {
    const chart = normaliseChart(helmTemplate({ namespace: { create: true } }, { includeCrds: true }));
    const bundle = normaliseBundle(renderInstallBundle());
    expect([...chart.keys()].sort()).toEqual([...bundle.keys()].sort());
    for (const [key, object] of bundle) expect(chart.get(key), key).toEqual(object);
  });

  it('When the bundle options are set through values, Then the render still equals renderInstallBundle() with the same options', () => {
    const options = { namespace: 'shop-ops', image: 'registry.example.com/tandem/operator:1.2.3', replicas: 3, monitoringNamespace: 'prometheus' };
    const values = { namespace: { create: true }, image: { repository: 'registry.example.com/tandem/operator', tag: '1.2.3' }, replicas: 3, monitoringNamespace: 'prometheus' };
    const chart = normaliseChart(helmTemplate(values, { includeCrds: true, namespace: 'shop-ops' }));
    const bundle = normaliseBundle(renderInstallBundle(options));
    expect([...chart.keys()].sort()).toEqual([...bundle.keys()].sort());
    for (const [key, object] of bundle) expect(chart.get(key), key).toEqual(object);
  });

  it('When watchNamespaces is set, Then the render equals the namespaced bundle (a Role per namespace, no ClusterRole)', () => {
    const chart = normaliseChart(helmTemplate({ watchNamespaces: ['shop', 'outlet'] }, { includeCrds: true }));
    const bundle = normaliseBundle(renderInstallBundle({ watchNamespaces: ['shop', 'outlet'] }).filter((o) => o.kind !== 'Namespace'));
    expect([...chart.keys()].sort()).toEqual([...bundle.keys()].sort());
    for (const [key, object] of bundle) expect(chart.get(key), key).toEqual(object);
  });

  it('When the API server and DNS values are set, Then the NetworkPolicy equals the bundle\'s with the same options', () => {
    const apiServer = { cidrs: ['10.96.0.1/32'], ports: [6443] };
    const dns = { namespace: 'openshift-dns', podLabels: { 'dns.operator.openshift.io/daemonset-dns': 'default' }, cidrs: ['169.254.20.10/32'], ports: [5353] };
    // Helm merges maps with the defaults: a null drops the default's `k8s-app` key.
    const chart = normaliseChart(helmTemplate({ networkPolicy: { apiServer, dns: { ...dns, podLabels: { ...dns.podLabels, 'k8s-app': null } } } }));
    const bundle = normaliseBundle(renderInstallBundle({ apiServer, dns }));
    expect(chart.get('NetworkPolicy tandem-system/tandem-operator')).toEqual(bundle.get('NetworkPolicy tandem-system/tandem-operator'));
  });

  it('When the ServiceMonitor, the PrometheusRule and the dashboards are switched on with labels, Then the render equals the bundle with the same monitoring options', () => {
    const labels = { release: 'kube-prometheus-stack' };
    const values = {
      serviceMonitor: { enabled: true, labels },
      prometheusRule: { enabled: true, labels },
      dashboards: { enabled: true, namespace: 'monitoring' },
    };
    const options = { monitoring: { serviceMonitor: { labels }, prometheusRule: { labels }, dashboards: { files: renderDashboards(), namespace: 'monitoring' } } };
    const chart = normaliseChart(helmTemplate(values, { includeCrds: true }));
    const bundle = normaliseBundle(renderInstallBundle(options).filter((o) => o.kind !== 'Namespace'));
    expect([...chart.keys()].sort()).toEqual([...bundle.keys()].sort());
    for (const [key, object] of bundle) expect(chart.get(key), key).toEqual(object);
    expect([...chart.keys()].filter((k) => k.startsWith('ConfigMap monitoring/'))).toEqual([
      'ConfigMap monitoring/tandem-operator-dashboard-business',
      'ConfigMap monitoring/tandem-operator-dashboard-operator',
      'ConfigMap monitoring/tandem-operator-dashboard-recommender',
    ]);
  });

  it('When the PrometheusRule is rendered in another namespace, Then its alerts select the operator there and promtool accepts them', () => {
    const rule = find(helmTemplate({ prometheusRule: { enabled: true } }, { namespace: 'ops' }), 'PrometheusRule');
    expect(rule.spec).toEqual(JSON.parse(JSON.stringify({ groups: operatorRuleGroups('ops') })));
    const run = tools.checkRules('chart-rules.yaml', rule.spec as object);
    expect(run.output).toContain('SUCCESS: 3 rules found');
  });

  it('adds Helm\'s labels to object metadata only, never to selectors or the pod template', () => {
    const objects = helmTemplate();
    for (const o of objects) expect(o.metadata?.labels, objectKey(o)).toMatchObject(helmLabels());
    const deployment = find(objects, 'Deployment');
    for (const labels of [deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels, find(objects, 'Service').spec.selector]) {
      for (const key of Object.keys(helmLabels())) expect(labels).not.toHaveProperty([key]);
    }
  });

  it('takes the image tag from the chart\'s appVersion, and the appVersion is the bundle\'s image tag', () => {
    const bundleImage = container(renderInstallBundle()).image as string;
    expect(container(helmTemplate()).image).toBe(bundleImage);
    expect(bundleImage.endsWith(`:${chartYaml().appVersion}`)).toBe(true);
  });

  it('When installed under another release name, Then the objects are named after it and the ServiceAccount binding follows', () => {
    const objects = helmTemplate({}, { release: 'shop' });
    expect(kinds(objects)).toContain('Deployment/shop-tandem-operator');
    const binding = find(objects, 'ClusterRoleBinding') as Obj & { subjects: unknown; roleRef: { name: string } };
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'shop-tandem-operator', namespace: 'tandem-system' }]);
    expect(binding.roleRef.name).toBe('shop-tandem-operator');
    expect(find(objects, 'Deployment').spec.template.spec.serviceAccountName).toBe('shop-tandem-operator');
  });
});

describe('helm template with custom values', () => {
  it('When watchNamespaces lists namespaces, Then the operator watches only them, with a Role in each and no ClusterRole', () => {
    const objects = helmTemplate({ watchNamespaces: ['shop', 'outlet'] });
    expect(container(objects).args).toContain('--namespaces=shop,outlet');
    expect(objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')).toEqual([]);
    for (const ns of ['shop', 'outlet']) {
      const role = objects.find((o) => o.kind === 'Role' && o.metadata?.namespace === ns) as (KubernetesObject & { rules: unknown }) | undefined;
      const binding = objects.find((o) => o.kind === 'RoleBinding' && o.metadata?.namespace === ns) as (KubernetesObject & { subjects: unknown }) | undefined;
      expect(role?.rules, ns).toEqual(OPERATOR_RBAC.clusterRole);
      expect(binding?.subjects, ns).toEqual([{ kind: 'ServiceAccount', name: 'tandem-operator', namespace: 'tandem-system' }]);
    }
    const leaseRole = find(objects, 'Role', 'tandem-operator-leader-election') as Obj & { rules: unknown };
    expect(leaseRole.rules).toEqual(OPERATOR_RBAC.leaderElection);
  });

  it('When replicas, workers and resyncSeconds are set, Then the Deployment and the operator flags carry them', () => {
    const objects = helmTemplate({ replicas: 3, workers: 8, resyncSeconds: 300 });
    expect(find(objects, 'Deployment').spec.replicas).toBe(3);
    expect(container(objects).args).toEqual(['--leader-elect=true', '--metrics-port=8080', '--health-port=8081', '--workers=8', '--resync-seconds=300']);
  });

  it('When leaderElect is false with one replica, Then the flag is off and no Lease Role is granted', () => {
    const objects = helmTemplate({ leaderElect: false, replicas: 1 });
    expect(container(objects).args).toContain('--leader-elect=false');
    expect(find(objects, 'Deployment').spec.replicas).toBe(1);
    expect(objects.filter((o) => o.kind === 'Role' || o.kind === 'RoleBinding')).toEqual([]);
  });

  it('When the metrics port and monitoring namespace change, Then the container, Service and NetworkPolicy agree on them', () => {
    const objects = helmTemplate({ metrics: { port: 9000 }, health: { port: 9001 }, monitoringNamespace: 'prometheus' });
    expect(container(objects).args).toEqual(['--leader-elect=true', '--metrics-port=9000', '--health-port=9001']);
    expect(container(objects).ports).toEqual([
      { name: 'metrics', containerPort: 9000, protocol: 'TCP' },
      { name: 'health', containerPort: 9001, protocol: 'TCP' },
    ]);
    expect(container(objects).readinessProbe.httpGet.port).toBe(9001);
    expect(find(objects, 'Service').spec.ports).toEqual([{ name: 'metrics', port: 9000, targetPort: 9000, protocol: 'TCP' }]);
    expect(find(objects, 'NetworkPolicy').spec.ingress).toEqual([
      { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'prometheus' } } }], ports: [{ protocol: 'TCP', port: 9000 }] },
    ]);
  });

  it('When scheduling and pod metadata values are set, Then the pod template carries them and the selector is unchanged', () => {
    const values = {
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'ops', effect: 'NoSchedule' }],
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'pool', operator: 'In', values: ['ops'] }] }] } } },
      topologySpreadConstraints: [],
      priorityClassName: 'system-cluster-critical',
      imagePullSecrets: [{ name: 'regcred' }],
      podAnnotations: { 'example.com/team': 'platform' },
      podLabels: { team: 'platform' },
      resources: { requests: { cpu: '200m', memory: '256Mi' }, limits: { cpu: 1, memory: '1Gi' } },
      image: { digest: `sha256:${'a'.repeat(64)}`, pullPolicy: 'Always' },
      serviceAccount: { annotations: { 'example.com/role': 'tandem' } },
    };
    const objects = helmTemplate(values);
    const deployment = find(objects, 'Deployment');
    const pod = deployment.spec.template;
    expect(pod.spec).toMatchObject({
      nodeSelector: values.nodeSelector,
      tolerations: values.tolerations,
      affinity: values.affinity,
      priorityClassName: 'system-cluster-critical',
      imagePullSecrets: [{ name: 'regcred' }],
    });
    expect(pod.spec).not.toHaveProperty('topologySpreadConstraints');
    expect(pod.metadata).toEqual({
      labels: { 'app.kubernetes.io/component': 'operator', 'app.kubernetes.io/name': 'tandem', 'app.kubernetes.io/part-of': 'tandem', team: 'platform' },
      annotations: { 'example.com/team': 'platform' },
    });
    expect(deployment.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/component': 'operator', 'app.kubernetes.io/name': 'tandem' });
    expect(container(objects)).toMatchObject({ image: `ghcr.io/tandem-dev/operator@sha256:${'a'.repeat(64)}`, imagePullPolicy: 'Always', resources: values.resources });
    expect(find(objects, 'ServiceAccount').metadata?.annotations).toEqual({ 'example.com/role': 'tandem' });
  });

  it('When the NetworkPolicy and PDB are disabled and the ServiceMonitor enabled, Then exactly those objects change', () => {
    const objects = helmTemplate({ networkPolicy: { enabled: false }, podDisruptionBudget: { enabled: false }, serviceMonitor: { enabled: true, interval: '15s', labels: { release: 'prometheus' } } });
    expect(objects.map((o) => o.kind)).not.toContain('NetworkPolicy');
    expect(objects.map((o) => o.kind)).not.toContain('PodDisruptionBudget');
    const monitor = find(objects, 'ServiceMonitor');
    expect(monitor.metadata?.labels).toMatchObject({ release: 'prometheus' });
    expect(monitor.spec).toEqual({
      selector: { matchLabels: find(objects, 'Service').spec.selector },
      namespaceSelector: { matchNames: ['tandem-system'] },
      endpoints: [{ port: 'metrics', path: '/metrics', interval: '15s' }],
    });
  });
});

describe('values the chart rejects', () => {
  const schemaError = 'values don\'t meet the specifications of the schema(s)';
  it.each([
    ['a negative replica count', { replicas: -1 }, [schemaError, "at '/replicas': minimum: got -1, want 0"]],
    ['a replica count given as a word', { replicas: 'two' }, ["at '/replicas': got string, want integer"]],
    ['leaderElect as a string', { leaderElect: 'yes' }, ["at '/leaderElect': got string, want boolean"]],
    ['a watched namespace that is not a DNS label', { watchNamespaces: ['Shop_Front'] }, ["at '/watchNamespaces/0': 'Shop_Front' does not match pattern"]],
    ['the same watched namespace twice', { watchNamespaces: ['shop', 'shop'] }, ["at '/watchNamespaces': items at 0 and 1 are equal"]],
    ['zero workers', { workers: 0 }, ["at '/workers': minimum: got 0, want 1"]],
    ['a resync faster than 10 s', { resyncSeconds: 5 }, ["at '/resyncSeconds': minimum: got 5, want 10"]],
    ['an unknown pull policy', { image: { pullPolicy: 'Sometimes' } }, ["at '/image/pullPolicy': value must be one of 'Always', 'IfNotPresent', 'Never'"]],
    ['an image digest that is not sha256', { image: { digest: 'md5:abc' } }, ["at '/image/digest': 'md5:abc' does not match pattern"]],
    ['a misspelt top-level key', { replica: 3 }, ["at '': additional properties 'replica' not allowed"]],
    ['a misspelt nested key', { serviceMonitor: { enable: true } }, ["at '/serviceMonitor': additional properties 'enable' not allowed"]],
    ['a memory limit that is not a quantity', { resources: { limits: { memory: 'lots' } } }, ["at '/resources/limits/memory': 'lots' does not match pattern"]],
    ['a metrics port out of range', { metrics: { port: 70000 } }, ["at '/metrics/port': maximum: got 70,000, want 65,535"]],
    ['a monitoring namespace with capitals', { monitoringNamespace: 'Monitoring' }, ["at '/monitoringNamespace': 'Monitoring' does not match pattern"]],
    ['a PDB that lets no pod go', { podDisruptionBudget: { maxUnavailable: 0 } }, ["at '/podDisruptionBudget/maxUnavailable': minimum: got 0, want 1"]],
    ['a scrape interval without a unit', { serviceMonitor: { interval: '30' } }, ["at '/serviceMonitor/interval': '30' does not match pattern"]],
    ['two replicas without leader election', { leaderElect: false }, ["'replicas' (2) must be at most 1 when 'leaderElect' is false"]],
    ['the same port for metrics and health', { metrics: { port: 8081 } }, ["'metrics.port' and 'health.port' must differ, both are 8081"]],
    ['a pod label that would change the selector', { podLabels: { 'app.kubernetes.io/name': 'other' } }, ["'podLabels' may not set \"app.kubernetes.io/name\""]],
    ['no API server address at all', { networkPolicy: { apiServer: { cidrs: [] } } }, ["at '/networkPolicy/apiServer/cidrs': minItems: got 0, want 1"]],
    ['an API server address that is not a CIDR', { networkPolicy: { apiServer: { cidrs: ['10.0.0.1'] } } }, ["at '/networkPolicy/apiServer/cidrs/0': '10.0.0.1' does not match pattern"]],
  ])('When values have %s, Then helm refuses to render and says why', (_name, values, messages) => {
    const res = helmTemplateRun(values);
    expect(res.status).not.toBe(0);
    expect(res.stdout).toBe('');
    for (const message of messages) expect(res.stderr).toContain(message);
  });
});
