/**
 * The scoring tier: ServiceAccount, ConfigMap, Deployment, Service, HorizontalPodAutoscaler and
 * PodDisruptionBudget. Secrets (API keys, HMAC key, Redis password) are referenced, never rendered, and
 * reach the pod as files, which the service re-reads when they change.
 */
import { createHash } from 'node:crypto';
import { ApiObject, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { stringify } from 'yaml';
import type { RecommenderSpec } from './api/v1alpha1/recommender.js';
import {
  API_KEYS_FILE,
  API_PORT,
  API_PORT_NAME,
  CONFIG_DIR,
  CONFIG_FILE,
  CONFIG_HASH_ANNOTATION,
  Component,
  Env,
  EXPERIMENTS_FILE,
  HMAC_KEY_FILE,
  LIVENESS_PATH,
  METRICS_PORT,
  METRICS_PORT_NAME,
  Metrics,
  MODEL_DIR,
  MODEL_WATCH_SECONDS,
  READINESS_PATH,
  RECOMMENDER_COMMAND,
  RECOMMENDER_UID,
  REDIS_PASSWORD_FILE,
  REDIS_PORT,
  SCORING_HEAP_RATIO,
  SCORING_TMP_BYTES,
  SECRETS_DIR,
} from './constants.js';
import { mountModelStore } from './model-storage.js';
import { podSelectorLabels, type RecommenderNames } from './names.js';
import { componentIdentity, finishPodTemplate, resourceRequirements, restrictedContainer, restrictedPod, selectPods, withEphemeralStorage } from './pod-defaults.js';
import { quantityValue } from './quantity.js';
import { mountState, stateEnv } from './state.js';

export interface ScoringProps {
  readonly names: RecommenderNames;
  readonly spec: RecommenderSpec;
  /** The state PVC (see state.ts). */
  readonly stateClaim: string;
}

/** The recommender's engine and rules config (its `TandemConfig` file format) built from the spec. */
export function recommenderConfig(spec: RecommenderSpec): Record<string, unknown> {
  return {
    engine: { upsellBand: { min: spec.scoring.upSellPriceBand.min, max: spec.scoring.upSellPriceBand.max } },
    rules: { maxPerCategory: spec.scoring.maxItemsPerCategory },
  };
}

/** The ConfigMap data: byte-stable (sorted keys, no timestamps). */
export function configMapData(spec: RecommenderSpec): Record<string, string> {
  return {
    [CONFIG_FILE]: stringify(recommenderConfig(spec), { sortMapEntries: true }),
    [EXPERIMENTS_FILE]: `${JSON.stringify(experimentsFile(spec))}\n`,
  };
}

/** The experiments file (the recommender's `ExperimentsFile` format): the spec's experiment, or none. */
export function experimentsFile(spec: RecommenderSpec): { experiments: unknown[] } {
  const { name, variants } = spec.experiments;
  if (variants.length === 0) return { experiments: [] };
  return {
    experiments: [
      {
        name,
        variants: variants.map((v) => ({
          name: v.name,
          weight: v.weight,
          ...(v.modelVersion ? { modelVersion: v.modelVersion } : {}),
          ...(v.engine && Object.keys(v.engine).length > 0 ? { engine: v.engine } : {}),
        })),
      },
    ],
  };
}

/** The scoring container's arguments after the image command: serve the newest model of the model volume. */
export function serveArgs(): string[] {
  return ['serve', '--model-dir', MODEL_DIR, '--config', `${CONFIG_DIR}/${CONFIG_FILE}`, '--watch-seconds', String(MODEL_WATCH_SECONDS)];
}

/**
 * The apply body that hands `spec.replicas` of the scoring Deployment to HPA_HANDOVER_FIELD_MANAGER.
 *
 * Server-side apply removes a field that its only manager stops applying, and a Deployment without
 * `replicas` defaults to 1. So when autoscaling is switched on (the render no longer sets `replicas`),
 * apply this first with the live replica count under HPA_HANDOVER_FIELD_MANAGER, then the render: the
 * count stays, and the HPA scales from it. (Tested on a real API server in recommender-chart.cluster.test.ts.)
 */
export function replicasHandover(deployment: { metadata?: { name?: string; namespace?: string } }, liveReplicas: number) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: deployment.metadata?.name, namespace: deployment.metadata?.namespace },
    spec: { replicas: liveReplicas },
  };
}

/** `--max-old-space-size=<MiB>` for the scoring container's memory limit, or undefined without a limit. */
export function scoringNodeOptions(spec: RecommenderSpec): string | undefined {
  const limit = spec.resources.limits?.memory;
  if (limit === undefined) return undefined;
  const mib = Math.floor((quantityValue(limit, 'spec.resources.limits.memory') * SCORING_HEAP_RATIO) / 2 ** 20);
  return `--max-old-space-size=${mib}`;
}

/** A file of the secrets volume and the Secret key it comes from. */
interface SecretFile {
  readonly ref: { readonly name: string; readonly key: string };
  readonly path: string;
}

/** The Secret keys the scoring pod reads, as files of SECRETS_DIR. */
export function scoringSecretFiles(names: RecommenderNames, spec: RecommenderSpec): SecretFile[] {
  const files: SecretFile[] = [
    { ref: spec.auth.apiKeysSecretRef ?? { name: names.defaultAuthSecret, key: 'api-keys' }, path: API_KEYS_FILE },
    { ref: spec.auth.hmacKeySecretRef ?? { name: names.defaultAuthSecret, key: 'hmac-key' }, path: HMAC_KEY_FILE },
  ];
  if (spec.cache.enabled && spec.cache.passwordSecretRef) files.push({ ref: spec.cache.passwordSecretRef, path: REDIS_PASSWORD_FILE });
  return files;
}

/**
 * The projected volume holding the secret files: one source per Secret, only the keys used, read by the
 * pod's group (fsGroup) only. `optional: false`: a pod whose Secret or key is missing does not start.
 */
export function secretsVolume(files: readonly SecretFile[]) {
  const bySecret = new Map<string, { key: string; path: string }[]>();
  for (const f of files) bySecret.set(f.ref.name, [...(bySecret.get(f.ref.name) ?? []), { key: f.ref.key, path: f.path }]);
  return {
    name: 'secrets',
    projected: {
      defaultMode: 0o440,
      sources: [...bySecret].map(([name, items]) => ({ secret: { name, items, optional: false } })),
    },
  };
}

/** `redis://<name>-redis:6379`, or undefined when the cache is off. */
export function redisUrl(names: RecommenderNames, spec: RecommenderSpec): string | undefined {
  return spec.cache.enabled ? `redis://${names.redis}:${REDIS_PORT}` : undefined;
}

export class Scoring extends Construct {
  readonly deployment: kplus.Deployment;
  readonly service: kplus.Service;

  constructor(scope: Construct, id: string, props: ScoringProps) {
    super(scope, id);
    const { names, spec } = props;
    const { labels, metadata, serviceAccount } = componentIdentity(this, names, Component.SCORING, names.scoringServiceAccount);
    const selector = podSelectorLabels(names.instance, Component.SCORING);

    const data = configMapData(spec);
    const configMap = new kplus.ConfigMap(this, 'Config', { metadata: metadata(names.config), data });
    // The service reads the ConfigMap's files once, at start: their hash in the pod template rolls the pods
    // when they change. The Secrets need no hash (their values are never rendered): the service re-reads them.
    const configHash = createHash('sha256').update(JSON.stringify(Object.entries(data).sort())).digest('hex').slice(0, 16);

    const replicasOwnedByHpa = spec.autoscaling.enabled;
    this.deployment = new kplus.Deployment(this, 'Deployment', {
      metadata: metadata(names.scoring),
      podMetadata: { labels, annotations: { [CONFIG_HASH_ANNOTATION]: configHash } },
      select: false,
      ...(replicasOwnedByHpa ? {} : { replicas: spec.replicas.min }),
      strategy: kplus.DeploymentStrategy.rollingUpdate({
        maxSurge: kplus.PercentOrAbsolute.percent(25),
        maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
      }),
      serviceAccount,
      ...restrictedPod(RECOMMENDER_UID),
      terminationGracePeriod: Duration.seconds(30),
    });
    this.deployment.select(kplus.LabelSelector.of({ labels: selector }));

    const redis = redisUrl(names, spec);
    const nodeOptions = scoringNodeOptions(spec);
    const secretFiles = scoringSecretFiles(names, spec);
    const secretPath = (file: string) => kplus.EnvValue.fromValue(`${SECRETS_DIR}/${file}`);

    const env: Record<string, kplus.EnvValue> = {
      [Env.PORT]: kplus.EnvValue.fromValue(String(API_PORT)),
      [Env.METRICS_PORT]: kplus.EnvValue.fromValue(String(METRICS_PORT)),
      [Env.EXPERIMENTS]: kplus.EnvValue.fromValue(`${CONFIG_DIR}/${EXPERIMENTS_FILE}`),
      [Env.MODEL_DIR]: kplus.EnvValue.fromValue(MODEL_DIR),
      [Env.MODEL_VERSION]: kplus.EnvValue.fromValue(spec.model.version),
      [Env.CACHE_TTL_SECONDS]: kplus.EnvValue.fromValue(String(spec.cache.ttlSeconds)),
      [Env.AUDIT_ENABLED]: kplus.EnvValue.fromValue(String(spec.audit.enabled)),
      [Env.AUDIT_STDOUT]: kplus.EnvValue.fromValue(String(spec.audit.stdout)),
      [Env.AUDIT_MAX_FILE_BYTES]: kplus.EnvValue.fromValue(String(spec.audit.maxFileMiB * 2 ** 20)),
      [Env.AUDIT_ROTATE_SECONDS]: kplus.EnvValue.fromValue(String(spec.audit.rotateMinutes * 60)),
      ...stateEnv(spec),
      ...(redis ? { [Env.REDIS_URL]: kplus.EnvValue.fromValue(redis) } : {}),
      ...(secretFiles.some((f) => f.path === REDIS_PASSWORD_FILE) ? { [Env.REDIS_PASSWORD_FILE]: secretPath(REDIS_PASSWORD_FILE) } : {}),
      [Env.API_KEYS_FILE]: secretPath(API_KEYS_FILE),
      [Env.HMAC_KEY_FILE]: secretPath(HMAC_KEY_FILE),
      ...(nodeOptions ? { [Env.NODE_OPTIONS]: kplus.EnvValue.fromValue(nodeOptions) } : {}),
    };

    const container = this.deployment.addContainer({
      name: 'scoring',
      image: spec.image,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      command: [...RECOMMENDER_COMMAND],
      args: serveArgs(),
      ports: [
        { name: API_PORT_NAME, number: API_PORT, protocol: kplus.Protocol.TCP },
        { name: METRICS_PORT_NAME, number: METRICS_PORT, protocol: kplus.Protocol.TCP },
      ],
      envVariables: env,
      resources: {},
      securityContext: restrictedContainer(RECOMMENDER_UID),
      // Model load can take minutes: the startup probe holds liveness off until the process answers.
      startup: kplus.Probe.fromHttpGet(LIVENESS_PATH, {
        port: API_PORT,
        periodSeconds: Duration.seconds(5),
        timeoutSeconds: Duration.seconds(2),
        failureThreshold: 60,
      }),
      liveness: kplus.Probe.fromHttpGet(LIVENESS_PATH, {
        port: API_PORT,
        periodSeconds: Duration.seconds(10),
        timeoutSeconds: Duration.seconds(2),
        failureThreshold: 3,
      }),
      readiness: kplus.Probe.fromHttpGet(READINESS_PATH, {
        port: API_PORT,
        periodSeconds: Duration.seconds(5),
        timeoutSeconds: Duration.seconds(2),
        failureThreshold: 2,
      }),
    });
    container.mount(CONFIG_DIR, kplus.Volume.fromConfigMap(this, 'ConfigVolume', configMap, { name: 'config' }), { readOnly: true });
    const modelCacheBytes = mountModelStore(this, container, { names, spec });
    mountState(this, container, props.stateClaim);
    container.mount('/tmp', kplus.Volume.fromEmptyDir(this, 'TmpVolume', 'tmp', { sizeLimit: Size.mebibytes(SCORING_TMP_BYTES / 2 ** 20) }));

    const deploymentObject = ApiObject.of(this.deployment);
    const resources = withEphemeralStorage(resourceRequirements(spec.resources), SCORING_TMP_BYTES + modelCacheBytes, 'spec.resources');
    finishPodTemplate(deploymentObject, '/spec/template', [resources]);
    deploymentObject.addJsonPatch(
      // cdk8s-plus has no projected volumes.
      JsonPatch.add('/spec/template/spec/volumes/-', secretsVolume(secretFiles)),
      JsonPatch.add('/spec/template/spec/containers/0/volumeMounts/-', { name: 'secrets', mountPath: SECRETS_DIR, readOnly: true }),
    );
    deploymentObject.addJsonPatch(
      JsonPatch.add('/spec/revisionHistoryLimit', 5),
      JsonPatch.add('/spec/template/spec/topologySpreadConstraints', [
        spread('topology.kubernetes.io/zone', selector),
        spread('kubernetes.io/hostname', selector),
      ]),
    );

    this.service = new kplus.Service(this, 'Service', {
      metadata: metadata(names.scoring),
      type: kplus.ServiceType.CLUSTER_IP,
      ports: [
        { name: API_PORT_NAME, port: API_PORT, targetPort: API_PORT, protocol: kplus.Protocol.TCP },
        { name: METRICS_PORT_NAME, port: METRICS_PORT, targetPort: METRICS_PORT, protocol: kplus.Protocol.TCP },
      ],
    });
    selectPods(this.service, selector);

    if (replicasOwnedByHpa) {
      const metrics = [kplus.Metric.resourceCpu(kplus.MetricTarget.averageUtilization(spec.autoscaling.targetCPUUtilizationPercentage))];
      if (spec.autoscaling.targetRequestsPerSecondPerPod !== undefined) {
        metrics.push(kplus.Metric.pods({ name: Metrics.REQUESTS_PER_SECOND, target: kplus.MetricTarget.averageValue(spec.autoscaling.targetRequestsPerSecondPerPod) }));
      }
      new kplus.HorizontalPodAutoscaler(this, 'Autoscaler', {
        metadata: metadata(names.scoring),
        target: this.deployment,
        minReplicas: spec.replicas.min,
        maxReplicas: spec.replicas.max,
        metrics,
        scaleDown: { stabilizationWindow: Duration.seconds(spec.autoscaling.scaleDownStabilizationSeconds) },
      });
    }

    new kplus.k8s.KubePodDisruptionBudget(this, 'DisruptionBudget', {
      metadata: metadata(names.scoring),
      spec: {
        maxUnavailable: kplus.k8s.IntOrString.fromNumber(1),
        selector: { matchLabels: selector },
        unhealthyPodEvictionPolicy: 'AlwaysAllow',
      },
    });
  }
}

/** Spread pods of one rollout (`pod-template-hash`) evenly; never block scheduling on it. */
function spread(topologyKey: string, selector: Record<string, string>) {
  return {
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: 'ScheduleAnyway',
    labelSelector: { matchLabels: selector },
    matchLabelKeys: ['pod-template-hash'],
  };
}

