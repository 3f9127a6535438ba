import { readFileSync } from 'node:fs';
import { ApiextensionsV1Api, ApiException, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createTestNamespace, deleteNamespace, testKubeConfig } from '../../../test/kube.js';
import { CRD_NAME } from './crd.js';
import { INVALID_SPECS } from './invalid-specs.js';
import { GROUP, PLURAL, VERSION, type Recommender } from './recommender.js';
import { validateRecommender } from './validate.js';

const kc = testKubeConfig();
const objects = kc.makeApiClient(CustomObjectsApi);
let namespace: string;

const ref = (name: string) => ({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name });
const create = (name: string, spec: unknown) =>
  objects.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: PLURAL,
    fieldValidation: 'Strict',
    body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'Recommender', metadata: { name }, spec },
  }) as Promise<Recommender>;

const rejection = async (promise: Promise<unknown>): Promise<string> => {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ApiException) return `${err.code} ${(JSON.parse(err.body as string) as { message: string }).message}`;
    throw err;
  }
  throw new Error('expected the API server to reject the object');
};

beforeAll(async () => {
  namespace = await createTestNamespace(kc, 'crd');
});
afterAll(async () => {
  await deleteNamespace(kc, namespace);
});

describe('The Recommender CRD on a real kube-apiserver', () => {
  it('Given the CRD is installed, Then it is Established with the short name, status subresource and printer columns', async () => {
    const crd = await kc.makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name: CRD_NAME });
    expect(crd.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');
    expect(crd.spec.names.shortNames).toEqual(['rec']);
    const version = crd.spec.versions[0]!;
    expect(version.subresources?.status).toEqual({});
    expect(version.additionalPrinterColumns?.map((c) => c.name)).toEqual(['Ready', 'Replicas', 'Model', 'Age', 'Reason']);
  });

  it('Given the documented example, Then the API server accepts it as written', async () => {
    const example = parse(readFileSync('examples/recommender.yaml', 'utf8')) as Recommender;
    const created = await create('example', example.spec);
    expect(created.spec.experiments.variants).toHaveLength(2);
    expect(created.spec.network.allowedCallers[0]?.podSelector?.matchLabels).toEqual({ app: 'storefront-backend' });
  });

  it('Given an empty spec, Then the server fills in exactly the defaults the offline validator fills in', async () => {
    const created = await create('defaults', {});
    expect(created.spec.replicas).toEqual({ min: 2, max: 10 });
    expect(created.spec.network.protectedNamespaces).toEqual({ matchLabels: { 'tandem.dev/zone': 'payments' } });
    const offline = validateRecommender({ apiVersion: `${GROUP}/${VERSION}`, kind: 'Recommender', metadata: { name: 'defaults' }, spec: {} });
    expect(offline.ok && offline.value.spec).toEqual(created.spec);
  });

  it('Given a partly written object, Then only the absent fields are defaulted', async () => {
    const created = await create('partial', { resources: { requests: { cpu: 1 } }, cache: { enabled: false } });
    expect(created.spec.resources).toEqual({ requests: { cpu: 1 } });
    expect(created.spec.cache).toMatchObject({ enabled: false, ttlSeconds: 300 });
  });

  it.each(INVALID_SPECS)('$name, Then the API server rejects it naming $field', async ({ spec, field, says, objectName }) => {
    const message = await rejection(create(objectName ?? 'invalid', spec));
    expect(message).toMatch(/^4\d\d /);
    expect(message).toContain(field);
    expect(message).toContain(says);
  });

  it('Given a status written through the status subresource, Then it is stored and the generation does not move', async () => {
    const created = await create('status', {});
    await objects.patchNamespacedCustomObjectStatus(
      { ...ref('status'), body: { status: { observedGeneration: 1, modelVersion: 'v1', conditions: [{ type: 'Ready', status: 'False', reason: 'Progressing', message: 'starting', lastTransitionTime: '2026-11-25T00:00:00Z' }] } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const read = (await objects.getNamespacedCustomObject(ref('status'))) as Recommender;
    expect(read.status?.modelVersion).toBe('v1');
    expect(read.status?.conditions?.[0]?.reason).toBe('Progressing');
    expect(read.metadata.generation).toBe(created.metadata.generation);
  });

  it('Given a status sent with a spec update, Then the main resource ignores it', async () => {
    await create('spec-only', {});
    const updated = (await objects.patchNamespacedCustomObject(
      { ...ref('spec-only'), body: { spec: { paused: true }, status: { modelVersion: 'sneaky' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as Recommender;
    expect(updated.spec.paused).toBe(true);
    expect(updated.status?.modelVersion).toBeUndefined();
    expect(updated.metadata.generation).toBe(2);
  });

  it('Given a status condition with an invalid status value, Then the status subresource rejects it', async () => {
    await create('bad-status', {});
    const message = await rejection(
      objects.patchNamespacedCustomObjectStatus(
        { ...ref('bad-status'), body: { status: { conditions: [{ type: 'Ready', status: 'Maybe', reason: 'X', message: '', lastTransitionTime: '2026-11-25T00:00:00Z' }] } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    expect(message).toContain('status.conditions[0].status');
  });
});
