import { describe, expect, it } from 'vitest';
import type { RecommenderSpecInput } from './api/v1alpha1/recommender.js';
import { allowedCallerProblems } from './network-policies.js';
import { renderRecommender } from './recommender-chart.js';
import { find, recommender, type Obj } from './test/fixtures.js';

const NOT_PAYMENTS = { key: 'tandem.dev/zone', operator: 'NotIn', values: ['payments'] };
const inNamespace = (name: string) => ({ matchLabels: { 'kubernetes.io/metadata.name': name }, matchExpressions: [NOT_PAYMENTS] });
const METRICS_READERS = [
  { namespaceSelector: inNamespace('monitoring') },
  { namespaceSelector: inNamespace('tandem-system'), podSelector: { matchLabels: { 'app.kubernetes.io/component': 'operator', 'app.kubernetes.io/name': 'tandem' } } },
];
const pods = (component: string) => ({
  matchLabels: { 'app.kubernetes.io/component': component, 'app.kubernetes.io/instance': 'storefront', 'app.kubernetes.io/name': 'tandem' },
});
const tcp = (port: number) => ({ protocol: 'TCP', port });
const DNS = { to: [{ namespaceSelector: inNamespace('kube-system'), podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }], ports: [{ protocol: 'UDP', port: 53 }, tcp(53)] };

const storefrontCaller: RecommenderSpecInput = {
  network: { allowedCallers: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'storefront' } }, podSelector: { matchLabels: { app: 'web' } } }] },
};

describe('the NetworkPolicies', () => {
  const objects = renderRecommender(recommender(storefrontCaller));
  const policy = (name: string): Obj => find(objects, 'NetworkPolicy', `storefront-${name}`);

  it('deny all ingress and egress for every pod of the Recommender by default', () => {
    expect(policy('default-deny').spec).toEqual({
      podSelector: { matchLabels: { 'app.kubernetes.io/instance': 'storefront', 'app.kubernetes.io/name': 'tandem' } },
      policyTypes: ['Ingress', 'Egress'],
    });
  });

  it('let scoring accept the allowed callers on the API port, and the monitoring namespace and the operator on the metrics port only', () => {
    expect(policy('scoring-ingress').spec).toEqual({
      podSelector: pods('scoring'),
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'storefront' }, matchExpressions: [NOT_PAYMENTS] }, podSelector: { matchLabels: { app: 'web' } } }],
          ports: [tcp(8080)],
        },
        { from: METRICS_READERS, ports: [tcp(9090)] },
      ],
    });
  });

  it('let scoring reach only its Redis and the cluster DNS', () => {
    expect(policy('scoring-egress').spec).toEqual({
      podSelector: pods('scoring'),
      policyTypes: ['Egress'],
      egress: [{ to: [{ namespaceSelector: inNamespace('shop'), podSelector: pods('cache') }], ports: [tcp(6379)] }, DNS],
    });
  });

  it('let Redis accept only scoring and the trainer', () => {
    expect(policy('cache-ingress').spec).toEqual({
      podSelector: pods('cache'),
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [
            { namespaceSelector: inNamespace('shop'), podSelector: pods('scoring') },
            { namespaceSelector: inNamespace('shop'), podSelector: pods('trainer') },
          ],
          ports: [tcp(6379)],
        },
      ],
    });
  });

  it('let the trainer reach only its Redis and the cluster DNS', () => {
    expect(policy('trainer-egress').spec.egress).toEqual([{ to: [{ namespaceSelector: inNamespace('shop'), podSelector: pods('cache') }], ports: [tcp(6379)] }, DNS]);
  });

  it('When there are no allowed callers, Then scoring accepts only the monitoring namespace and the operator, on the metrics port', () => {
    const ingress = find(renderRecommender(recommender()), 'NetworkPolicy', 'storefront-scoring-ingress').spec.ingress;
    expect(ingress).toEqual([{ from: METRICS_READERS, ports: [tcp(9090)] }]);
  });

  it('When a caller has only a podSelector, Then it is pinned to the Recommender namespace', () => {
    const ingress = find(renderRecommender(recommender({ network: { allowedCallers: [{ podSelector: { matchLabels: { app: 'web' } } }] } })), 'NetworkPolicy', 'storefront-scoring-ingress').spec.ingress;
    expect(ingress[0].from).toEqual([{ namespaceSelector: inNamespace('shop'), podSelector: { matchLabels: { app: 'web' } } }]);
  });

  it('When the cache is disabled, Then no rule mentions Redis', () => {
    const off = renderRecommender(recommender({ cache: { enabled: false } }));
    expect(off.filter((o) => o.kind === 'NetworkPolicy').map((o) => o.metadata?.name)).not.toContain('storefront-cache-ingress');
    expect(find(off, 'NetworkPolicy', 'storefront-scoring-egress').spec.egress).toEqual([DNS]);
  });

  it('When the cluster runs NodeLocal DNSCache, Then scoring and the trainer may also query its link-local address', () => {
    const rendered = renderRecommender(recommender({ network: { dns: { cidrs: ['169.254.20.10/32'] } } }));
    const dns = { ...DNS, to: [...DNS.to, { ipBlock: { cidr: '169.254.20.10/32' } }] };
    expect(find(rendered, 'NetworkPolicy', 'storefront-scoring-egress').spec.egress[1]).toEqual(dns);
    expect(find(rendered, 'NetworkPolicy', 'storefront-trainer-egress').spec.egress[1]).toEqual(dns);
  });

  it('When the cluster runs OpenShift DNS, Then the DNS peer is its pods on the port they listen on', () => {
    const dns = { namespace: 'openshift-dns', podSelector: { matchLabels: { 'dns.operator.openshift.io/daemonset-dns': 'default' } }, ports: [53, 5353] };
    const egress = find(renderRecommender(recommender({ network: { dns } })), 'NetworkPolicy', 'storefront-scoring-egress').spec.egress;
    expect(egress[1]).toEqual({
      to: [{ namespaceSelector: inNamespace('openshift-dns'), podSelector: dns.podSelector }],
      ports: [{ protocol: 'UDP', port: 53 }, tcp(53), { protocol: 'UDP', port: 5353 }, tcp(5353)],
    });
  });

  it('When models live in an object store, Then scoring and the trainer may reach it on its ports, and protected namespaces still cannot be reached', () => {
    const s3 = { bucket: 'models', endpoint: 'http://seaweedfs.storage:8333', egress: { cidrs: ['203.0.113.0/24'], namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'storage' } }, podSelector: { matchLabels: { app: 'seaweedfs' } }, ports: [8333] } };
    const rendered = renderRecommender(recommender({ model: { storage: { type: 's3', s3 } } }));
    const objectStore = {
      to: [{ ipBlock: { cidr: '203.0.113.0/24' } }, { namespaceSelector: inNamespace('storage'), podSelector: { matchLabels: { app: 'seaweedfs' } } }],
      ports: [tcp(8333)],
    };
    for (const name of ['scoring-egress', 'trainer-egress']) expect(find(rendered, 'NetworkPolicy', `storefront-${name}`).spec.egress).toContainEqual(objectStore);
    const podOnly = renderRecommender(recommender({ model: { storage: { type: 's3', s3: { ...s3, egress: { podSelector: { matchLabels: { app: 'minio' } } } } } } }));
    expect(find(podOnly, 'NetworkPolicy', 'storefront-scoring-egress').spec.egress[2]).toEqual({ to: [{ namespaceSelector: inNamespace('shop'), podSelector: { matchLabels: { app: 'minio' } } }], ports: [tcp(443)] });
    expect(find(renderRecommender(recommender()), 'NetworkPolicy', 'storefront-scoring-egress').spec.egress).toHaveLength(2);
  });

  it('exclude every protected namespace from every peer, with a custom protected selector', () => {
    const spec: RecommenderSpecInput = {
      ...storefrontCaller,
      network: { ...storefrontCaller.network, protectedNamespaces: { matchLabels: { pci: 'true', zone: 'payments' } } },
    };
    const rendered = renderRecommender(recommender(spec));
    for (const p of rendered.filter((o) => o.kind === 'NetworkPolicy')) {
      const rules = [...((p as Obj).spec.ingress ?? []).map((r: { from: unknown[] }) => r.from), ...((p as Obj).spec.egress ?? []).map((r: { to: unknown[] }) => r.to)];
      for (const peers of rules) {
        expect(peers.length).toBeGreaterThan(0);
        for (const peer of peers as { namespaceSelector: { matchExpressions: { key: string; operator: string }[] } }[]) {
          const excluded = peer.namespaceSelector.matchExpressions.filter((e) => e.operator === 'NotIn').map((e) => e.key);
          expect(excluded.length).toBe(1);
          expect(['pci', 'zone']).toContain(excluded[0]);
        }
      }
    }
  });
});

describe('allowed callers that could match a protected namespace', () => {
  const caller = (namespaceSelector: object) => recommender({ network: { allowedCallers: [{ namespaceSelector }] } }).spec;

  it.each<[string, object]>([
    ['an empty namespaceSelector (every namespace)', {}],
    ['the protected label itself', { matchLabels: { 'tandem.dev/zone': 'payments' } }],
    ['the protected label among other values', { matchExpressions: [{ key: 'tandem.dev/zone', operator: 'In', values: ['payments', 'web'] }] }],
    ['any value of the protected label', { matchExpressions: [{ key: 'tandem.dev/zone', operator: 'Exists' }] }],
    ['an exclusion of some other value of the protected label', { matchExpressions: [{ key: 'tandem.dev/zone', operator: 'NotIn', values: ['web'] }] }],
  ])('refuses %s', (_name, selector) => {
    expect(allowedCallerProblems(caller(selector))).toHaveLength(1);
    expect(() => renderRecommender(recommender({ network: { allowedCallers: [{ namespaceSelector: selector }] } }))).toThrow(
      /spec\.network\.allowedCallers\[0\]\.namespaceSelector.*(protected namespace|protected ones)/,
    );
  });

  it.each<[string, object]>([
    ['a namespace by name', { matchLabels: { 'kubernetes.io/metadata.name': 'storefront' } }],
    ['another value of the protected label', { matchLabels: { 'tandem.dev/zone': 'storefront' } }],
    ['an explicit exclusion of the protected value', { matchExpressions: [{ key: 'tandem.dev/zone', operator: 'NotIn', values: ['payments'] }] }],
    ['namespaces without the protected label', { matchExpressions: [{ key: 'tandem.dev/zone', operator: 'DoesNotExist' }] }],
  ])('accepts %s', (_name, selector) => {
    expect(allowedCallerProblems(caller(selector))).toEqual([]);
  });

  it('names the caller field and the protected field in the error', () => {
    const spec = recommender({
      network: {
        allowedCallers: [{ namespaceSelector: { matchLabels: { team: 'web' } } }, { namespaceSelector: { matchLabels: { 'tandem.dev/zone': 'payments' } } }],
      },
    });
    expect(() => renderRecommender(spec)).toThrow(
      'spec.network.allowedCallers[1].namespaceSelector.matchLabels["tandem.dev/zone"]: Invalid value: "tandem.dev/zone=payments": could match a protected namespace (spec.network.protectedNamespaces.matchLabels["tandem.dev/zone"]: "tandem.dev/zone=payments")',
    );
  });
});
