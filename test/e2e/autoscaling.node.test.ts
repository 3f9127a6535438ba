/**
 * The HorizontalPodAutoscaler on real CPU (metrics-server reading the kubelet): load on the scoring pods
 * scales them out, and once the load stops they scale back in, the scale-down stabilisation window
 * shortened to 0 for the test (`spec.autoscaling.scaleDownStabilizationSeconds`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_PORT } from '../../cdk8s/constants.js';
import { expectHardenedAndStable } from './hardening.js';
import { httpProbeScript, probePod } from './probe.js';
import { API_KEY, createRecommender, deleteNamespace, ensureOperator, k, kJson, restrictedNamespace, seedAndTrain, until, waitRecommenderReady } from './stack.js';

const NAME = 'shop';
const CALLER = { 'tandem.dev/role': 'storefront' };
let ns = '';
let storefront = '';

interface Hpa {
  status?: { currentReplicas?: number; desiredReplicas?: number; currentMetrics?: { resource?: { current?: { averageUtilization?: number } } }[] };
}

async function replicas(): Promise<{ current: number; desired: number; cpu: number | undefined }> {
  const hpa = await kJson<Hpa>(['-n', ns, 'get', 'hpa', NAME]);
  return {
    current: hpa.status?.currentReplicas ?? 0,
    desired: hpa.status?.desiredReplicas ?? 0,
    cpu: hpa.status?.currentMetrics?.[0]?.resource?.current?.averageUtilization,
  };
}

/** A storefront that keeps 16 requests in flight against the Service until it is deleted. */
function loadScript(url: string): string {
  return `const go=()=>fetch(${JSON.stringify(url)},{headers:{authorization:'Bearer ${API_KEY}'}}).then(r=>r.arrayBuffer()).catch(()=>{}).finally(go);for(let i=0;i<16;i++)go();`;
}

beforeAll(async () => {
  await ensureOperator();
  ns = await restrictedNamespace('autoscale');
  storefront = await restrictedNamespace('storefront', CALLER);
  await createRecommender(ns, NAME, {
    replicas: { min: 1, max: 3 },
    // A small CPU request so that one busy pod is far above target on a 2-core node.
    resources: { requests: { cpu: '100m', memory: '512Mi' }, limits: { memory: '1Gi' } },
    autoscaling: { enabled: true, targetCPUUtilizationPercentage: 50, scaleDownStabilizationSeconds: 0 },
    network: { allowedCallers: [{ namespaceSelector: { matchLabels: CALLER } }] },
  });
  await seedAndTrain(ns, NAME);
  await waitRecommenderReady(ns, NAME);
});

afterAll(async () => {
  if (ns) {
    await expectHardenedAndStable(ns);
    await deleteNamespace(ns);
  }
  if (storefront) await deleteNamespace(storefront);
});

describe.sequential('autoscaling on a real node', () => {
  // Metrics arrive every 15 s and the HPA acts every 5 s; on a busy 2-core machine that can take minutes.
  it('When CPU load hits the scoring pods, Then the HPA scales them out; when it stops, Then back in', { timeout: 900_000 }, async () => {
    expect((await replicas()).current).toBe(1);
    const url = `http://${NAME}.${ns}.svc.cluster.local:${API_PORT}/v1/recommendations/cross-sell?items=sku-0001,sku-0002,sku-0003&limit=10`;
    const probe = await probePod(storefront);
    // The storefront reaches the Service before the load starts (a new pod is let through a moment after it starts).
    await until('the storefront to reach the Service', async () => {
      const res = await k(['-n', storefront, 'exec', probe, '--', 'node', '-e', httpProbeScript(url, API_KEY)]).catch(() => undefined);
      return res?.startsWith('200') ? true : undefined;
    }, 60_000);
    // The load runs in a pod of its own (an exec session could break under a loaded machine), until deleted.
    const load = await probePod(storefront, 'load', {}, loadScript(url));
    let last: Awaited<ReturnType<typeof replicas>> | undefined;
    const out = await until('the HPA to scale out', async () => {
      last = await replicas();
      return last.current >= 2 ? last : undefined;
    }, 360_000, 3000).catch((err: Error) => {
      throw new Error(`${err.message}; the HPA last reported ${JSON.stringify(last)}`);
    });
    expect(out.desired).toBeGreaterThanOrEqual(2);
    expect(out.cpu ?? 0).toBeGreaterThan(50);

    await k(['-n', storefront, 'delete', 'pod', load, probe, '--grace-period=0', '--force', '--wait=true']);
    const back = await until('the HPA to scale back in', async () => {
      last = await replicas();
      return last.current === 1 ? last : undefined;
    }, 360_000, 3000).catch((err: Error) => {
      throw new Error(`${err.message}; the HPA last reported ${JSON.stringify(last)}`);
    });
    expect(back.desired).toBe(1);
  });
});
