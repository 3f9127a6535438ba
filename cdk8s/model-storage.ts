/**
 * Where the scoring pods and the trainer find the versioned model artifacts (`spec.model.storage`):
 *
 * - `pvc`: one volume at MODEL_MOUNT, written by the trainer and mounted read-only by every scoring pod
 *   (ReadWriteMany once the pods spread over nodes);
 * - `s3`: an S3-compatible bucket. The trainer downloads its input from `<prefix>data/`, trains in its scratch
 *   volume and uploads `<prefix>versions/<version>/`; each scoring pod mirrors the versions it needs into a
 *   local emptyDir at MODEL_MOUNT, verifying every file's sha256 against the manifest. No RWX volume.
 *
 * Either way the containers see the same paths (MODEL_DIR, DATA_DIR), so their arguments do not change.
 */
import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import type { RecommenderSpec } from './api/v1alpha1/recommender.js';
import { Env, MODEL_MOUNT, MODEL_S3_CREDENTIALS_DIR } from './constants.js';
import type { RecommenderNames } from './names.js';
import { quantityValue } from './quantity.js';

export type S3Storage = NonNullable<RecommenderSpec['model']['storage']['s3']>;

/** The object store settings, or undefined in `pvc` mode. */
export function s3Storage(spec: RecommenderSpec): S3Storage | undefined {
  return spec.model.storage.type === 's3' ? spec.model.storage.s3 : undefined;
}

/** The PVC the pods mount in `pvc` mode (`existingClaim`, or `<name>-models` which the chart creates). */
export function modelClaimName(names: RecommenderNames, spec: RecommenderSpec): string {
  return spec.model.storage.existingClaim ?? names.models;
}

/** The environment that points the recommender at the bucket (its presence switches it to s3 mode). */
export function s3Env(s3: S3Storage): Record<string, kplus.EnvValue> {
  const v = kplus.EnvValue.fromValue;
  return {
    [Env.MODEL_S3_BUCKET]: v(s3.bucket),
    [Env.MODEL_S3_PREFIX]: v(s3.prefix),
    ...(s3.endpoint !== undefined ? { [Env.MODEL_S3_ENDPOINT]: v(s3.endpoint) } : {}),
    [Env.MODEL_S3_REGION]: v(s3.region),
    [Env.MODEL_S3_FORCE_PATH_STYLE]: v(String(s3.forcePathStyle)),
    ...(s3.credentialsSecretRef ? { [Env.MODEL_S3_CREDENTIALS_DIR]: v(MODEL_S3_CREDENTIALS_DIR) } : {}),
  };
}

export interface ModelMountProps {
  readonly names: RecommenderNames;
  readonly spec: RecommenderSpec;
  /**
   * The trainer's scratch volume: in s3 mode its `models` sub-directory is MODEL_MOUNT (inputs and the new
   * version are written there before the upload). Scoring pods get their own cache volume instead.
   */
  readonly scratch?: kplus.Volume;
}

/**
 * Mounts the model store into `container` (read-only for scoring pods in `pvc` mode) and adds the s3
 * environment; returns the bytes of any emptyDir it added, for the container's ephemeral-storage request.
 */
export function mountModelStore(scope: Construct, container: kplus.Container, props: ModelMountProps): number {
  const { names, spec, scratch } = props;
  const s3 = s3Storage(spec);
  const writable = scratch !== undefined;
  if (!s3) {
    const claim = kplus.PersistentVolumeClaim.fromClaimName(scope, 'ModelClaim', modelClaimName(names, spec));
    const volume = kplus.Volume.fromPersistentVolumeClaim(scope, 'ModelVolume', claim, { name: 'models', ...(writable ? {} : { readOnly: true }) });
    container.mount(MODEL_MOUNT, volume, writable ? {} : { readOnly: true });
    return 0;
  }
  for (const [name, value] of Object.entries(s3Env(s3))) container.env.addVariable(name, value);
  if (s3.credentialsSecretRef) {
    const ref = s3.credentialsSecretRef;
    const secret = kplus.Secret.fromSecretName(scope, 'ModelStoreCredentials', ref.name);
    const volume = kplus.Volume.fromSecret(scope, 'ModelStoreCredentialsVolume', secret, {
      name: 'model-store-credentials',
      items: { [ref.accessKeyIdKey]: { path: 'access-key-id' }, [ref.secretAccessKeyKey]: { path: 'secret-access-key' } },
    });
    container.mount(MODEL_S3_CREDENTIALS_DIR, volume, { readOnly: true });
  }
  if (scratch) {
    container.mount(MODEL_MOUNT, scratch, { subPath: 'models' });
    return 0;
  }
  const bytes = quantityValue(spec.model.storage.size, 'spec.model.storage.size');
  const cache = kplus.Volume.fromEmptyDir(scope, 'ModelCache', 'models', { sizeLimit: Size.mebibytes(Math.ceil(bytes / 2 ** 20)) });
  container.mount(MODEL_MOUNT, cache);
  return bytes;
}
