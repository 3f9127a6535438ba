/**
 * The state volume: a ReadWriteMany PVC mounted read-write in every scoring pod and in the trainer, for
 * what must outlive a pod and be seen by all of them: the audit trail (one directory per pod), the
 * erased and opted-out shoppers, and the experiment counts. The model volume stays read-only in the
 * scoring pods.
 */
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import type { RecommenderSpec } from './api/v1alpha1/recommender.js';
import { AUDIT_DIR, Component, Env, STATE_MOUNT } from './constants.js';
import { objectLabels, type RecommenderNames } from './names.js';

/** The claim the pods mount: `spec.state.storage.existingClaim`, or the one the chart creates. */
export function stateClaimName(names: RecommenderNames, spec: RecommenderSpec): string {
  return spec.state.storage.existingClaim ?? names.state;
}

/** The state PVC, unless an existing claim is used. */
export function addStateClaim(scope: Construct, names: RecommenderNames, spec: RecommenderSpec): void {
  if (spec.state.storage.existingClaim) return;
  new kplus.k8s.KubePersistentVolumeClaim(scope, 'StateClaim', {
    metadata: { name: names.state, namespace: names.namespace, labels: objectLabels(names.instance, Component.STATE) },
    spec: {
      // Every scoring pod (on any node) and the trainer write here. The storage class must support RWX.
      accessModes: ['ReadWriteMany'],
      resources: { requests: { storage: kplus.k8s.Quantity.fromString(spec.state.storage.size) } },
      ...(spec.state.storage.storageClassName !== undefined ? { storageClassName: spec.state.storage.storageClassName } : {}),
    },
  });
}

/** Mounts the state volume read-write at STATE_MOUNT. */
export function mountState(scope: Construct, container: kplus.Container, claim: string): void {
  container.mount(
    STATE_MOUNT,
    kplus.Volume.fromPersistentVolumeClaim(scope, 'StateVolume', kplus.PersistentVolumeClaim.fromClaimName(scope, 'StateClaim', claim), { name: 'state' }),
  );
}

/** The variables both the scoring container and the trainer get: where the state is, how long events live, where the audit trail is. */
export function stateEnv(spec: RecommenderSpec): Record<string, kplus.EnvValue> {
  return {
    [Env.STATE_DIR]: kplus.EnvValue.fromValue(STATE_MOUNT),
    [Env.EVENT_RETENTION_DAYS]: kplus.EnvValue.fromValue(String(spec.privacy.eventRetentionDays)),
    [Env.AUDIT_DIR]: kplus.EnvValue.fromValue(AUDIT_DIR),
    [Env.AUDIT_RETENTION_DAYS]: kplus.EnvValue.fromValue(String(spec.audit.retentionDays)),
  };
}
