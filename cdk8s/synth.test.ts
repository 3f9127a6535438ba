import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { renderRecommenderFile, runSynth } from './synth.js';
import { promtoolDir } from './test/promtool.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'tandem-synth-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tools = promtoolDir();
afterAll(() => tools.cleanup());

/** A copy of the repository's examples in a fresh working directory. */
function workdir(): string {
  const d = tempDir();
  cpSync(join(repo, 'examples'), join(d, 'examples'), { recursive: true });
  return d;
}

const readTree = (dir: string): Record<string, string> => {
  const out: Record<string, string> = {};
  const walk = (d: string, prefix: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.isDirectory()) walk(join(d, e.name), `${prefix}${e.name}/`);
      else out[`${prefix}${e.name}`] = readFileSync(join(d, e.name), 'utf8');
    }
  };
  walk(dir, '');
  return out;
};

const RECOMMENDER = `apiVersion: tandem.dev/v1alpha1
kind: Recommender
metadata:
  name: books
  namespace: shop
spec:
  network:
    allowedCallers:
      - namespaceSelector:
          matchLabels:
            kubernetes.io/metadata.name: storefront
`;

describe('npm run synth', () => {
  it('When namespaces are watched, Then install.yaml is the namespaced bundle: a Role in each, no ClusterRole, the API server pinned as given', () => {
    const cwd = workdir();
    const args = ['--watch-namespace', 'shop', '--watch-namespace', 'outlet', '--api-server-cidr', '192.0.2.10/32', '--api-server-port', '6443', '-o', 'namespaced'];
    expect(runSynth(args, cwd, () => {})).toBe(0);
    const docs = parseAllDocuments(readFileSync(join(cwd, 'namespaced', 'install.yaml'), 'utf8')).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string }; spec?: { egress?: unknown[] } });
    expect(docs.filter((d) => d.kind.startsWith('Cluster'))).toEqual([]);
    expect(docs.filter((d) => d.kind === 'Role').map((d) => `${d.metadata.namespace}/${d.metadata.name}`)).toEqual(['outlet/tandem-operator', 'shop/tandem-operator', 'tandem-system/tandem-operator-leader-election']);
    expect(docs.find((d) => d.kind === 'NetworkPolicy')?.spec?.egress?.[0]).toEqual({ to: [{ ipBlock: { cidr: '192.0.2.10/32' } }], ports: [{ protocol: 'TCP', port: 6443 }] });
    expect(readdirSync(join(cwd, 'namespaced', 'examples')).length).toBeGreaterThan(0);
  });

  it.each([
    [['--watch-namespace', 'Shop'], '--watch-namespace: Invalid value: "Shop"'],
    [['--api-server-cidr', '10.0.0.1'], '--api-server-cidr: Invalid value: "10.0.0.1"'],
    [['--api-server-port', '0'], '--api-server-port: Invalid value: "0"'],
    [['--watch-namespace', 'shop', '-f', 'examples/recommender.yaml'], 'which -f does not write'],
  ])('When the install bundle options are %j, Then synth exits 2 and says why', (args, says) => {
    const errors: string[] = [];
    expect(runSynth(args, workdir(), (l) => errors.push(l))).toBe(2);
    expect(errors.join('\n')).toContain(says);
  });

  it('writes dist/install.yaml and one dist/examples/<file>.yaml per example', () => {
    const cwd = workdir();
    const errors: string[] = [];
    expect(runSynth([], cwd, (l) => errors.push(l))).toBe(0);
    expect(errors).toEqual([]);
    const examples = readdirSync(join(cwd, 'examples')).filter((f) => f.endsWith('.yaml')).sort();
    expect(examples.length).toBeGreaterThan(0);
    // One rule file per example Recommender (`<namespace>-<name>`) and the operator's.
    const ruleFiles = [
      ...examples.map((e) => {
        const { metadata } = parse(readFileSync(join(cwd, 'examples', e), 'utf8')) as { metadata: { name: string; namespace: string } };
        return `${metadata.namespace}-${metadata.name}`;
      }),
      'tandem-operator',
    ];
    expect(Object.keys(readTree(join(cwd, 'dist')))).toEqual(
      [...examples.map((e) => `examples/${e}`), 'install.yaml', 'operator-monitoring.yaml', ...ruleFiles.map((r) => `rules/${r}.rules.yaml`)].sort(),
    );
    for (const rules of ruleFiles) {
      const run = tools.checkRules(`${rules}.yaml`, parse(readFileSync(join(cwd, 'dist', 'rules', `${rules}.rules.yaml`), 'utf8')) as object);
      expect(run.output, rules).toContain('SUCCESS');
    }
    const docs = parseAllDocuments(readFileSync(join(cwd, 'dist', 'install.yaml'), 'utf8')).map((d) => d.toJS() as { kind: string });
    expect(docs[0]?.kind).toBe('Namespace');
    expect(docs.map((d) => d.kind)).toContain('CustomResourceDefinition');
  });

  it('writes byte-identical files when run twice', () => {
    const [a, b] = [workdir(), workdir()];
    expect(runSynth([], a, () => {})).toBe(0);
    expect(runSynth([], b, () => {})).toBe(0);
    expect(runSynth([], b, () => {})).toBe(0);
    expect(readTree(join(b, 'dist'))).toEqual(readTree(join(a, 'dist')));
  });

  it('renders any Recommender file given with -f into the -o directory', () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'books.yml'), RECOMMENDER);
    expect(runSynth(['-f', 'books.yml', '-o', 'out'], cwd, () => {})).toBe(0);
    const docs = parseAllDocuments(readFileSync(join(cwd, 'out', 'books.yaml'), 'utf8')).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace: string } });
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toContain('Deployment/books');
    expect(new Set(docs.map((d) => d.metadata.namespace))).toEqual(new Set(['shop']));
    expect(readFileSync(join(cwd, 'out', 'books.yaml'), 'utf8')).not.toMatch(/creationTimestamp|ownerReferences/);
  });

  it('When the file has no namespace, Then --namespace supplies it, and without it the error says so', () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'books.yaml'), RECOMMENDER.replace('  namespace: shop\n', ''));
    const errors: string[] = [];
    expect(runSynth(['-f', 'books.yaml', '-o', 'out'], cwd, (l) => errors.push(l))).toBe(1);
    expect(errors.join('\n')).toContain('metadata.namespace: Required value');
    expect(runSynth(['-f', 'books.yaml', '-o', 'out', '-n', 'apps'], cwd, () => {})).toBe(0);
  });

  it('When the Recommender is invalid, Then it exits 1 with the errors the API server would give', () => {
    const cwd = tempDir();
    mkdirSync(join(cwd, 'in'));
    writeFileSync(
      join(cwd, 'in', 'bad.yaml'),
      RECOMMENDER.replace('spec:\n', 'spec:\n  replicas:\n    min: 5\n    max: 3\n  autoscaling:\n    targetCPUUtilizationPercentage: 5\n  colour: blue\n'),
    );
    const errors: string[] = [];
    expect(runSynth(['-f', 'in/bad.yaml'], cwd, (l) => errors.push(l))).toBe(1);
    const text = errors.join('\n');
    expect(text).toContain('The Recommender "books" is invalid:');
    expect(text).toContain('spec.colour: unknown field "colour"');
    expect(text).toContain('spec.autoscaling.targetCPUUtilizationPercentage: Invalid value: 5');
    expect(readdirSync(cwd)).toEqual(['in']);
  });

  it('When a rule of the CRD is broken, Then the CEL message is reported', () => {
    expect(() => renderRecommenderFile(RECOMMENDER.replace('spec:\n', 'spec:\n  replicas:\n    min: 5\n    max: 3\n'), 'x.yaml')).toThrow(
      'spec.replicas.min: Invalid value: "object": replicas.min must be less than or equal to replicas.max',
    );
  });

  it('When an allowed caller could match a protected namespace, Then synth refuses it and names the field', () => {
    const text = RECOMMENDER.replace('kubernetes.io/metadata.name: storefront', 'tandem.dev/zone: payments');
    expect(() => renderRecommenderFile(text, 'x.yaml')).toThrow(/spec\.network\.allowedCallers\[0\]\.namespaceSelector\.matchLabels\["tandem\.dev\/zone"\].*could match a protected namespace/);
  });

  it('When the YAML is malformed or empty, Then it says so', () => {
    expect(() => renderRecommenderFile('a: [\n', 'x.yaml')).toThrow(/YAML/);
    expect(() => renderRecommenderFile('', 'x.yaml')).toThrow('no Recommender found');
  });

  it('renders every document of a multi-document file, and reports each bad one by number', () => {
    const two = `${RECOMMENDER}---\n${RECOMMENDER.replace('name: books', 'name: toys')}`;
    const names = renderRecommenderFile(two, 'x.yaml').filter((o) => o.kind === 'Deployment').map((o) => o.metadata?.name);
    expect(names).toEqual(['books', 'toys']);
    expect(() => renderRecommenderFile(`${RECOMMENDER}---\n${RECOMMENDER.replace('spec:\n', 'spec:\n  x: 1\n')}`, 'x.yaml')).toThrow(/document 2: The Recommender "books" is invalid/);
  });
});
