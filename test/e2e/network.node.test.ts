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
import { ensureOperator } from './operator.js';
import { httpProbeScript, probeFromInside, probeFromPod, serverPod, tcpProbeScript } from './probe.js';
import { API_KEY, createRecommender, deleteNamespace, pods, restrictedNamespace, seedAndTrain, waitRecommenderReady } from './stack.js';

const CALLER = { 'tandem.dev/role': 'storefront' };
let shop = '';
let storefront = '';
let payments = '';
let stranger = '';
let scoringPod = '';
let scoringIp = '';
let redisIp = '';
let paymentsIp = '';

beforeAll(async () => {
  await ensureOperator();
  shop = await restrictedNamespace('shop');
  storefront = await restrictedNamespace('storefront', CALLER);
  // Labelled protected, and carrying the callers' label as well: it must still be cut off.
  payments = await restrictedNamespace('payments', { 'tandem.dev/zone': 'payments', ...CALLER });
  stranger = await restrictedNamespace('stranger');
  await createRecommender(shop, 'shop', {
    replicas: { min: 1, max: 1 },
    autoscaling: { enabled: false },
    network: { allowedCallers: [{ namespaceSelector: { matchLabels: CALLER } }] },
  });
  await seedAndTrain(shop, 'shop');
  await waitRecommenderReady(shop, 'shop');
  const scoring = await pods(shop, 'app.kubernetes.io/instance=shop,app.kubernetes.io/component=scoring');
  scoringPod = scoring[0]!.metadata.name;
  scoringIp = scoring[0]!.status.podIP!;
  redisIp = (await pods(shop, 'app.kubernetes.io/instance=shop,app.kubernetes.io/component=cache'))[0]!.status.podIP!;
  paymentsIp = await serverPod(payments, 'payments-api');
});

afterAll(async () => {
  for (const ns of [shop, storefront, payments, stranger]) if (ns) await deleteNamespace(ns);
});

const recommendations = () => `http://shop.${shop}.svc.cluster.local:${API_PORT}/v1/recommendations/personal?user=u-1&limit=3`;

describe('the NetworkPolicies on a real node', () => {
  it('When a storefront pod in an allowed namespace calls the Service by its DNS name, Then it gets recommendations', async () => {
    const res = await probeFromPod(storefront, httpProbeScript(recommendations(), API_KEY));
    expect(res.output).toMatch(/^200 /);
    expect(JSON.parse(res.output.slice(4)).items.length).toBeGreaterThan(0);
  });

  it('When a pod in the payments namespace connects to the scoring pod, its Redis or its Service, Then every connection times out', async () => {
    for (const [host, port] of [[scoringIp, API_PORT], [redisIp, REDIS_PORT]] as const) {
      const res = await probeFromPod(payments, tcpProbeScript(host, port));
      expect(res, `payments → ${host}:${port}`).toEqual({ ok: false, output: 'timeout' });
    }
    const viaService = await probeFromPod(payments, httpProbeScript(recommendations(), API_KEY));
    expect(viaService.ok).toBe(false);
  });

  it('When the scoring pod connects to a payments pod, Then it times out, while a pod of the payments namespace reaches it', async () => {
    const control = await probeFromPod(payments, tcpProbeScript(paymentsIp, 8080));
    expect(control).toEqual({ ok: true, output: 'connected' });
    const res = await probeFromInside(shop, scoringPod, tcpProbeScript(paymentsIp, 8080));
    expect(res.ok).toBe(false);
    expect(res.output).toContain('timeout');
  });

  it('When a pod in an unrelated namespace connects to the scoring pod or its Redis, Then it times out', async () => {
    for (const [host, port] of [[scoringIp, API_PORT], [redisIp, REDIS_PORT]] as const) {
      expect(await probeFromPod(stranger, tcpProbeScript(host, port)), `stranger → ${host}:${port}`).toEqual({ ok: false, output: 'timeout' });
    }
  });

  it('When the scoring pod resolves a name, Then the cluster DNS answers through its DNS egress rule', async () => {
    const res = await probeFromInside(shop, scoringPod, `require('dns').lookup('kubernetes.default.svc.cluster.local',(e,a)=>{console.log(e?'error '+e.code:a);process.exit(e?1:0)})`);
    expect(res).toEqual({ ok: true, output: '10.96.0.1' });
  });
});
