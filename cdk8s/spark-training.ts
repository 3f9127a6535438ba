/**
 * Retraining on Apache Spark (`spec.training.engine: spark`), through the Kubeflow Spark operator:
 *
 * - a ScheduledSparkApplication on the training schedule (suspend, one run at a time, UTC). Each run's driver
 *   pod first runs the recommender image's `prepare` as an init container (validation, privacy, the staged
 *   Parquet and the job document, under `<models>/spark/<run>/` on the model volume), then the generic
 *   PySpark driver (recommender/src/sql/spark-driver.ts, from a ConfigMap) runs the SQL job with its
 *   executors and writes the neighbour tables as Parquet next to it;
 * - for each run that succeeded, the packing Job (`packJob`, rendered by the operator from the
 *   ScheduledSparkApplication's status): `pack` turns the tables into a versioned, checksummed model version.
 *
 * Driver and executors run as the recommender's non-root user (so they can write what `prepare` wrote) with
 * fixed ports, which the NetworkPolicies open between them. Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { ApiObject, App, Chart, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { SPARK_DRIVER_FILE, SPARK_DRIVER_PY } from '../recommender/src/sql/spark-driver.js';
import type { Recommender, RecommenderSpec } from './api/v1alpha1/recommender.js';
import {
  CATALOG_FILE,
  CONFIG_DIR,
  CONFIG_FILE,
  Component,
  Env,
  EVENTS_FILE,
  HMAC_KEY_FILE,
  MODEL_DIR,
  MODEL_MOUNT,
  RECOMMENDER_COMMAND,
  RECOMMENDER_UID,
  SECRETS_DIR,
  SPARK_BLOCK_MANAGER_PORT,
  SPARK_DIR,
  SPARK_DRIVER_PORT,
  STATE_MOUNT,
} from './constants.js';
import { modelClaimName } from './model-storage.js';
import { podSelectorLabels, recommenderNames, type RecommenderNames } from './names.js';
import { componentIdentity, finishPodTemplate, mebibytes, resourceRequirements, restrictedContainer, restrictedPod, withEphemeralStorage } from './pod-defaults.js';
import { chartObjects } from './render.js';
import { secretsVolume } from './scoring.js';
import { stateEnv } from './state.js';
import { TRAINING_TIME_ZONE, duckdbMemory, trainerScratchBytes } from './training.js';

export const SPARK_API_VERSION = 'sparkoperator.k8s.io/v1beta2';
/** The label the Spark operator puts on a run's driver pod: the SparkApplication's name. */
export const SPARK_APP_NAME_LABEL = 'sparkoperator.k8s.io/app-name';
/** Where the driver program is mounted in the driver (from the ConfigMap). */
export const SPARK_DRIVER_MOUNT = '/opt/tandem/spark';
/** The env variable the driver's `prepare` and its program find the run's directory by. */
const RUN_ENV = 'SPARK_APP_NAME';

const shortHash = (s: string, n: number): string => createHash('sha256').update(s).digest('hex').slice(0, n);

/** A run's job directory on the model volume (prepare writes it, the driver and executors share it, pack removes it). */
export function sparkRunDir(run: string): string {
  return `${SPARK_DIR}/${run}`;
}

/** The shuffle width: four tasks per executor core, so a skewed item never waits alone for long. */
export function shufflePartitions(spec: RecommenderSpec): number {
  return spec.training.spark.executor.instances * spec.training.spark.executor.cores * 4;
}

const env = (vars: Record<string, kplus.EnvValue>): { name: string; value?: string; valueFrom?: unknown }[] =>
  Object.entries(vars).map(([name, v]) => (v.valueFrom ? { name, valueFrom: v.valueFrom } : { name, value: v.value! }));

export interface SparkTrainingProps {
  readonly names: RecommenderNames;
  readonly spec: RecommenderSpec;
  readonly stateClaim: string;
  readonly configMapName: string;
}

export class SparkTraining extends Construct {
  readonly scheduled: ApiObject;

  constructor(scope: Construct, id: string, props: SparkTrainingProps) {
    super(scope, id);
    const { names, spec } = props;
    const s = spec.training.spark;
    // The packing Jobs' ServiceAccount (no token), as the CronJob's is for the embedded engine.
    const { labels } = componentIdentity(this, names, Component.TRAINER, names.trainerServiceAccount);
    const driverLabels = podSelectorLabels(names.instance, Component.SPARK_DRIVER);
    const executorLabels = podSelectorLabels(names.instance, Component.SPARK_EXECUTOR);
    const program = new kplus.ConfigMap(this, 'Driver', {
      metadata: { name: names.sparkDriver, namespace: names.namespace, labels },
      data: { [SPARK_DRIVER_FILE]: SPARK_DRIVER_PY },
    });
    const scratchBytes = trainerScratchBytes(spec);
    const runName = { name: RUN_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.labels['${SPARK_APP_NAME_LABEL}']` } } };
    const hmacKey = spec.auth.hmacKeySecretRef ?? { name: names.defaultAuthSecret, key: 'hmac-key' };
    const volumes = [
      { name: 'models', persistentVolumeClaim: { claimName: modelClaimName(names, spec) } },
      { name: 'state', persistentVolumeClaim: { claimName: props.stateClaim } },
      { name: 'config', configMap: { name: props.configMapName } },
      { name: 'driver', configMap: { name: program.name } },
      { name: 'tmp', emptyDir: { sizeLimit: mebibytes(scratchBytes) } },
      secretsVolume([{ ref: hmacKey, path: HMAC_KEY_FILE }]),
    ];
    const sparkUser = [
      // The image has no passwd entry for our uid; Hadoop's user lookup would fail without a name.
      { name: 'HADOOP_USER_NAME', value: 'tandem' },
      { name: 'SPARK_USER', value: 'tandem' },
    ];
    const podSecurity = { runAsNonRoot: true, runAsUser: RECOMMENDER_UID, runAsGroup: RECOMMENDER_UID, fsGroup: RECOMMENDER_UID, fsGroupChangePolicy: 'OnRootMismatch', seccompProfile: { type: 'RuntimeDefault' } };
    const containerSecurity = {
      runAsNonRoot: true,
      runAsUser: RECOMMENDER_UID,
      runAsGroup: RECOMMENDER_UID,
      privileged: false,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    };
    const prepare = {
      name: 'prepare',
      image: spec.image,
      imagePullPolicy: 'IfNotPresent',
      command: [...RECOMMENDER_COMMAND],
      args: ['prepare', '--catalog', CATALOG_FILE, '--events', EVENTS_FILE, '--job-dir', sparkRunDir(`$(${RUN_ENV})`), '--config', `${CONFIG_DIR}/${CONFIG_FILE}`],
      env: [
        runName,
        { name: Env.HISTORY_WINDOW_DAYS, value: String(spec.training.historyWindowDays) },
        { name: Env.HMAC_KEY_FILE, value: `${SECRETS_DIR}/${HMAC_KEY_FILE}` },
        ...duckdbMemoryEnv(spec),
        ...env(stateEnv(spec)),
      ],
      resources: withEphemeralStorage(resourceRequirements(spec.training.resources), scratchBytes, 'spec.training.resources'),
      securityContext: containerSecurity,
      volumeMounts: [
        { name: 'models', mountPath: MODEL_MOUNT },
        { name: 'state', mountPath: STATE_MOUNT },
        { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
        { name: 'secrets', mountPath: SECRETS_DIR, readOnly: true },
        { name: 'tmp', mountPath: '/tmp' },
      ],
    };
    const sparkMounts = [
      { name: 'models', mountPath: MODEL_MOUNT },
      { name: 'tmp', mountPath: '/tmp' },
    ];
    this.scheduled = new ApiObject(this, 'Scheduled', {
      apiVersion: SPARK_API_VERSION,
      kind: 'ScheduledSparkApplication',
      metadata: { name: names.spark, namespace: names.namespace, labels },
      spec: {
        schedule: spec.training.schedule,
        timeZone: TRAINING_TIME_ZONE,
        suspend: spec.training.suspend,
        concurrencyPolicy: 'Forbid',
        // The operator packs the newest successful run; older ones are gone with their job directories.
        successfulRunHistoryLimit: 1,
        failedRunHistoryLimit: 3,
        template: {
          type: 'Python',
          pythonVersion: '3',
          mode: 'cluster',
          image: s.image,
          imagePullPolicy: 'IfNotPresent',
          sparkVersion: s.sparkVersion,
          mainApplicationFile: `local://${SPARK_DRIVER_MOUNT}/${SPARK_DRIVER_FILE}`,
          // The driver program expands the variable itself (spark-submit passes arguments as they are).
          arguments: [`${sparkRunDir(`\${${RUN_ENV}}`)}/job.json`],
          restartPolicy: { type: 'Never' },
          sparkConf: {
            'spark.driver.port': String(SPARK_DRIVER_PORT),
            'spark.driver.blockManager.port': String(SPARK_BLOCK_MANAGER_PORT),
            'spark.blockManager.port': String(SPARK_BLOCK_MANAGER_PORT),
            'spark.ui.enabled': 'false',
            'spark.sql.shuffle.partitions': String(shufflePartitions(spec)),
            'spark.sql.session.timeZone': 'UTC',
            'spark.sql.maxPlanStringLength': '100000',
            'spark.local.dir': '/tmp/spark',
          },
          volumes,
          driver: {
            cores: s.driver.cores,
            memory: s.driver.memory,
            serviceAccount: s.serviceAccountName,
            labels: driverLabels,
            env: [runName, ...sparkUser],
            podSecurityContext: podSecurity,
            securityContext: containerSecurity,
            initContainers: [prepare],
            volumeMounts: [...sparkMounts, { name: 'driver', mountPath: SPARK_DRIVER_MOUNT, readOnly: true }],
          },
          executor: {
            instances: s.executor.instances,
            cores: s.executor.cores,
            memory: s.executor.memory,
            labels: executorLabels,
            env: sparkUser,
            podSecurityContext: podSecurity,
            securityContext: containerSecurity,
            volumeMounts: sparkMounts,
          },
        },
      },
    });
  }
}

/** TANDEM_DUCKDB_MEMORY: 60% of the trainer's memory limit (Node, the packed model and DuckDB's own overhead share the rest). */
function duckdbMemoryEnv(spec: RecommenderSpec): { name: string; value: string }[] {
  const limit = duckdbMemory(spec);
  return limit ? [{ name: Env.DUCKDB_MEMORY, value: limit }] : [];
}

/** The Job that packs one finished Spark run into a model version. */
class PackJob extends Construct {
  constructor(scope: Construct, id: string, names: RecommenderNames, spec: RecommenderSpec, run: string) {
    super(scope, id);
    const { labels, metadata, serviceAccount } = componentIdentity(this, names, Component.TRAINER, names.trainerServiceAccount);
    const job = new kplus.Job(this, 'Job', {
      metadata: { ...metadata(packJobName(names.instance, run)), annotations: { [SPARK_RUN_ANNOTATION]: run } },
      podMetadata: { labels },
      select: false,
      backoffLimit: 2,
      activeDeadline: Duration.hours(2),
      restartPolicy: kplus.RestartPolicy.NEVER,
      serviceAccount,
      ...restrictedPod(RECOMMENDER_UID),
    });
    const container = job.addContainer({
      name: 'pack',
      image: spec.image,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      command: [...RECOMMENDER_COMMAND],
      args: ['pack', '--job-dir', sparkRunDir(run), '--out', MODEL_DIR, '--config', `${CONFIG_DIR}/${CONFIG_FILE}`],
      envVariables: {
        [Env.KEEP_VERSIONS]: kplus.EnvValue.fromValue(String(spec.training.keepVersions)),
        [Env.MODEL_VERSION]: kplus.EnvValue.fromValue(spec.model.version),
        ...Object.fromEntries(duckdbMemoryEnv(spec).map((e) => [e.name, kplus.EnvValue.fromValue(e.value)])),
      },
      resources: {},
      securityContext: restrictedContainer(RECOMMENDER_UID),
    });
    const claim = kplus.PersistentVolumeClaim.fromClaimName(this, 'ModelClaim', modelClaimName(names, spec));
    container.mount(MODEL_MOUNT, kplus.Volume.fromPersistentVolumeClaim(this, 'ModelVolume', claim, { name: 'models' }));
    container.mount(
      CONFIG_DIR,
      kplus.Volume.fromConfigMap(this, 'ConfigVolume', kplus.ConfigMap.fromConfigMapName(this, 'Config', names.config), { name: 'config' }),
      { readOnly: true },
    );
    const scratchBytes = trainerScratchBytes(spec);
    container.mount('/tmp', kplus.Volume.fromEmptyDir(this, 'TmpVolume', 'tmp', { sizeLimit: Size.mebibytes(Math.ceil(scratchBytes / 2 ** 20)) }));
    const api = ApiObject.of(job);
    finishPodTemplate(api, '/spec/template', [withEphemeralStorage(resourceRequirements(spec.training.resources), scratchBytes, 'spec.training.resources')]);
    api.addJsonPatch(JsonPatch.add('/spec/template/metadata/labels', labels));
  }
}

/** The annotation naming the Spark run a packing Job packs. */
export const SPARK_RUN_ANNOTATION = 'tandem.dev/spark-run';

/** `<name>-pack-<hash of the run>`: ≤ 58 characters, so its pods' `job-name` label stays valid. */
export function packJobName(instance: string, run: string): string {
  return `${instance}-pack-${shortHash(run, 8)}`;
}

/**
 * The packing Job of each successful Spark run the ScheduledSparkApplication reports, as plain objects (without
 * the ServiceAccount, which the render already has). Pure; the operator calls it with the live status.
 */
export function packJobs(rec: Recommender, runs: readonly string[]): KubernetesObject[] {
  if (rec.spec.training.engine !== 'spark' || runs.length === 0) return [];
  const names = recommenderNames(rec.metadata.name, rec.metadata.namespace!);
  const app = new App();
  const chart = new Chart(app, 'pack');
  runs.forEach((run, i) => new PackJob(chart, `Pack${i}`, names, rec.spec, run));
  return chartObjects(chart).filter((o) => o.kind === 'Job');
}

/** The runs to pack, from a ScheduledSparkApplication as the API server returns it. */
export function successfulRuns(scheduled: KubernetesObject | undefined): string[] {
  const status = (scheduled as { status?: { pastSuccessfulRunNames?: unknown } } | undefined)?.status;
  return Array.isArray(status?.pastSuccessfulRunNames) ? status.pastSuccessfulRunNames.filter((r): r is string => typeof r === 'string' && r.length > 0) : [];
}

