import { describe, expect, it } from 'vitest';
import { validateRecommender } from '../cdk8s/api/v1alpha1/validate.js';
import type { Recommender } from '../cdk8s/api/v1alpha1/recommender.js';
import { ConditionType, Reason, computeStatus, decideAutoscaling, statusChanged, type Observations } from './status.js';

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

describe('decideAutoscaling: the HPA’s own conditions', () => {
  const rps = { autoscaling: { targetRequestsPerSecondPerPod: 500 } };
  const hpa = (conditions: ReturnType<typeof cond>[], currentMetrics?: { type: string; pods?: { metric: { name: string } } }[]): Observations['autoscaler'] => ({
    namespace: 'shop',
    name: 'storefront',
    status: { conditions, ...(currentMetrics ? { currentMetrics } : {}) },
  });
  const active = cond('ScalingActive', 'True', 'ValidMetricFound', 'the HPA was able to successfully calculate a replica count from cpu resource utilization');
  const able = cond('AbleToScale', 'True', 'ReadyForNewScale');
  const cpu = { type: 'Resource' };
  const podsMetric = { type: 'Pods', pods: { metric: { name: 'tandem_http_requests_per_second' } } };
  const podsFailed = cond('ScalingActive', 'False', 'FailedGetPodsMetric', 'the HPA was unable to compute the replica count: unable to get metric tandem_http_requests_per_second: no metrics returned from custom metrics API');

  it.each<[string, Record<string, unknown>, Observations['autoscaler'], string, string, string?]>([
    ['When autoscaling is off, Then it says so and how many pods run', { autoscaling: { enabled: false }, replicas: { min: 3, max: 3 } }, undefined, 'False', Reason.AUTOSCALING_DISABLED, 'spec.autoscaling.enabled is false: 3 scoring pods run (replicas.min)'],
    ['When the HPA does not exist yet, Then it is pending', {}, undefined, 'False', Reason.AUTOSCALING_PENDING, 'The HorizontalPodAutoscaler has not been created yet'],
    ['When the HPA controller has not reported, Then it is pending', {}, hpa([]), 'False', Reason.AUTOSCALING_PENDING],
    ['When only CPU is asked for and the HPA computes from it, Then autoscaling is ready', {}, hpa([able, active], [cpu]), 'True', Reason.AUTOSCALING_ACTIVE],
    ['When the pods metric is asked for and served, Then autoscaling is ready', rps, hpa([able, active], [cpu, podsMetric]), 'True', Reason.AUTOSCALING_ACTIVE],
    [
      'When the pods metric is asked for and the HPA fails to get it, Then it says the metric is unavailable, why, and what to do',
      rps,
      hpa([able, podsFailed], [cpu, { type: '' }]),
      'False',
      Reason.PODS_METRIC_UNAVAILABLE,
      'HorizontalPodAutoscaler shop/storefront cannot read pods metric tandem_http_requests_per_second (FailedGetPodsMetric: the HPA was unable to compute the replica count: unable to get metric tandem_http_requests_per_second: no metrics returned from custom metrics API): install prometheus-adapter with charts/tandem-operator/files/prometheus-adapter-values.yaml, or unset spec.autoscaling.targetRequestsPerSecondPerPod; until then the HPA scales on CPU but never scales down',
    ],
    ['When the pods metric is missing while CPU scales up (ScalingActive stays True), Then it is still unavailable', rps, hpa([able, active], [cpu, { type: '' }]), 'False', Reason.PODS_METRIC_UNAVAILABLE],
    [
      'When CPU cannot be read (no metrics-server), Then scaling is inactive with the HPA’s words',
      {},
      hpa([able, cond('ScalingActive', 'False', 'FailedGetResourceMetric', 'unable to get metrics for resource cpu')]),
      'False',
      Reason.SCALING_INACTIVE,
      'HorizontalPodAutoscaler shop/storefront is not scaling: FailedGetResourceMetric: unable to get metrics for resource cpu',
    ],
    ['When the HPA cannot reach its scale target, Then it cannot scale', {}, hpa([cond('AbleToScale', 'False', 'FailedGetScale', 'deployments/scale not found'), active]), 'False', Reason.SCALING_INACTIVE],
    ['When a pods-metric failure is reported but the spec no longer asks for it, Then it is not blamed on the pods metric', {}, hpa([able, podsFailed]), 'False', Reason.SCALING_INACTIVE],
  ])('%s', (_name, spec, autoscaler, status, reason, message) => {
    const decision = decideAutoscaling(recommender(spec), { autoscaler });
    expect(decision).toMatchObject({ status, reason });
    if (message) expect(decision.message).toBe(message);
  });

  it('is reported as the AutoscalingReady condition, without touching Ready', () => {
    const status = computeStatus(recommender(rps), { autoscaler: hpa([able, podsFailed]) }, now);
    expect(condition(status, ConditionType.AUTOSCALING_READY)).toMatchObject({ status: 'False', reason: Reason.PODS_METRIC_UNAVAILABLE });
    expect(condition(status, ConditionType.READY)?.reason).toBe(Reason.DEPLOYMENT_MISSING);
  });
});
