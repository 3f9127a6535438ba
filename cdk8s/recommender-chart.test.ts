import { DEFAULT_POD_NODE_OPTIONS } from '../recommender/src/bench/production.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../recommender/src/config.js';
import { S3_ENV } from '../recommender/src/model/s3-source.js';
import { CHILD_KINDS } from './child-kinds.js';
import {
  API_PORT,
  CONFIG_HASH_ANNOTATION,
  LABEL_COMPONENT,
  LABEL_INSTANCE,
  LABEL_MANAGED_BY,
  LABEL_NAME,
  LABEL_PART_OF,
  METRICS_PORT,
  LOG_STORAGE_BYTES,
  REDIS_PORT,
} from './constants.js';
import { quantityValue } from './quantity.js';
import { redisMaxMemoryBytes } from './cache.js';
import { MAX_NAME_LENGTH } from './names.js';
import { renderRecommender } from './recommender-chart.js';
import { toYaml } from './render.js';
import { find, kinds, recommender } from './test/fixtures.js';
import { parseExperiments } from '../recommender/src/experiments/config.js';

const podSpec = (objects: ReturnType<typeof renderRecommender>, kind: string) => {
  const o = find(objects, kind);
  return kind === 'CronJob' ? o.spec.jobTemplate.spec.template.spec : o.spec.template.spec;
};

describe('renderRecommender', () => {
  const defaults = renderRecommender(recommender());

  it('renders every child of a default Recommender, in apply order, with explicit names and the namespace', () => {
    expect(kinds(defaults)).toEqual([
      'ServiceAccount/storefront-redis',
      'ServiceAccount/storefront-scoring',
      'ServiceAccount/storefront-trainer',
      'ConfigMap/storefront-config',
      'PersistentVolumeClaim/storefront-models',
      'PersistentVolumeClaim/storefront-state',
      'NetworkPolicy/storefront-cache-ingress',
      'NetworkPolicy/storefront-default-deny',
      'NetworkPolicy/storefront-scoring-egress',
      'NetworkPolicy/storefront-scoring-ingress',
      'NetworkPolicy/storefront-trainer-egress',
      'Service/storefront',
      'Service/storefront-redis',
      'StatefulSet/storefront-redis',
      'Deployment/storefront',
      'HorizontalPodAutoscaler/storefront',
      'PodDisruptionBudget/storefront',
      'PodDisruptionBudget/storefront-redis',
      'CronJob/storefront-retrain',
      'ServiceMonitor/storefront',
      'PrometheusRule/storefront',
    ]);
    for (const o of defaults) expect(o.metadata?.namespace).toBe('shop');
  });

  it('labels every object with the architecture labels, and adds no ownerReferences', () => {
    for (const o of defaults) {
      expect(o.metadata?.labels).toMatchObject({
        [LABEL_NAME]: 'tandem',
        [LABEL_PART_OF]: 'tandem',
        [LABEL_MANAGED_BY]: 'tandem-operator',
        [LABEL_INSTANCE]: 'storefront',
      });
      expect(o.metadata?.labels?.[LABEL_COMPONENT]).toMatch(/^(scoring|cache|trainer|model|state|network|monitoring)$/);
      expect(o.metadata?.ownerReferences).toBeUndefined();
    }
  });

  it('produces only the kinds listed in CHILD_KINDS', () => {
    const listed = new Set(CHILD_KINDS.map((k) => `${k.apiVersion} ${k.kind}`));
    for (const o of defaults) expect(listed).toContain(`${o.apiVersion} ${o.kind}`);
  });

  it('renders byte-identical YAML for the same spec, each time with a fresh App', () => {
    const spec = { cache: { passwordSecretRef: { name: 'redis' } }, autoscaling: { targetRequestsPerSecondPerPod: 100 } };
    expect(toYaml(renderRecommender(recommender(spec)))).toBe(toYaml(renderRecommender(recommender(spec))));
  });

  it('refuses a name whose Job and pod names would be invalid, naming metadata.name', () => {
    // The CRD already refuses such names; the chart refuses them too, for callers that skip validation.
    const tooLong = recommender();
    tooLong.metadata.name = 'x'.repeat(MAX_NAME_LENGTH + 1);
    expect(() => renderRecommender(tooLong)).toThrow(/metadata\.name: Invalid value/);
    expect(() => renderRecommender(recommender({}, 'x'.repeat(MAX_NAME_LENGTH)))).not.toThrow();
  });

  it('refuses a Recommender without a namespace', () => {
    const rec = recommender();
    delete rec.metadata.namespace;
    expect(() => renderRecommender(rec)).toThrow(/metadata\.namespace: Required value/);
  });
});

describe('the scoring Deployment', () => {
  const objects = renderRecommender(recommender());
  const deployment = find(objects, 'Deployment');
  const pod = deployment.spec.template.spec;
  const [container] = pod.containers;

  it('probes liveness on /healthz, readiness on /readyz, and gives model load a long startup probe', () => {
    expect(container.livenessProbe.httpGet).toMatchObject({ path: '/healthz', port: API_PORT });
    expect(container.readinessProbe.httpGet).toMatchObject({ path: '/readyz', port: API_PORT });
    expect(container.startupProbe.httpGet).toMatchObject({ path: '/healthz', port: API_PORT });
    expect(container.startupProbe.periodSeconds * container.startupProbe.failureThreshold).toBeGreaterThanOrEqual(300);
  });

  it('runs restricted: non-root, read-only root, no capabilities, RuntimeDefault seccomp, no token', () => {
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsGroup: 10001,
      runAsNonRoot: true,
      runAsUser: 10001,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(find(objects, 'ServiceAccount', 'storefront-scoring').automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBe('storefront-scoring');
  });

  it('uses the image and the exact resources of the spec', () => {
    const custom = renderRecommender(recommender({ image: 'example.com/rec:1.2.3', resources: { requests: { cpu: '1.5', memory: '3Gi' }, limits: { cpu: 2, memory: '3Gi' } } }));
    const [c] = find(custom, 'Deployment').spec.template.spec.containers;
    expect(c.image).toBe('example.com/rec:1.2.3');
    expect(c.resources).toEqual({ requests: { cpu: '1.5', memory: '3Gi', 'ephemeral-storage': '256Mi' }, limits: { cpu: '2', memory: '3Gi', 'ephemeral-storage': '320Mi' } });
    expect(container.resources).toEqual({ requests: { cpu: '250m', memory: '512Mi', 'ephemeral-storage': '256Mi' }, limits: { memory: '1Gi', 'ephemeral-storage': '320Mi' } });
  });

  it('requests the ephemeral storage of its /tmp, and limits it to that plus room for logs', () => {
    const tmp = pod.volumes.find((v: { name: string }) => v.name === 'tmp');
    expect(quantityValue(container.resources.requests['ephemeral-storage'])).toBe(quantityValue(tmp.emptyDir.sizeLimit));
    expect(quantityValue(container.resources.limits['ephemeral-storage']) - quantityValue(tmp.emptyDir.sizeLimit)).toBe(LOG_STORAGE_BYTES);
  });

  it('gives the V8 heap half the memory limit, and leaves node its default without a limit', () => {
    const nodeOptions = (c: { env: { name: string; value?: string }[] }) => c.env.find((e) => e.name === 'NODE_OPTIONS')?.value;
    expect(nodeOptions(container)).toBe('--max-old-space-size=512');
    expect(nodeOptions(container)).toBe(DEFAULT_POD_NODE_OPTIONS); // what the recommender bench runs with
    const big = renderRecommender(recommender({ resources: { requests: { memory: '3Gi' }, limits: { memory: '3Gi' } } }));
    expect(nodeOptions(find(big, 'Deployment').spec.template.spec.containers[0])).toBe('--max-old-space-size=1536');
    const unlimited = renderRecommender(recommender({ resources: { requests: { cpu: '1', memory: '1Gi' } } }));
    expect(nodeOptions(find(unlimited, 'Deployment').spec.template.spec.containers[0])).toBeUndefined();
  });

  it('selects its pods by name, instance and component only, and the pods carry no construct-path label', () => {
    const selector = { [LABEL_COMPONENT]: 'scoring', [LABEL_INSTANCE]: 'storefront', [LABEL_NAME]: 'tandem' };
    expect(deployment.spec.selector).toEqual({ matchLabels: selector });
    expect(deployment.spec.template.metadata.labels).toMatchObject(selector);
    expect(Object.keys(deployment.spec.template.metadata.labels).filter((k) => k.startsWith('cdk8s.io'))).toEqual([]);
    expect(find(objects, 'Service', 'storefront').spec.selector).toEqual(selector);
    expect(find(objects, 'PodDisruptionBudget', 'storefront').spec.selector).toEqual({ matchLabels: selector });
  });

  it('spreads pods over zones and nodes without blocking scheduling', () => {
    expect(pod.topologySpreadConstraints.map((t: { topologyKey: string }) => t.topologyKey)).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
    for (const t of pod.topologySpreadConstraints) expect(t).toMatchObject({ maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway' });
  });

  it('rolls out with maxUnavailable 0', () => {
    expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } });
  });

  it('mounts the config read-only, the model volume read-only, the secrets read-only, the state volume and /tmp writable', () => {
    expect(container.volumeMounts).toEqual([
      { mountPath: '/etc/tandem', name: 'config', readOnly: true },
      { mountPath: '/models', name: 'models', readOnly: true },
      { mountPath: '/state', name: 'state' },
      { mountPath: '/tmp', name: 'tmp' },
      { mountPath: '/var/run/secrets/tandem', name: 'secrets', readOnly: true },
    ]);
    expect(pod.volumes).toContainEqual({ name: 'models', persistentVolumeClaim: { claimName: 'storefront-models', readOnly: true } });
    expect(pod.volumes).toContainEqual({ name: 'config', configMap: { name: 'storefront-config' } });
    expect(pod.volumes).toContainEqual({ name: 'state', persistentVolumeClaim: { claimName: 'storefront-state', readOnly: false } });
  });

  it('mounts the API keys, HMAC key and Redis password Secrets as files, never as env, and never renders their values', () => {
    const rec = recommender({
      cache: { passwordSecretRef: { name: 'redis-auth' } },
      auth: { apiKeysSecretRef: { name: 'keys', key: 'k' }, hmacKeySecretRef: { name: 'hmac', key: 'h' } },
    });
    const rendered = renderRecommender(rec);
    const spec = find(rendered, 'Deployment').spec.template.spec;
    const env = spec.containers[0].env as { name: string; value?: string; valueFrom?: unknown }[];
    expect(env.filter((e) => e.valueFrom !== undefined)).toEqual([]);
    const byName = Object.fromEntries(env.map((e) => [e.name, e.value]));
    expect(byName).toMatchObject({
      TANDEM_API_KEYS_FILE: '/var/run/secrets/tandem/api-keys',
      TANDEM_HMAC_KEY_FILE: '/var/run/secrets/tandem/hmac-key',
      REDIS_PASSWORD_FILE: '/var/run/secrets/tandem/redis-password',
    });
    expect(spec.volumes).toContainEqual({
      name: 'secrets',
      projected: {
        defaultMode: 0o440,
        sources: [
          { secret: { name: 'keys', items: [{ key: 'k', path: 'api-keys' }], optional: false } },
          { secret: { name: 'hmac', items: [{ key: 'h', path: 'hmac-key' }], optional: false } },
          { secret: { name: 'redis-auth', items: [{ key: 'password', path: 'redis-password' }], optional: false } },
        ],
      },
    });
    expect(rendered.map((o) => o.kind)).not.toContain('Secret');
  });

  it('defaults the API keys and HMAC key to the <name>-auth Secret, one source for both, and has no Redis password without one', () => {
    expect(pod.volumes).toContainEqual({
      name: 'secrets',
      projected: {
        defaultMode: 0o440,
        sources: [{ secret: { name: 'storefront-auth', items: [{ key: 'api-keys', path: 'api-keys' }, { key: 'hmac-key', path: 'hmac-key' }], optional: false } }],
      },
    });
    expect((container.env as { name: string }[]).map((e) => e.name)).not.toContain('REDIS_PASSWORD_FILE');
  });

  it('rolls the pods when a Secret reference changes, but a Secret value change reaches running pods as files (no config hash)', () => {
    const other = renderRecommender(recommender({ auth: { apiKeysSecretRef: { name: 'rotated' } } }));
    const template = (list: typeof objects) => find(list, 'Deployment').spec.template;
    expect(template(other).metadata.annotations).toEqual(template(objects).metadata.annotations);
    expect(JSON.stringify(template(other).spec.volumes)).toContain('"rotated"');
    expect(template(other)).not.toEqual(template(objects));
  });

  it('takes its config from the ConfigMap, and rolls the pods when the config changes', () => {
    const config = find(objects, 'ConfigMap');
    expect(config.data?.['config.yaml']).toBe('engine:\n  upsellBand:\n    max: 1.6\n    min: 1.05\nrules:\n  maxPerCategory: 3\n');
    const other = renderRecommender(recommender({ scoring: { maxItemsPerCategory: 5 } }));
    const hash = (list: typeof objects) => find(list, 'Deployment').spec.template.metadata.annotations[CONFIG_HASH_ANNOTATION];
    expect(hash(objects)).toMatch(/^[0-9a-f]{16}$/);
    expect(hash(other)).not.toBe(hash(objects));
  });

  it('exposes the API and metrics ports on a ClusterIP Service', () => {
    expect(find(objects, 'Service', 'storefront').spec).toMatchObject({
      type: 'ClusterIP',
      ports: [
        { name: 'http', port: API_PORT, targetPort: API_PORT, protocol: 'TCP' },
        { name: 'metrics', port: METRICS_PORT, targetPort: METRICS_PORT, protocol: 'TCP' },
      ],
    });
  });
});

describe('autoscaling and replicas', () => {
  it('When autoscaling is on, Then the HPA owns the replicas and the Deployment sets none', () => {
    const objects = renderRecommender(recommender({ replicas: { min: 3, max: 12 } }));
    expect(find(objects, 'Deployment').spec.replicas).toBeUndefined();
    expect(find(objects, 'HorizontalPodAutoscaler').spec).toMatchObject({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'storefront' },
      minReplicas: 3,
      maxReplicas: 12,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
      behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
    });
  });

  it('When a requests-per-second target is set, Then the HPA also scales on that pods metric', () => {
    const hpa = find(renderRecommender(recommender({ autoscaling: { targetRequestsPerSecondPerPod: 250, scaleDownStabilizationSeconds: 60 } })), 'HorizontalPodAutoscaler');
    expect(hpa.spec.metrics[1]).toEqual({ type: 'Pods', pods: { metric: { name: 'tandem_http_requests_per_second' }, target: { type: 'AverageValue', averageValue: 250 } } });
    expect(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds).toBe(60);
  });

  it('When autoscaling is off, Then there is no HPA and the Deployment runs replicas.min', () => {
    const objects = renderRecommender(recommender({ autoscaling: { enabled: false }, replicas: { min: 4, max: 4 } }));
    expect(objects.map((o) => o.kind)).not.toContain('HorizontalPodAutoscaler');
    expect(find(objects, 'Deployment').spec.replicas).toBe(4);
  });
});

describe('the Redis cache tier', () => {
  const objects = renderRecommender(recommender({ cache: { memory: '1Gi', image: 'registry.example/redis:7', passwordSecretRef: { name: 'redis-auth', key: 'pw' } } }));
  const sts = find(objects, 'StatefulSet');
  const pod = sts.spec.template.spec;
  const [container] = pod.containers;

  it('runs the configured image with maxmemory below its memory limit and allkeys-lru', () => {
    expect(container.image).toBe('registry.example/redis:7');
    expect(container.resources).toEqual({ requests: { cpu: '50m', memory: '1Gi', 'ephemeral-storage': '64Mi' }, limits: { memory: '1Gi', 'ephemeral-storage': '128Mi' } });
    const script = container.command[2] as string;
    expect(script).toContain(`--maxmemory ${redisMaxMemoryBytes('1Gi')} --maxmemory-policy allkeys-lru`);
    expect(redisMaxMemoryBytes('1Gi')).toBe(Math.floor(2 ** 30 * 0.8));
    expect(redisMaxMemoryBytes('500M')).toBe(400_000_000);
  });

  it('reads the password from the Secret as a mounted file, never from the environment, argv or the manifest', () => {
    expect(pod.volumes).toContainEqual({ name: 'password', secret: { secretName: 'redis-auth', items: [{ key: 'pw', path: 'password' }] } });
    expect(container.volumeMounts).toContainEqual({ mountPath: '/run/secrets/redis', name: 'password', readOnly: true });
    expect(container.env).toEqual([{ name: 'REDIS_PASSWORD_FILE', value: '/run/secrets/redis/password' }]);
    expect(container.readinessProbe.exec.command[2]).toBe('REDISCLI_AUTH="$(cat "$REDIS_PASSWORD_FILE")" redis-cli -p 6379 ping | grep -q PONG');
    // Run the start script with a stand-in redis-server that reports its argv and its stdin config.
    const dir = mkdtempSync(join(tmpdir(), 'tandem-redis-'));
    try {
      writeFileSync(join(dir, 'redis-server'), '#!/bin/sh\nprintf "ARGV %s\\n" "$*"\ncat\n', { mode: 0o755 });
      const password = 'p@ss "quoted" \\ back';
      writeFileSync(join(dir, 'password'), password);
      const run = spawnSync('sh', ['-c', container.command[2]], { encoding: 'utf8', env: { PATH: `${dir}:${process.env.PATH}`, REDIS_PASSWORD_FILE: join(dir, 'password') } });
      expect(run.status).toBe(0);
      const [argv, ...config] = run.stdout.trimEnd().split('\n');
      expect(argv).toBe(`ARGV --port 6379 --maxmemory ${redisMaxMemoryBytes('1Gi')} --maxmemory-policy allkeys-lru --save  --appendonly no --dir /data -`);
      // Redis's config parser reads a double-quoted value with \" and \\ escapes.
      expect(config).toEqual(['requirepass "p@ss \\"quoted\\" \\\\ back"']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('When no password is set, Then Redis runs without protected mode, guarded by its NetworkPolicy', () => {
    const script = find(renderRecommender(recommender()), 'StatefulSet').spec.template.spec.containers[0].command[2];
    expect(script).toContain('--protected-mode no');
    expect(script).not.toContain('requirepass');
  });

  it('runs as a high non-root uid with a read-only root filesystem and a writable /data', () => {
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10999, runAsGroup: 10999, fsGroup: 10999 });
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: 10999, capabilities: { drop: ['ALL'] } });
    expect(container.volumeMounts[0]).toEqual({ mountPath: '/data', name: 'data' });
  });

  it('defaults to a Redis patch version pinned by digest', () => {
    expect(find(renderRecommender(recommender()), 'StatefulSet').spec.template.spec.containers[0].image).toMatch(/^redis:7\.4\.\d+-alpine@sha256:[0-9a-f]{64}$/);
  });

  it('has a headless Service and a PDB that select the Redis pod', () => {
    const selector = { [LABEL_COMPONENT]: 'cache', [LABEL_INSTANCE]: 'storefront', [LABEL_NAME]: 'tandem' };
    expect(sts.spec.selector).toEqual({ matchLabels: selector });
    expect(sts.spec.serviceName).toBe('storefront-redis');
    expect(find(objects, 'Service', 'storefront-redis').spec).toMatchObject({ clusterIP: 'None', selector, ports: [{ name: 'redis', port: REDIS_PORT }] });
    expect(find(objects, 'PodDisruptionBudget', 'storefront-redis').spec.selector).toEqual({ matchLabels: selector });
  });

  it('When the cache is disabled, Then no Redis object is rendered and no pod is pointed at it', () => {
    const off = renderRecommender(recommender({ cache: { enabled: false } }));
    expect(kinds(off).filter((k) => k.includes('redis') || k.includes('cache'))).toEqual([]);
    const env = find(off, 'Deployment').spec.template.spec.containers[0].env as { name: string }[];
    expect(env.map((e) => e.name)).not.toContain('REDIS_URL');
  });
});

describe('the retraining CronJob', () => {
  const objects = renderRecommender(recommender({ training: { schedule: '15 2 * * 1', suspend: true } }));
  const cron = find(objects, 'CronJob');
  const pod = cron.spec.jobTemplate.spec.template.spec;
  const [container] = pod.containers;

  it('runs the same image with the train command, writing a new model version to the model volume', () => {
    expect(container.image).toBe(find(objects, 'Deployment').spec.template.spec.containers[0].image);
    expect([...container.command, ...container.args]).toEqual([
      'node', 'build/recommender/src/main.js', 'train', '--catalog', '/models/data/catalog.jsonl', '--events', '/models/data/events.jsonl', '--out', '/models/versions',
      '--config', '/etc/tandem/config.yaml', '--prune-events',
    ]);
    expect(container.volumeMounts).toContainEqual({ mountPath: '/models', name: 'models' });
    expect(pod.volumes).toContainEqual({ name: 'models', persistentVolumeClaim: { claimName: 'storefront-models', readOnly: false } });
  });

  it('pseudonymises with the scoring pods\' HMAC key (a file, never env) and sees their erasures on the state volume', () => {
    const env = Object.fromEntries((container.env as { name: string; value?: string }[]).map((e) => [e.name, e.value]));
    expect(env).toMatchObject({ TANDEM_HMAC_KEY_FILE: '/var/run/secrets/tandem/hmac-key', TANDEM_STATE_DIR: '/state', TANDEM_AUDIT_DIR: '/state/audit' });
    expect(env).not.toHaveProperty('TANDEM_HMAC_KEY');
    expect(container.volumeMounts).toContainEqual({ mountPath: '/state', name: 'state' });
    expect(container.volumeMounts).toContainEqual({ mountPath: '/var/run/secrets/tandem', name: 'secrets', readOnly: true });
    const secrets = pod.volumes.find((v: { name: string }) => v.name === 'secrets');
    expect(secrets.projected.sources).toEqual([{ secret: { name: 'storefront-auth', items: [{ key: 'hmac-key', path: 'hmac-key' }], optional: false } }]);
  });

  it('forbids concurrent runs, honours suspend, and keeps the schedule in UTC', () => {
    expect(cron.spec).toMatchObject({ schedule: '15 2 * * 1', suspend: true, concurrencyPolicy: 'Forbid', timeZone: 'Etc/UTC' });
    expect(find(renderRecommender(recommender()), 'CronJob').spec.suspend).toBe(false);
  });

  it('accepts cron macros as the API server does', () => {
    expect(find(renderRecommender(recommender({ training: { schedule: '@daily' } })), 'CronJob').spec.schedule).toBe('0 0 * * *');
  });

  it('runs restricted, never restarts in place, and labels its Jobs and pods as the trainer', () => {
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBe('storefront-trainer');
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, runAsNonRoot: true, allowPrivilegeEscalation: false });
    expect(cron.spec.jobTemplate.metadata.labels[LABEL_COMPONENT]).toBe('trainer');
    expect(cron.spec.jobTemplate.spec.template.metadata.labels[LABEL_COMPONENT]).toBe('trainer');
  });
});

describe('the trainer\'s resources', () => {
  const container = (spec: Parameters<typeof recommender>[0] = {}) => podSpec(renderRecommender(recommender(spec)), 'CronJob').containers[0];
  const scratch = (spec: Parameters<typeof recommender>[0] = {}) => podSpec(renderRecommender(recommender(spec)), 'CronJob').volumes.find((v: { name: string }) => v.name === 'tmp');

  it('are its own block, not the scoring pods\' (default 500m / 1Gi, limit 2Gi, 2Gi of scratch)', () => {
    expect(container({ resources: { requests: { cpu: '4' } } }).resources).toEqual({
      requests: { cpu: '500m', memory: '1Gi', 'ephemeral-storage': '2Gi' },
      limits: { memory: '2Gi', 'ephemeral-storage': '2112Mi' },
    });
  });

  it('request exactly the ephemeral storage of the scratch emptyDir, and limit it to that plus room for logs', () => {
    for (const spec of [{}, { training: { resources: { requests: { 'ephemeral-storage': '20Gi' } } } }]) {
      const c = container(spec);
      const size = quantityValue(scratch(spec).emptyDir.sizeLimit);
      expect(quantityValue(c.resources.requests['ephemeral-storage'])).toBe(size);
      expect(quantityValue(c.resources.limits['ephemeral-storage'])).toBe(size + LOG_STORAGE_BYTES);
    }
  });

  it('When the spec leaves out ephemeral storage, Then the scratch volume keeps its 2Gi and the request is added', () => {
    const spec = { training: { resources: { requests: { cpu: 2, memory: '4Gi' }, limits: { memory: '4Gi' } } } };
    expect(container(spec).resources).toEqual({ requests: { cpu: '2', memory: '4Gi', 'ephemeral-storage': '2048Mi' }, limits: { memory: '4Gi', 'ephemeral-storage': '2112Mi' } });
    expect(scratch(spec).emptyDir.sizeLimit).toBe('2048Mi');
  });

  it('refuse an ephemeral-storage limit below the request, naming both fields', () => {
    expect(() => renderRecommender(recommender({ training: { resources: { requests: { 'ephemeral-storage': '4Gi' }, limits: { 'ephemeral-storage': '1Gi' } } } }))).toThrow(
      'spec.training.resources.limits.ephemeral-storage: Invalid value: "1Gi": must be greater than or equal to spec.training.resources.requests.ephemeral-storage ("4Gi")',
    );
  });
});

describe('the model volume', () => {
  it('is a ReadWriteMany PVC of the spec size and class', () => {
    const pvc = find(renderRecommender(recommender({ model: { storage: { size: '20Gi', storageClassName: 'nfs' } } })), 'PersistentVolumeClaim', 'storefront-models');
    expect(pvc.spec).toEqual({ accessModes: ['ReadWriteMany'], resources: { requests: { storage: '20Gi' } }, storageClassName: 'nfs' });
  });

  it('When an existing claim is given, Then no PVC is rendered and the pods mount that claim', () => {
    const objects = renderRecommender(recommender({ model: { storage: { existingClaim: 'shared-models' } } }));
    expect(kinds(objects)).not.toContain('PersistentVolumeClaim/storefront-models');
    expect(podSpec(objects, 'Deployment').volumes).toContainEqual({ name: 'models', persistentVolumeClaim: { claimName: 'shared-models', readOnly: true } });
    expect(podSpec(objects, 'CronJob').volumes).toContainEqual({ name: 'models', persistentVolumeClaim: { claimName: 'shared-models', readOnly: false } });
  });
});

describe('models in S3-compatible object storage', () => {
  const s3 = { bucket: 'shop-models', prefix: 'storefront/', endpoint: 'http://seaweedfs.storage:8333', forcePathStyle: true, credentialsSecretRef: { name: 'model-store' }, egress: { cidrs: ['10.20.0.0/16'], ports: [8333] } };
  const objects = renderRecommender(recommender({ model: { storage: { type: 's3', size: '2Gi', s3 } } }));
  const scoring = podSpec(objects, 'Deployment');
  const trainer = podSpec(objects, 'CronJob');
  const env = (c: { env: { name: string; value?: string }[] }) => Object.fromEntries(c.env.filter((e) => e.name.startsWith('TANDEM_MODEL_S3_')).map((e) => [e.name, e.value]));

  it('renders no model PersistentVolumeClaim: the models need no ReadWriteMany (the state volume is its own, see docs/privacy.md)', () => {
    expect(objects.filter((o) => o.kind === 'PersistentVolumeClaim').map((o) => o.metadata?.name)).toEqual(['storefront-state']);
    for (const pod of [scoring, trainer]) {
      const claims = pod.volumes.filter((v: { persistentVolumeClaim?: unknown }) => v.persistentVolumeClaim).map((v: { name: string }) => v.name);
      expect(claims).toEqual(['state']);
    }
  });

  it('points scoring and the trainer at the bucket, with the credentials Secret mounted as files', () => {
    const expected = {
      TANDEM_MODEL_S3_BUCKET: 'shop-models',
      TANDEM_MODEL_S3_PREFIX: 'storefront/',
      TANDEM_MODEL_S3_ENDPOINT: 'http://seaweedfs.storage:8333',
      TANDEM_MODEL_S3_REGION: 'us-east-1',
      TANDEM_MODEL_S3_FORCE_PATH_STYLE: 'true',
      TANDEM_MODEL_S3_CREDENTIALS_DIR: '/run/secrets/tandem-s3',
    };
    for (const pod of [scoring, trainer]) {
      expect(env(pod.containers[0])).toEqual(expected);
      expect(pod.volumes).toContainEqual({
        name: 'model-store-credentials',
        secret: { secretName: 'model-store', items: [{ key: 'AWS_ACCESS_KEY_ID', path: 'access-key-id' }, { key: 'AWS_SECRET_ACCESS_KEY', path: 'secret-access-key' }] },
      });
      expect(pod.containers[0].volumeMounts).toContainEqual({ mountPath: '/run/secrets/tandem-s3', name: 'model-store-credentials', readOnly: true });
      expect(JSON.stringify(pod.containers[0].env)).not.toContain('secretKeyRef":{"name":"model-store');
    }
  });

  it('gives each scoring pod a local model cache of the storage size, counted in its ephemeral-storage request', () => {
    expect(scoring.volumes).toContainEqual({ name: 'models', emptyDir: { sizeLimit: '2048Mi' } });
    expect(scoring.containers[0].volumeMounts).toContainEqual({ mountPath: '/models', name: 'models' });
    expect(quantityValue(scoring.containers[0].resources.requests['ephemeral-storage'])).toBe(2 * 2 ** 30 + 256 * 2 ** 20);
  });

  it('keeps the trainer\'s data and new versions in its scratch volume, whose size is its whole ephemeral-storage request', () => {
    expect(trainer.containers[0].volumeMounts).toEqual(
      expect.arrayContaining([
        { mountPath: '/models', name: 'tmp', subPath: 'models' },
        { mountPath: '/tmp', name: 'tmp', subPath: 'tmp' },
      ]),
    );
    expect(trainer.volumes.filter((v: { emptyDir?: unknown }) => v.emptyDir)).toEqual([{ name: 'tmp', emptyDir: { sizeLimit: '2048Mi' } }]);
  });

  it('sets exactly the variables the recommender reads for the object store', () => {
    const rendered = Object.keys(env(scoring.containers[0])).sort();
    expect(rendered).toEqual(Object.values(S3_ENV).sort());
  });

  it('runs the same commands as with a volume: the recommender finds the bucket in its environment', () => {
    const pvc = renderRecommender(recommender());
    expect(scoring.containers[0].args).toEqual(podSpec(pvc, 'Deployment').containers[0].args);
    expect(trainer.containers[0].args).toEqual(podSpec(pvc, 'CronJob').containers[0].args);
  });

  it('When no credentials Secret is given, Then the SDK\'s default chain is left to find them', () => {
    const rendered = renderRecommender(recommender({ model: { storage: { type: 's3', s3: { bucket: 'shop-models', egress: { cidrs: ['0.0.0.0/0'] } } } } }));
    const c = podSpec(rendered, 'Deployment').containers[0];
    expect(Object.keys(env(c))).toEqual(['TANDEM_MODEL_S3_BUCKET', 'TANDEM_MODEL_S3_PREFIX', 'TANDEM_MODEL_S3_REGION', 'TANDEM_MODEL_S3_FORCE_PATH_STYLE']);
    expect(c.volumeMounts.map((m: { name: string }) => m.name)).not.toContain('model-store-credentials');
  });
});

describe('the state volume', () => {
  it('is a ReadWriteMany PVC of the spec size and class, mounted read-write by the scoring pods and the trainer', () => {
    const objects = renderRecommender(recommender({ state: { storage: { size: '5Gi', storageClassName: 'nfs' } } }));
    const pvc = find(objects, 'PersistentVolumeClaim', 'storefront-state');
    expect(pvc.spec).toEqual({ accessModes: ['ReadWriteMany'], resources: { requests: { storage: '5Gi' } }, storageClassName: 'nfs' });
    expect(pvc.metadata?.labels?.[LABEL_COMPONENT]).toBe('state');
    for (const kind of ['Deployment', 'CronJob']) {
      expect(podSpec(objects, kind).volumes).toContainEqual({ name: 'state', persistentVolumeClaim: { claimName: 'storefront-state', readOnly: false } });
    }
  });

  it('When an existing claim is given, Then no state PVC is rendered and the pods mount that claim', () => {
    const objects = renderRecommender(recommender({ state: { storage: { existingClaim: 'shop-state' } } }));
    expect(kinds(objects)).not.toContain('PersistentVolumeClaim/storefront-state');
    expect(podSpec(objects, 'Deployment').volumes).toContainEqual({ name: 'state', persistentVolumeClaim: { claimName: 'shop-state', readOnly: false } });
  });
});

describe('the experiments file', () => {
  it('When variants are set, Then the ConfigMap holds one named experiment with their weights, model versions and engine parameters', () => {
    const objects = renderRecommender(
      recommender({
        experiments: { name: 'ranking', variants: [{ name: 'control', weight: 70 }, { name: 'sharp', weight: 30, engine: { shrinkage: 1 } }] },
      }),
    );
    const file: unknown = JSON.parse(String(find(objects, 'ConfigMap', 'storefront-config').data?.['experiments.json']));
    expect(file).toEqual({
      experiments: [{ name: 'ranking', variants: [{ name: 'control', weight: 70 }, { name: 'sharp', weight: 30, engine: { shrinkage: 1 } }] }],
    });
    expect(parseExperiments(file)[0]!.variants[1]!.engine).toEqual({ shrinkage: 1 });
  });
});

describe('the contract with the recommender image', () => {
  const objects = renderRecommender(recommender({ scoring: { upSellPriceBand: { min: 1.1, max: 2 }, maxItemsPerCategory: 4 } }));

  it('serves the newest model of the model volume with the mounted config, never the built-in demo shop', () => {
    const [container] = find(objects, 'Deployment').spec.template.spec.containers;
    expect([...container.command, ...container.args]).toEqual([
      'node', 'build/recommender/src/main.js', 'serve', '--model-dir', '/models/versions', '--config', '/etc/tandem/config.yaml', '--watch-seconds', '30',
    ]);
  });

  it('writes a config file the recommender accepts, carrying the business rules of the spec', () => {
    const cfg = parseConfig(parse(find(objects, 'ConfigMap').data?.['config.yaml'] ?? ''));
    expect(cfg.engine.upsellBand).toEqual({ min: 1.1, max: 2 });
    expect(cfg.rules.maxPerCategory).toBe(4);
  });
});
