import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { INVALID_SPECS } from './invalid-specs.js';
import { validateRecommender } from './validate.js';

const doc = (spec: unknown, name = 'shop') => ({ apiVersion: 'tandem.dev/v1alpha1', kind: 'Recommender', metadata: { name }, spec });

describe('validateRecommender (offline, as the API server would)', () => {
  it('Given the documented example, Then it is accepted unchanged apart from defaults', () => {
    const example = parse(readFileSync('examples/recommender.yaml', 'utf8'));
    const result = validateRecommender(example);
    expect(result).toMatchObject({ ok: true });
    if (result.ok) expect(result.value.spec.experiments.variants.map((v) => v.name)).toEqual(['control', 'fresh-model']);
  });

  it('Given an empty spec, Then every default is filled in', () => {
    const result = validateRecommender(doc({}));
    if (!result.ok) throw new Error(result.errors.join('\n'));
    const { spec } = result.value;
    expect(spec.replicas).toEqual({ min: 2, max: 10 });
    expect(spec.cache).toMatchObject({ enabled: true, ttlSeconds: 300, memory: '256Mi' });
    expect(spec.network.protectedNamespaces).toEqual({ matchLabels: { 'tandem.dev/zone': 'payments' } });
    expect(spec.model.version).toBe('latest');
    expect(spec.paused).toBe(false);
  });

  it.each(['latest', '20261202T005217Z-a8c6169a0263', 'v20261125T030000Z', 'champion'])('When spec.model.version is %s (a version id the trainer writes, or a name), Then it is accepted', (version) => {
    const result = validateRecommender(doc({ model: { version } }));
    expect(result.ok, result.ok ? '' : result.errors.join('\n')).toBe(true);
  });

  it.each(INVALID_SPECS)('$name, Then it is rejected naming $field', ({ spec, field, says, objectName }) => {
    const result = validateRecommender(doc(spec, objectName));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const error = result.errors.find((e) => e.startsWith(field));
    expect(error, result.errors.join('\n')).toBeDefined();
    expect(error).toContain(says);
  });

  it.each([
    ['a missing spec', { apiVersion: 'tandem.dev/v1alpha1', kind: 'Recommender', metadata: { name: 'x' } }, 'spec: Required value'],
    ['a wrong kind', { ...doc({}), kind: 'Deployment' }, 'kind: Invalid value'],
    ['an uppercase name', { ...doc({}), metadata: { name: 'Shop' } }, 'metadata.name: Invalid value'],
    ['a YAML scalar instead of an object', 'hello', 'apiVersion: Invalid value'],
  ])('Given %s, Then the error says what is wrong', (_what, input, says) => {
    const result = validateRecommender(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join('\n')).toContain(says);
  });
});
