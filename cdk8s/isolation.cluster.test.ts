/**
 * The isolation proof: np-guard's netpol-analyzer computes every allowed connection of a small world
 * (the shop, an allowed storefront, payments labelled protected, monitoring, kube-system with kube-dns,
 * and strangers) with the rendered NetworkPolicies and workloads, and we compare it with the exact
 * connectivity the design allows.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { toolPath } from '../hack/control-plane.js';
import type { Recommender, RecommenderSpecInput } from './api/v1alpha1/recommender.js';
import { validateRecommender } from './api/v1alpha1/validate.js';
import { renderRecommender } from './recommender-chart.js';
import { toYaml } from './render.js';
import { recommender } from './test/fixtures.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const namespace = (name: string, labels: Record<string, string> = {}): KubernetesObject =>
  ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } } }) as KubernetesObject;
const pod = (ns: string, name: string, labels: Record<string, string>, ports: number[] = []): KubernetesObject =>
  ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels },
    spec: { containers: [{ name: 'main', image: 'example', ports: ports.map((containerPort) => ({ containerPort })) }] },
  }) as KubernetesObject;

interface Connection {
  readonly src: string;
  readonly dst: string;
  readonly conn: string;
}

/**
 * Every allowed connection, as netpol-analyzer lists them. The analyzer only logs objects it cannot
 * read and carries on (its `--fail` flag is broken in 1.4.2), so anything on stderr fails the proof.
 */
function analyze(objects: readonly KubernetesObject[]): Connection[] {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-netpol-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'world.yaml'), toYaml(objects));
  const run = spawnSync(toolPath('netpolicy'), ['list', '--dirpath', dir, '-o', 'json'], { encoding: 'utf8' });
  if (run.status !== 0 || run.stderr.trim() !== '') throw new Error(`netpolicy list failed (exit ${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout) as Connection[];
}

const SCORING = 'shop/storefront[Deployment]';
const REDIS = 'shop/storefront-redis[StatefulSet]';
const TRAINER = 'shop/storefront-retrain[CronJob]';
const RECOMMENDER_WORKLOADS = [SCORING, REDIS, TRAINER];
const DNS = 'kube-system/coredns[Pod]';

/** The world of the issue, plus strangers: a neighbour pod in the shop namespace and a pod elsewhere. */
function world(extra: readonly KubernetesObject[] = []): KubernetesObject[] {
  return [
    namespace('shop'),
    namespace('storefront', { team: 'storefront' }),
    namespace('payments', { 'tandem.dev/zone': 'payments', team: 'storefront' }),
    namespace('monitoring'),
    namespace('kube-system'),
    namespace('elsewhere'),
    pod('storefront', 'web', { app: 'storefront-backend' }, [80]),
    pod('storefront', 'batch', { app: 'batch' }),
    // The payments pod carries the caller's labels, in a namespace with the caller's team label:
    // only the protected label keeps it out.
    pod('payments', 'pay-api', { app: 'storefront-backend' }, [443]),
    pod('monitoring', 'prometheus', { app: 'prometheus' }, [9090]),
    pod('kube-system', 'coredns', { 'k8s-app': 'kube-dns' }, [53]),
    pod('elsewhere', 'intruder', { app: 'intruder' }),
    pod('shop', 'neighbour', { app: 'neighbour' }),
    ...extra,
  ];
}

/** The workloads and NetworkPolicies of a Recommender (the analyzer ignores the other kinds). */
const workloadsAndPolicies = (rec: Recommender) =>
  renderRecommender(rec).filter((o) => ['NetworkPolicy', 'Deployment', 'StatefulSet', 'CronJob'].includes(o.kind ?? ''));

/** Connections that involve a pod of the Recommender, as `src => dst : conn` lines. */
const involvingRecommender = (connections: readonly Connection[]) =>
  connections
    .filter((c) => RECOMMENDER_WORKLOADS.includes(c.src) || RECOMMENDER_WORKLOADS.includes(c.dst))
    .map((c) => `${c.src} => ${c.dst} : ${c.conn}`)
    .sort();

const EXPECTED = [
  `${SCORING} => ${DNS} : TCP 53,UDP 53`,
  `${SCORING} => ${REDIS} : TCP 6379`,
  `${TRAINER} => ${DNS} : TCP 53,UDP 53`,
  `${TRAINER} => ${REDIS} : TCP 6379`,
  `monitoring/prometheus[Pod] => ${SCORING} : TCP 9090`,
  `storefront/web[Pod] => ${SCORING} : TCP 8080`,
].sort();

function example(): Recommender {
  const result = validateRecommender(parse(readFileSync(join(repo, 'examples', 'recommender.yaml'), 'utf8')));
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.value;
}

describe('network isolation, proven by netpol-analyzer', () => {
  it('fails the proof when the analyzer cannot read an object, rather than ignoring it', () => {
    const unreadable = { ...pod('shop', 'odd', {}), metadata: { name: 'odd', namespace: 'shop', labels: { tier: 1 } } } as unknown as KubernetesObject;
    expect(() => analyze([...world([unreadable]), ...workloadsAndPolicies(example())])).toThrow(/netpolicy list failed.*cannot unmarshal/s);
  });

  describe.each<[string, () => Recommender]>([
    ['the every-field example (storefront namespace by name, storefront-backend pods)', example],
    [
      'callers selected by a namespace label that the payments namespace also carries',
      () => recommender({ network: { allowedCallers: [{ namespaceSelector: { matchLabels: { team: 'storefront' } }, podSelector: { matchLabels: { app: 'storefront-backend' } } }] } }),
    ],
  ])('for %s', (_name, rec) => {
    const connections = analyze([...world(), ...workloadsAndPolicies(rec())]);
    const allowed = (src: string, dst: string) => connections.some((c) => c.src === src && c.dst === dst);

    it('allows exactly the designed connections of the Recommender, and nothing else', () => {
      expect(involvingRecommender(connections)).toEqual(EXPECTED);
    });

    it('allows storefront to reach the scoring API', () => {
      expect(connections).toContainEqual({ src: 'storefront/web[Pod]', dst: SCORING, conn: 'TCP 8080' });
      expect(allowed('storefront/batch[Pod]', SCORING)).toBe(false);
    });

    it('allows monitoring to reach the metrics port only', () => {
      expect(connections).toContainEqual({ src: 'monitoring/prometheus[Pod]', dst: SCORING, conn: 'TCP 9090' });
    });

    it('allows scoring to reach Redis and DNS', () => {
      expect(connections).toContainEqual({ src: SCORING, dst: REDIS, conn: 'TCP 6379' });
      expect(connections).toContainEqual({ src: SCORING, dst: DNS, conn: 'TCP 53,UDP 53' });
    });

    it('denies payments to every pod of the Recommender', () => {
      for (const w of RECOMMENDER_WORKLOADS) expect(allowed('payments/pay-api[Pod]', w), w).toBe(false);
    });

    it('denies every pod of the Recommender to payments', () => {
      for (const w of RECOMMENDER_WORKLOADS) expect(allowed(w, 'payments/pay-api[Pod]'), w).toBe(false);
    });

    it('denies anything but scoring and the trainer to Redis', () => {
      const toRedis = connections.filter((c) => c.dst === REDIS).map((c) => c.src).sort();
      expect(toRedis).toEqual([TRAINER, SCORING].sort());
    });

    it('denies any external address to and from the Recommender', () => {
      expect(connections.filter((c) => RECOMMENDER_WORKLOADS.includes(c.dst) && c.src.includes('0.0.0.0'))).toEqual([]);
      expect(connections.filter((c) => RECOMMENDER_WORKLOADS.includes(c.src) && c.dst.includes('0.0.0.0'))).toEqual([]);
    });
  });

  it('excludes a namespace protected by two labels, while admitting one that carries only one of them', () => {
    const rec = recommender({
      network: {
        allowedCallers: [{ namespaceSelector: { matchLabels: { team: 'storefront' } } }],
        protectedNamespaces: { matchLabels: { 'tandem.dev/zone': 'payments', pci: 'true' } },
      },
    });
    const extra = [
      namespace('pci-vault', { team: 'storefront', 'tandem.dev/zone': 'payments', pci: 'true' }),
      namespace('billing', { team: 'storefront', 'tandem.dev/zone': 'payments' }),
      pod('pci-vault', 'vault', { app: 'vault' }),
      pod('billing', 'invoices', { app: 'invoices' }),
    ];
    const connections = analyze([...world(extra), ...workloadsAndPolicies(rec)]);
    const callers = connections.filter((c) => c.dst === SCORING && c.conn === 'TCP 8080').map((c) => c.src).sort();
    // payments has only one of the two protected labels here, so it is an ordinary storefront-team namespace.
    expect(callers).toEqual(['billing/invoices[Pod]', 'payments/pay-api[Pod]', 'storefront/batch[Pod]', 'storefront/web[Pod]']);
    expect(connections.some((c) => c.src === 'pci-vault/vault[Pod]' && RECOMMENDER_WORKLOADS.includes(c.dst))).toBe(false);
  });

  it('refuses to render an allowed caller that could match a protected namespace, naming the field', () => {
    const spec: RecommenderSpecInput = { network: { allowedCallers: [{ namespaceSelector: { matchExpressions: [{ key: 'tandem.dev/zone', operator: 'In', values: ['payments', 'storefront'] }] } }] } };
    expect(() => renderRecommender(recommender(spec))).toThrow(
      /spec\.network\.allowedCallers\[0\]\.namespaceSelector\.matchExpressions\[0\]: Invalid value: "tandem\.dev\/zone in \(payments, storefront\)": could match a protected namespace/,
    );
  });
});
