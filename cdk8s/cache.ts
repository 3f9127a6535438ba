/**
 * The cache tier: a Redis StatefulSet (one pod, no persistence: it is a cache, and the service serves
 * uncached when it is down), its headless Service, a PDB and a ServiceAccount.
 *
 * Redis gets `maxmemory` at 80% of `spec.cache.memory` (the container's memory limit) with
 * `allkeys-lru`, so LRU eviction starts before the OOM killer would: Redis needs headroom beyond
 * maxmemory for fragmentation and client buffers. The password comes from `spec.cache.passwordSecretRef`
 * as a mounted file, fed to redis-server as config on stdin, so it never appears in the manifest, the
 * environment or argv.
 */
import { ApiObject, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { RecommenderSpec } from './api/v1alpha1/recommender.js';
import { Component, Env, REDIS_GID, REDIS_PASSWORD_DIR, REDIS_PORT, REDIS_PORT_NAME, REDIS_UID } from './constants.js';
import { podSelectorLabels, type RecommenderNames } from './names.js';
import { componentIdentity, finishPodTemplate, restrictedContainer, restrictedPod, selectPods, withEphemeralStorage } from './pod-defaults.js';
import { quantityValue } from './quantity.js';

/** Share of the memory limit given to Redis as `maxmemory`. */
export const REDIS_MAXMEMORY_RATIO = 0.8;

export interface CacheProps {
  readonly names: RecommenderNames;
  readonly spec: RecommenderSpec;
}

/** `maxmemory` in bytes for a `spec.cache.memory` quantity. */
export function redisMaxMemoryBytes(memory: string): number {
  return Math.floor(quantityValue(memory, 'spec.cache.memory') * REDIS_MAXMEMORY_RATIO);
}

/** The Redis `/data` emptyDir (nothing is persisted; Redis only needs a working directory). */
export const REDIS_DATA_BYTES = 64 * 2 ** 20;

/** The shell script that starts redis-server; the password file, if any, is fed as config on stdin. */
export function redisStartScript(spec: RecommenderSpec): string {
  const args = [
    `--port ${REDIS_PORT}`,
    `--maxmemory ${redisMaxMemoryBytes(spec.cache.memory)}`,
    '--maxmemory-policy allkeys-lru',
    "--save ''",
    '--appendonly no',
    '--dir /data',
  ];
  if (!spec.cache.passwordSecretRef) {
    // No password: only the NetworkPolicy guards it, and protected mode would refuse every remote client.
    return ['exec redis-server', ...args, '--protected-mode no'].join(' ');
  }
  // Redis reads a double-quoted config value with backslash escapes: escape `\` and `"` first.
  return [
    `pw=$(sed 's/[\\\\"]/\\\\&/g' "$${Env.REDIS_PASSWORD_FILE}")`,
    `exec redis-server ${args.join(' ')} - <<EOF`,
    'requirepass "$pw"',
    'EOF',
  ].join('\n');
}

export class Cache extends Construct {
  readonly statefulSet: kplus.StatefulSet;

  constructor(scope: Construct, id: string, props: CacheProps) {
    super(scope, id);
    const { names, spec } = props;
    const { labels, metadata, serviceAccount } = componentIdentity(this, names, Component.CACHE, names.redisServiceAccount);
    const selector = podSelectorLabels(names.instance, Component.CACHE);

    const service = new kplus.Service(this, 'Service', {
      metadata: metadata(names.redis),
      clusterIP: 'None',
      ports: [{ name: REDIS_PORT_NAME, port: REDIS_PORT, targetPort: REDIS_PORT, protocol: kplus.Protocol.TCP }],
    });

    this.statefulSet = new kplus.StatefulSet(this, 'StatefulSet', {
      metadata: metadata(names.redis),
      podMetadata: { labels },
      select: false,
      service,
      replicas: 1,
      podManagementPolicy: kplus.PodManagementPolicy.PARALLEL,
      serviceAccount,
      ...restrictedPod(REDIS_UID, REDIS_GID),
      terminationGracePeriod: Duration.seconds(30),
    });
    this.statefulSet.select(kplus.LabelSelector.of({ labels: selector }));
    selectPods(service, selector);

    const passwordFile = `${REDIS_PASSWORD_DIR}/password`;
    const passwordEnv: Record<string, kplus.EnvValue> = spec.cache.passwordSecretRef ? { [Env.REDIS_PASSWORD_FILE]: kplus.EnvValue.fromValue(passwordFile) } : {};
    // redis-cli (the readiness probe) reads REDISCLI_AUTH.
    const auth = spec.cache.passwordSecretRef ? `REDISCLI_AUTH="$(cat "$${Env.REDIS_PASSWORD_FILE}")" ` : '';

    const container = this.statefulSet.addContainer({
      name: 'redis',
      image: spec.cache.image,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      command: ['sh', '-c', redisStartScript(spec)],
      ports: [{ name: REDIS_PORT_NAME, number: REDIS_PORT, protocol: kplus.Protocol.TCP }],
      envVariables: passwordEnv,
      resources: {},
      securityContext: restrictedContainer(REDIS_UID, REDIS_GID),
      liveness: kplus.Probe.fromTcpSocket({ port: REDIS_PORT, periodSeconds: Duration.seconds(10), failureThreshold: 3 }),
      readiness: kplus.Probe.fromCommand(['sh', '-c', `${auth}redis-cli -p ${REDIS_PORT} ping | grep -q PONG`], {
        periodSeconds: Duration.seconds(5),
        timeoutSeconds: Duration.seconds(2),
        failureThreshold: 2,
      }),
      startup: kplus.Probe.fromTcpSocket({ port: REDIS_PORT, periodSeconds: Duration.seconds(2), failureThreshold: 30 }),
    });
    container.mount('/data', kplus.Volume.fromEmptyDir(this, 'Data', 'data', { sizeLimit: Size.mebibytes(REDIS_DATA_BYTES / 2 ** 20) }));
    if (spec.cache.passwordSecretRef) {
      const ref = spec.cache.passwordSecretRef;
      const secret = kplus.Secret.fromSecretName(this, 'Password', ref.name);
      container.mount(REDIS_PASSWORD_DIR, kplus.Volume.fromSecret(this, 'PasswordVolume', secret, { name: 'password', items: { [ref.key]: { path: 'password' } } }), { readOnly: true });
    }

    const memory = String(spec.cache.memory);
    const sts = ApiObject.of(this.statefulSet);
    finishPodTemplate(sts, '/spec/template', [withEphemeralStorage({ requests: { cpu: '50m', memory }, limits: { memory } }, REDIS_DATA_BYTES, 'spec.cache')]);
    sts.addJsonPatch(JsonPatch.add('/spec/revisionHistoryLimit', 5));

    new kplus.k8s.KubePodDisruptionBudget(this, 'DisruptionBudget', {
      metadata: metadata(names.redis),
      spec: {
        // One replica, and the service runs uncached without it: never block a node drain.
        maxUnavailable: kplus.k8s.IntOrString.fromNumber(1),
        selector: { matchLabels: selector },
        unhealthyPodEvictionPolicy: 'AlwaysAllow',
      },
    });
  }
}
