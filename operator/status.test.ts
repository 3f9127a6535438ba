import { describe, expect, it } from 'vitest';
import { validateRecommender } from '../cdk8s/api/v1alpha1/validate.js';
import type { Recommender } from '../cdk8s/api/v1alpha1/recommender.js';
import { ConditionType, Reason, computeStatus, statusChanged, type Observations } from './status.js';

function recommender(spec: Record<string, unknown> = {}): Recommender {
  const result = validateRecommender({ apiVersion: 'tandem.dev/v1alpha1', kind: 'Recommender', metadata: { name: 'storefront', namespace: 'shop' }, spec });
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return { ...result.value, metadata: { ...result.value.metadata, generation: 3 } };
}

const deployment = (status: NonNullable<Observations['deployment']>['status'], desiredReplicas = 2): Observations['deployment'] => ({ namespace: 'shop', name: 'storefront-scoring', generation: 1, status, desiredReplicas });
const cond = (type: string, status: string, reason: string, message = '') => ({ type, status, reason, message });
const now = new Date('2026-11-25T12:00:00Z');
const condition = (s: ReturnType<typeof computeStatus>, type: string) => s.conditions?.find((c) => c.type === type);

describe('computeStatus', () => {
  it.each<[string, Observations, Record<string, [string, string, string?]>]>([
    [
      'When the Deployment does not exist yet, Then nothing is Available and Ready says why',
      {},
      { Ready: ['False', Reason.DEPLOYMENT_MISSING], Available: ['False', Reason.DEPLOYMENT_MISSING], Degraded: ['False', Reason.AS_EXPECTED] },
    ],
    [
      'When no pod runs (no kubelet), Then Available is False with the Deployment’s own reason and counts',
      { deployment: deployment({ observedGeneration: 1, replicas: 2, availableReplicas: 0, updatedReplicas: 2, conditions: [cond('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.'), cond('Progressing', 'True', 'ReplicaSetUpdated')] }) },
      {
        Ready: ['False', Reason.NOT_AVAILABLE],
        Available: ['False', Reason.NOT_AVAILABLE, 'Deployment shop/storefront-scoring has 0/2 available replicas: MinimumReplicasUnavailable (Deployment does not have minimum availability.)'],
        Progressing: ['True', Reason.ROLLING_OUT],
      },
    ],
    [
      'When the rollout is complete and pods are available, Then the Recommender is Ready',
      { deployment: deployment({ observedGeneration: 1, replicas: 2, readyReplicas: 2, availableReplicas: 2, updatedReplicas: 2, conditions: [cond('Available', 'True', 'MinimumReplicasAvailable'), cond('Progressing', 'True', 'NewReplicaSetAvailable')] }), cache: { namespace: 'shop', name: 'storefront-redis', replicas: 1, readyReplicas: 1 } },
      { Ready: ['True', Reason.READY], Available: ['True', Reason.READY], Progressing: ['False', Reason.ROLLOUT_COMPLETE], Degraded: ['False', Reason.AS_EXPECTED], CacheReady: ['True', Reason.CACHE_READY] },
    ],
    [
      'When a child could not be applied, Then Degraded is True with the object and the API server’s words',
      { error: { reason: Reason.APPLY_FAILED, message: 'failed to apply Deployment shop/storefront-scoring: exceeded quota' } },
      { Ready: ['False', Reason.APPLY_FAILED], Degraded: ['True', Reason.APPLY_FAILED, 'failed to apply Deployment shop/storefront-scoring: exceeded quota'] },
    ],
    [
      'When the Deployment exceeded its progress deadline, Then Degraded says RolloutFailed',
      { deployment: deployment({ conditions: [cond('Available', 'False', 'MinimumReplicasUnavailable'), cond('Progressing', 'False', 'ProgressDeadlineExceeded', 'ReplicaSet "x" has timed out progressing.')] }) },
      { Ready: ['False', Reason.ROLLOUT_FAILED], Degraded: ['True', Reason.ROLLOUT_FAILED, 'Deployment shop/storefront-scoring: ProgressDeadlineExceeded: ReplicaSet "x" has timed out progressing.'] },
    ],
  ])('%s', (_name, seen, expected) => {
    const status = computeStatus(recommender(), seen, now);
    expect(status.observedGeneration).toBe(3);
    for (const [type, [s, reason, message]] of Object.entries(expected)) {
      const c = condition(status, type);
      expect(c, type).toMatchObject({ status: s, reason, observedGeneration: 3 });
      if (message) expect(c?.message).toBe(message);
    }
  });

  it('When the Recommender is paused, Then Ready says Paused and nothing else is claimed', () => {
    const status = computeStatus(recommender({ paused: true }), {}, now);
    expect(condition(status, ConditionType.READY)).toMatchObject({ status: 'False', reason: Reason.PAUSED });
    expect(condition(status, ConditionType.PROGRESSING)).toMatchObject({ status: 'False', reason: Reason.PAUSED });
  });

  it('When the cache is disabled, Then CacheReady says so', () => {
    const status = computeStatus(recommender({ cache: { enabled: false } }), {}, now);
    expect(condition(status, ConditionType.CACHE_READY)).toMatchObject({ status: 'False', reason: Reason.CACHE_DISABLED });
  });

  it('When nothing changed since the last status, Then lastTransitionTime is kept and no write is needed', () => {
    const rec = recommender();
    const first = computeStatus(rec, {}, now);
    const second = computeStatus({ ...rec, status: first }, {}, new Date('2026-11-25T13:00:00Z'));
    expect(second).toEqual(first);
    expect(statusChanged(first, second)).toBe(false);
  });

  it('When a condition flips, Then only its lastTransitionTime moves', () => {
    const rec = recommender();
    const first = computeStatus(rec, {}, now);
    const later = new Date('2026-11-25T13:00:00Z');
    const second = computeStatus({ ...rec, status: first }, { error: { reason: Reason.APPLY_FAILED, message: 'boom' } }, later);
    expect(statusChanged(first, second)).toBe(true);
    expect(condition(second, ConditionType.DEGRADED)?.lastTransitionTime).toBe('2026-11-25T13:00:00Z');
    expect(condition(second, ConditionType.AVAILABLE)?.lastTransitionTime).toBe('2026-11-25T12:00:00Z');
  });
});
