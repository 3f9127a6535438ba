import { describe, expect, it } from 'vitest';
import { matchesDesired, quantity } from './compare.js';

const desired = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'x', labels: { a: '1' } },
  spec: { template: { spec: { containers: [{ name: 'c', image: 'img:1', resources: { requests: { cpu: '1000m', memory: '512Mi' } } }], volumes: [{ name: 'tmp', emptyDir: {} }] } } },
};

const live = structuredClone({
  ...desired,
  metadata: { ...desired.metadata, uid: 'u', resourceVersion: '5', labels: { a: '1', extra: 'x' } },
  spec: {
    ...desired.spec,
    replicas: 3,
    template: { spec: { ...desired.spec.template.spec, containers: [{ ...desired.spec.template.spec.containers[0]!, imagePullPolicy: 'IfNotPresent', resources: { requests: { cpu: '1', memory: '512Mi' } } }], volumes: [{ name: 'tmp', emptyDir: {} }] } },
  },
  status: { replicas: 3 },
});

describe('matchesDesired', () => {
  it('When the live object only adds defaults, status and canonical quantities, Then it matches', () => {
    expect(matchesDesired(desired, live)).toBe(true);
  });

  it.each([
    ['the image was edited by hand', (o: typeof live) => (o.spec.template.spec.containers[0]!.image = 'img:evil')],
    ['a label we set was removed', (o: typeof live) => delete (o.metadata.labels as Record<string, string>).a],
    ['a container was added', (o: typeof live) => o.spec.template.spec.containers.push({ ...o.spec.template.spec.containers[0]!, name: 'sidecar' })],
    ['a memory request changed', (o: typeof live) => (o.spec.template.spec.containers[0]!.resources.requests.memory = '1Gi')],
  ])('When %s, Then it does not match', (_what, mutate) => {
    const drifted = structuredClone(live);
    mutate(drifted);
    expect(matchesDesired(desired, drifted)).toBe(false);
  });

  it('When we want an empty rule list and someone added an allow rule, Then it does not match', () => {
    expect(matchesDesired({ spec: { ingress: [] } }, { spec: { ingress: [{ from: [{ podSelector: {} }] }] } })).toBe(false);
    expect(matchesDesired({ spec: { ingress: [] } }, { spec: {} })).toBe(true);
  });

  it.each([
    ['1000m', 1],
    ['0.5', 0.5],
    ['500m', 0.5],
    ['1Gi', 2 ** 30],
    ['1e3', 1000],
    [2, 2],
    ['abc', undefined],
  ])('quantity(%s) is %s', (input, expected) => {
    expect(quantity(input)).toBe(expected);
  });
});
