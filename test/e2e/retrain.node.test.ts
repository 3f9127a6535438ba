/**
 * Retraining for real: a Job made from the Recommender's CronJob trains a new model version onto the model
 * volume, and the running scoring pods switch to it without a restart; a corrupted artifact written next to
 * it is refused, and the previous version keeps serving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_DIR, MODEL_MOUNT, RECOMMENDER_UID } from '../../cdk8s/constants.js';
import { recommenderNames } from '../../cdk8s/names.js';
import { expectHardenedAndStable } from './hardening.js';
import { API_KEY, apply, createRecommender, deleteNamespace, getRecommender, images, k, pods, restrictedNamespace, retrain, seedAndTrain, until, waitJob, waitRecommenderReady, ensureOperator } from './stack.js';

const NAME = 'shop';
let ns = '';

interface Models {
  active: string | null;
  available: { version: string }[];
  refused: { version: string; reason: string }[];
}

/** `/v1/models` of the scoring pod, asked from the node itself (the node may reach its pods). */
async function models(podIp: string): Promise<Models> {
  const res = await fetch(`http://${podIp}:8080/v1/models`, { headers: { authorization: `Bearer ${API_KEY}` }, signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`/v1/models answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as Models;
}

async function scoringPod(): Promise<{ name: string; ip: string; restarts: number }> {
  const [pod] = await pods(ns, `app.kubernetes.io/instance=${NAME},app.kubernetes.io/component=scoring`);
  return { name: pod!.metadata.name, ip: pod!.status.podIP!, restarts: pod!.status.containerStatuses?.[0]?.restartCount ?? -1 };
}

/** The version a train Job wrote, from its log line `model <version> written to …`. */
async function trainedVersion(job: string): Promise<string> {
  const log = await k(['-n', ns, 'logs', `job/${job}`]);
  const version = /^model (\S+) written to/m.exec(log)?.[1];
  if (!version) throw new Error(`no "model … written" line in the log of Job ${job}:\n${log}`);
  return version;
}

beforeAll(async () => {
  await ensureOperator();
  ns = await restrictedNamespace('retrain');
  await createRecommender(ns, NAME, { replicas: { min: 1, max: 1 }, autoscaling: { enabled: false } });
  await seedAndTrain(ns, NAME);
  await waitRecommenderReady(ns, NAME);
});

afterAll(async () => {
  if (ns) {
    await expectHardenedAndStable(ns);
    await deleteNamespace(ns);
  }
});

describe.sequential('retraining on a real node', () => {
  it('When a Job from the retraining CronJob trains a new version, Then the running pod switches to it without a restart and the status reports it', async () => {
    const first = await trainedVersion(`${NAME}-train-1`);
    const before = await scoringPod();
    expect((await models(before.ip)).active).toBe(first);

    await retrain(ns, NAME, `${NAME}-train-2`);
    const second = await trainedVersion(`${NAME}-train-2`);
    expect(second > first).toBe(true);
    // The pod polls the model directory every 30 s; the operator reads what it serves every 30 s.
    await until(`the pod to serve ${second}`, async () => ((await models(before.ip)).active === second ? true : undefined), 120_000, 2000);
    const rec = await until('status.modelVersion to follow', async () => {
      const r = await getRecommender(ns, NAME);
      return r.status?.modelVersion === second ? r : undefined;
    }, 120_000, 2000);
    expect(rec.status?.modelVersion).toBe(second);
    const after = await scoringPod();
    expect(after).toEqual({ ...before, restarts: 0 });
  });

  it('When a corrupted artifact appears as the newest version, Then it is refused and the previous version keeps serving', async () => {
    const pod = await scoringPod();
    const serving = (await models(pod.ip)).active!;
    // A newer version id whose arrays no longer match the manifest's checksums (a torn copy, a bad disk).
    const corrupt = `${serving.slice(0, 8)}T235959Z-badbadbadbad`;
    const script = `const fs=require('fs');const src='${MODEL_DIR}/${serving}',dst='${MODEL_DIR}/${corrupt}';` +
      `fs.cpSync(src,dst,{recursive:true});for(const f of fs.readdirSync(dst))fs.chmodSync(dst+'/'+f,0o644);` +
      `const m=JSON.parse(fs.readFileSync(dst+'/manifest.json'));m.version='${corrupt}';fs.writeFileSync(dst+'/manifest.json',JSON.stringify(m));` +
      `const b=fs.readFileSync(dst+'/arrays.bin');b[b.length>>1]^=0xff;fs.writeFileSync(dst+'/arrays.bin',b);console.log('corrupted',dst);`;
    await apply([
      {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'corrupt', namespace: ns },
        spec: {
          backoffLimit: 0,
          template: {
            spec: {
              restartPolicy: 'Never',
              automountServiceAccountToken: false,
              securityContext: { runAsNonRoot: true, runAsUser: RECOMMENDER_UID, runAsGroup: RECOMMENDER_UID, seccompProfile: { type: 'RuntimeDefault' } },
              containers: [
                {
                  name: 'corrupt',
                  image: images().recommender,
                  command: ['node', '-e', script],
                  securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
                  volumeMounts: [{ name: 'models', mountPath: MODEL_MOUNT }],
                },
              ],
              volumes: [{ name: 'models', persistentVolumeClaim: { claimName: recommenderNames(NAME, ns).models } }],
            },
          },
        },
      },
    ]);
    await waitJob(ns, 'corrupt');
    const seen = await until(`the pod to refuse ${corrupt}`, async () => {
      const m = await models(pod.ip);
      return m.refused.some((r) => r.version === corrupt) ? m : undefined;
    }, 120_000, 2000);
    expect(seen.active).toBe(serving);
    expect(seen.refused.find((r) => r.version === corrupt)?.reason).toMatch(/checksum mismatch/);
    expect((await getRecommender(ns, NAME)).status?.modelVersion).toBe(serving);
    expect((await scoringPod()).restarts).toBe(0);
  });
});
