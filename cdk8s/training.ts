/**
 * Retraining (`spec.training.engine: embedded`): a CronJob that runs the recommender image's `train` command
 * (the embedded DuckDB engine, which spills to the scratch volume beyond TANDEM_DUCKDB_MEMORY) on the model
 * volume and writes a new model version next to the old ones. One run at a time (`Forbid`), honours
 * `suspend`, and the schedule is in UTC. The `spark` engine is spark-training.ts.
 */
import { ApiObject, Cron, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { RecommenderSpec } from './api/v1alpha1/recommender.js';
import {
  CATALOG_FILE,
  CONFIG_DIR,
  CONFIG_FILE,
  Component,
  Env,
  EVENTS_FILE,
  MODEL_DIR,
  HMAC_KEY_FILE,
  RECOMMENDER_COMMAND,
  RECOMMENDER_UID,
  SECRETS_DIR,
  TRAINER_SCRATCH_DEFAULT,
} from './constants.js';
import { mountModelStore } from './model-storage.js';
import type { RecommenderNames } from './names.js';
import { componentIdentity, finishPodTemplate, resourceRequirements, restrictedContainer, restrictedPod, withEphemeralStorage } from './pod-defaults.js';
import { quantityValue } from './quantity.js';
import { redisUrl, secretsVolume } from './scoring.js';
import { mountState, stateEnv } from './state.js';

export const TRAINING_TIME_ZONE = 'Etc/UTC';

export interface TrainingProps {
  readonly names: RecommenderNames;
  readonly spec: RecommenderSpec;
  readonly stateClaim: string;
  readonly configMapName: string;
}

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** A cdk8s Cron for a schedule as written in the spec (five fields or an `@` macro). */
export function cronOf(schedule: string): Cron {
  const fields = (MACROS[schedule] ?? schedule).trim().split(/\s+/);
  if (fields.length !== 5) throw new Error(`spec.training.schedule: Invalid value: "${schedule}": must have five fields or be an @ macro`);
  const [minute, hour, day, month, weekDay] = fields as [string, string, string, string, string];
  return Cron.schedule({ minute, hour, day, month, weekDay });
}

/**
 * Bytes of the trainer's scratch volume: its ephemeral-storage request (TRAINER_SCRATCH_DEFAULT when unset),
 * so the request the scheduler reserves is exactly what the volume may fill.
 */
export function trainerScratchBytes(spec: RecommenderSpec): number {
  const request = spec.training.resources.requests?.['ephemeral-storage'] ?? TRAINER_SCRATCH_DEFAULT;
  return quantityValue(request, 'spec.training.resources.requests.ephemeral-storage');
}

/** Share of the trainer's memory limit given to DuckDB's buffer (the rest: Node, the packed model, DuckDB's own overhead). */
export const DUCKDB_MEMORY_RATIO = 0.6;

/** The embedded engine's memory limit (TANDEM_DUCKDB_MEMORY) from the trainer's memory limit; unset without one. */
export function duckdbMemory(spec: RecommenderSpec): string | undefined {
  const limit = spec.training.resources.limits?.memory;
  if (limit === undefined) return undefined;
  return `${Math.max(64, Math.floor((quantityValue(limit, 'spec.training.resources.limits.memory') * DUCKDB_MEMORY_RATIO) / 2 ** 20))}MiB`;
}

/** The trainer's arguments after the image command; `--prune-events` removes erased shoppers' and expired events from the events file. */
export function trainArgs(): string[] {
  return ['train', '--catalog', CATALOG_FILE, '--events', EVENTS_FILE, '--out', MODEL_DIR, '--config', `${CONFIG_DIR}/${CONFIG_FILE}`, '--prune-events'];
}

export class Training extends Construct {
  readonly cronJob: kplus.CronJob;

  constructor(scope: Construct, id: string, props: TrainingProps) {
    super(scope, id);
    const { names, spec } = props;
    const { labels, metadata, serviceAccount } = componentIdentity(this, names, Component.TRAINER, names.trainerServiceAccount);

    this.cronJob = new kplus.CronJob(this, 'CronJob', {
      metadata: metadata(names.retrain),
      podMetadata: { labels },
      select: false,
      schedule: cronOf(spec.training.schedule),
      timeZone: TRAINING_TIME_ZONE,
      concurrencyPolicy: kplus.ConcurrencyPolicy.FORBID,
      suspend: spec.training.suspend,
      startingDeadline: Duration.minutes(10),
      successfulJobsRetained: 3,
      failedJobsRetained: 3,
      backoffLimit: 2,
      activeDeadline: Duration.hours(4),
      restartPolicy: kplus.RestartPolicy.NEVER,
      serviceAccount,
      ...restrictedPod(RECOMMENDER_UID),
    });

    const redis = redisUrl(names, spec);
    const env: Record<string, kplus.EnvValue> = {
      [Env.MODEL_DIR]: kplus.EnvValue.fromValue(MODEL_DIR),
      [Env.HISTORY_WINDOW_DAYS]: kplus.EnvValue.fromValue(String(spec.training.historyWindowDays)),
      [Env.KEEP_VERSIONS]: kplus.EnvValue.fromValue(String(spec.training.keepVersions)),
      // A pinned version is never pruned (scoring pods load it on restart).
      [Env.MODEL_VERSION]: kplus.EnvValue.fromValue(spec.model.version),
      ...(redis ? { [Env.REDIS_URL]: kplus.EnvValue.fromValue(redis) } : {}),
      // The model's shopper ids are pseudonyms: the trainer pseudonymises with the scoring pods' key.
      [Env.HMAC_KEY_FILE]: kplus.EnvValue.fromValue(`${SECRETS_DIR}/${HMAC_KEY_FILE}`),
      ...stateEnv(spec),
    };
    const duckdb = duckdbMemory(spec);
    if (duckdb) env[Env.DUCKDB_MEMORY] = kplus.EnvValue.fromValue(duckdb);
    if (redis && spec.cache.passwordSecretRef) {
      const ref = spec.cache.passwordSecretRef;
      env[Env.REDIS_PASSWORD] = kplus.EnvValue.fromSecretValue({ secret: kplus.Secret.fromSecretName(this, 'RedisPassword', ref.name), key: ref.key }, { optional: false });
    }

    const container = this.cronJob.addContainer({
      name: 'trainer',
      image: spec.image,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      command: [...RECOMMENDER_COMMAND],
      args: trainArgs(),
      envVariables: env,
      resources: {},
      securityContext: restrictedContainer(RECOMMENDER_UID),
    });
    container.mount(
      CONFIG_DIR,
      kplus.Volume.fromConfigMap(this, 'ConfigVolume', kplus.ConfigMap.fromConfigMapName(this, 'Config', props.configMapName), { name: 'config' }),
      { readOnly: true },
    );
    const scratchBytes = trainerScratchBytes(spec);
    const scratch = kplus.Volume.fromEmptyDir(this, 'TmpVolume', 'tmp', { sizeLimit: Size.mebibytes(Math.ceil(scratchBytes / 2 ** 20)) });
    mountModelStore(this, container, { names, spec, scratch });
    mountState(this, container, props.stateClaim);
    container.mount('/tmp', scratch, spec.model.storage.type === 's3' ? { subPath: 'tmp' } : {});

    const cron = ApiObject.of(this.cronJob);
    const resources = withEphemeralStorage(resourceRequirements(spec.training.resources), scratchBytes, 'spec.training.resources');
    finishPodTemplate(cron, '/spec/jobTemplate/spec/template', [resources]);
    const hmacKey = spec.auth.hmacKeySecretRef ?? { name: names.defaultAuthSecret, key: 'hmac-key' };
    cron.addJsonPatch(
      // cdk8s-plus has no projected volumes (the same shape as the scoring pod's, with the HMAC key only).
      JsonPatch.add('/spec/jobTemplate/spec/template/spec/volumes/-', secretsVolume([{ ref: hmacKey, path: HMAC_KEY_FILE }])),
      JsonPatch.add('/spec/jobTemplate/spec/template/spec/containers/0/volumeMounts/-', { name: 'secrets', mountPath: SECRETS_DIR, readOnly: true }),
    );
    cron.addJsonPatch(JsonPatch.add('/spec/jobTemplate/metadata', { labels }));
  }
}
