/**
 * The NetworkPolicies enforced for real (kube-router on the node), with real TCP connections and
 * timeouts: a storefront in an allowed namespace gets recommendations through the Service's DNS name; a
 * namespace labelled `tandem.dev/zone: payments` cannot reach the scoring or Redis pods, even when it also
 * carries the allowed callers' labels, and the scoring pods cannot reach it; an unrelated namespace is
 * refused too. Every "blocked" is paired with a control that shows the same target answering an allowed
 * source, so a blocked result means the policy, not a dead server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_PORT, REDIS_PORT } from '../../cdk8s/constants.js';
import { expectHardenedAndStable } from './hardening.js';
import { BLOCKED, eventuallyConnects, httpProbeScript, probeFromInside, probePod, serverPod, tcpProbeScript } from './probe.js';
import { API_KEY, createRecommender, deleteNamespace, pods, restrictedNamespace, seedAndTrain, waitRecommenderReady, ensureOperator } from './stack.js';

const CALLER = { 'tandem.dev/role': 'storefront' };
const ns = { shop: '', storefront: '', payments: '', stranger: '' };
const probes = { storefront: '', payments: '', stranger: '' };
let scoringPod = '';
let scoringIp = '';
let redisIp = '';
let paymentsIp = '';

beforeAll(async () => {
  await ensureOperator();
  ns.shop = await restrictedNamespace('shop');
  ns.storefront = await restrictedNamespace('storefront', CALLER);
  // Labelled protected, and carrying the callers' label as well: it must still be cut off.
  ns.payments = await restrictedNamespace('payments', { 'tandem.dev/zone': 'payments', ...CALLER });
  ns.stranger = await restrictedNamespace('stranger');
  await createRecommender(ns.shop, 'shop', {
    replicas: { min: 1, max: 1 },
    autoscaling: { enabled: false },
    network: { allowedCallers: [{ namespaceSelector: { matchLabels: CALLER } }] },
  });
  for (const where of ['storefront', 'payments', 'stranger'] as const) probes[where] = await probePod(ns[where]);
  paymentsIp = await serverPod(ns.payments, 'payments-api');
  await seedAndTrain(ns.shop, 'shop');
  await waitRecommenderReady(ns.shop, 'shop');
  const scoring = await pods(ns.shop, 'app.kubernetes.io/instance=shop,app.kubernetes.io/component=scoring');
  scoringPod = scoring[0]!.metadata.name;
  scoringIp = scoring[0]!.status.podIP!;
  redisIp = (await pods(ns.shop, 'app.kubernetes.io/instance=shop,app.kubernetes.io/component=cache'))[0]!.status.podIP!;
});

afterAll(async () => {
  if (ns.shop) await expectHardenedAndStable(ns.shop);
  for (const name of Object.values(ns)) if (name) await deleteNamespace(name);
});

const recommendations = () => `http://shop.${ns.shop}.svc.cluster.local:${API_PORT}/v1/recommendations/personal?user=u-1&limit=3`;

describe('the NetworkPolicies on a real node', () => {
  it('When a storefront pod in an allowed namespace calls the Service by its DNS name, Then it gets recommendations', async () => {
    const res = await eventuallyConnects(ns.storefront, probes.storefront, httpProbeScript(recommendations(), API_KEY));
    expect(res.output).toMatch(/^200 /);
    expect(JSON.parse(res.output.slice(4)).items.length).toBeGreaterThan(0);
  });

  it('When a pod in the payments namespace connects to the scoring pod, its Redis or its Service, Then every connection is refused', async () => {
    // Control: the same pod reaches its own namespace's server, so its network works.
    expect(await eventuallyConnects(ns.payments, probes.payments, tcpProbeScript(paymentsIp, 8080))).toEqual({ ok: true, output: 'connected' });
    for (const [host, port] of [[scoringIp, API_PORT], [redisIp, REDIS_PORT]] as const) {
      const res = await probeFromInside(ns.payments, probes.payments, tcpProbeScript(host, port));
      expect(res.ok, `payments → ${host}:${port}: ${res.output}`).toBe(false);
      expect(res.output).toMatch(BLOCKED);
    }
    const viaService = await probeFromInside(ns.payments, probes.payments, httpProbeScript(recommendations(), API_KEY));
    expect(viaService.ok, viaService.output).toBe(false);
  });

  it('When the scoring pod connects to a payments pod, Then it is refused, while a pod of the payments namespace reaches it', async () => {
    expect(await eventuallyConnects(ns.payments, probes.payments, tcpProbeScript(paymentsIp, 8080))).toEqual({ ok: true, output: 'connected' });
    const res = await probeFromInside(ns.shop, scoringPod, tcpProbeScript(paymentsIp, 8080));
    expect(res.ok, res.output).toBe(false);
    expect(res.output).toMatch(BLOCKED);
  });

  it('When a pod in an unrelated namespace connects to the scoring pod or its Redis, Then it is refused', async () => {
    // Control: the stranger's pod resolves names through the cluster DNS, so its network works.
    expect((await eventuallyConnects(ns.stranger, probes.stranger, tcpProbeScript('10.96.0.10', 53))).output).toBe('connected');
    for (const [host, port] of [[scoringIp, API_PORT], [redisIp, REDIS_PORT]] as const) {
      const res = await probeFromInside(ns.stranger, probes.stranger, tcpProbeScript(host, port));
      expect(res.ok, `stranger → ${host}:${port}: ${res.output}`).toBe(false);
      expect(res.output).toMatch(BLOCKED);
    }
  });

  it('When the scoring pod resolves a name, Then the cluster DNS answers through its DNS egress rule', async () => {
    const res = await probeFromInside(ns.shop, scoringPod, `require('dns').lookup('kubernetes.default.svc.cluster.local',(e,a)=>{console.log(e?'error '+e.code:a);process.exit(e?1:0)})`);
    expect(res).toEqual({ ok: true, output: '10.96.0.1' });
  });
});
