import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { sortObjects, toYaml } from './render.js';

describe('toYaml', () => {
  it('quotes strings that YAML 1.1 readers such as kubectl would take for booleans, numbers or times', () => {
    const text = toYaml([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', labels: { a: 'y', b: 'on', c: 'no', d: '0755', e: '12:30' } } }]);
    expect(text).toContain('a: "y"\n');
    expect(text).toContain('b: "on"\n');
    expect(text).toContain('c: "no"\n');
    expect(text).toContain('e: "12:30"\n');
    expect(parse(text).metadata.labels).toEqual({ a: 'y', b: 'on', c: 'no', d: '0755', e: '12:30' });
  });

  it('separates documents with --- and ends with a newline', () => {
    const text = toYaml([
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b' } },
    ]);
    expect(text).toBe('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n');
  });
});

describe('sortObjects', () => {
  it('puts what others depend on first, then sorts by kind, namespace and name', () => {
    const o = (kind: string, name: string, namespace?: string) => ({ apiVersion: 'v1', kind, metadata: { name, namespace } });
    const sorted = sortObjects([o('Deployment', 'b', 'x'), o('Zebra', 'a'), o('Deployment', 'a', 'x'), o('ServiceAccount', 'z', 'x'), o('Namespace', 'x'), o('Aardvark', 'a')]);
    expect(sorted.map((s) => `${s.kind}/${s.metadata.name}`)).toEqual(['Namespace/x', 'ServiceAccount/z', 'Deployment/a', 'Deployment/b', 'Aardvark/a', 'Zebra/a']);
  });
});
