/**
 * The platform team's review, as a test: kube-score and checkov on every rendered output, each finding either
 * fixed or listed with its reason in hack/policy-exceptions.yaml, and no line there that matches nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { covers, describeFinding, loadExceptions, parseExceptions, review, type PolicyException } from './exceptions.js';
import { checkov, kubeScore, type Finding } from './findings.js';
import { renderOutputs, type RenderedOutput } from './outputs.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const EXCEPTIONS = join(repo, 'hack', 'policy-exceptions.yaml');

describe('the policy checks on every rendered output', () => {
  let dir: string;
  let outputs: RenderedOutput[];
  let exceptions: PolicyException[];
  let scored: ReturnType<typeof kubeScore>;
  let checked: ReturnType<typeof checkov>;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tandem-policy-'));
    outputs = renderOutputs(dir, repo);
    // checkov reports paths relative to its working directory (`/../../tmp/…`).
    const name = (file: string) => outputs.find((o) => o.path === file || o.path.endsWith(file.replace(/^(\/\.\.)+/, '')))?.name ?? file;
    const files = outputs.map((o) => o.path);
    scored = kubeScore(files, name);
    checked = checkov(files, name);
    exceptions = loadExceptions(EXCEPTIONS);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('renders the bundle (cluster-wide and namespaced), every example (the Spark one with a run\'s packing Job) and the chart with default and representative values', () => {
    expect(outputs.map((o) => o.name)).toEqual([
      'install.yaml',
      'install-namespaced.yaml',
      'examples/recommender-s3.yaml',
      'examples/recommender-spark.yaml',
      'examples/recommender.yaml',
      'chart-default.yaml',
      'chart-namespaced.yaml',
    ]);
  });

  it('When both tools ran, Then they read every output and every object in it', () => {
    expect(scored.objects).toBeGreaterThanOrEqual(25);
    expect(checked.summary.parsing_errors).toBe(0);
    expect(checked.summary.resource_count).toBeGreaterThanOrEqual(60);
    expect(checked.summary.passed).toBeGreaterThanOrEqual(800);
    const seen = new Set([...scored.findings, ...checked.findings].map((f) => f.output));
    for (const o of outputs) expect(seen, `no finding at all in ${o.name}: was it read?`).toContain(o.name);
  });

  it.each(['kube-score', 'checkov'] as const)('When %s checks every output, Then each finding is fixed or excepted in hack/policy-exceptions.yaml', (tool) => {
    const findings = (tool === 'kube-score' ? scored : checked).findings;
    const { unexcused } = review(findings, exceptions, [tool]);
    expect(unexcused.map(describeFinding), 'fix these, or add a line with the reason to hack/policy-exceptions.yaml').toEqual([]);
  });

  it('Then every exception still matches a finding (a fixed finding leaves no line behind)', () => {
    const { stale } = review([...scored.findings, ...checked.findings], exceptions, ['kube-score', 'checkov']);
    expect(stale.map((e) => `hack/policy-exceptions.yaml:${e.line}: ${e.tool} ${e.check} ${e.objects.join(', ')}`), 'delete these lines').toEqual([]);
  });

  it('Then what the review asked for is fixed: no ephemeral-storage finding, and Redis has only the CPU-limit and pull-policy ones (no digest, low uid or password finding)', () => {
    const all = [...scored.findings, ...checked.findings];
    expect(all.filter((f) => /Ephemeral Storage/.test(f.detail)).map(describeFinding)).toEqual([]);
    const redis = all.filter((f) => f.object.startsWith('StatefulSet/'));
    expect(redis.length).toBeGreaterThan(0);
    expect([...new Set(redis.map((f) => f.check))].sort()).toEqual(['CKV_K8S_11', 'container-image-pull-policy', 'container-resources']);
  });
});

describe('matching findings against exceptions', () => {
  const finding = (over: Partial<Finding> = {}): Finding => ({ tool: 'kube-score', check: 'container-resources', object: 'Deployment/shop/storefront', detail: '(scoring) CPU limit is not set', output: 'examples/recommender.yaml', ...over });
  const [cpu] = parseExceptions('- {tool: kube-score, check: container-resources, object: "Deployment/*", detail: CPU limit, reason: requests only}\n');

  it.each<[string, Finding, boolean]>([
    ['the same check on a matching object with the words', finding(), true],
    ['another object of the pattern', finding({ object: 'Deployment/tandem-system/tandem-operator' }), true],
    ['an object outside the pattern', finding({ object: 'StatefulSet/shop/storefront-redis' }), false],
    ['other words of the same check', finding({ detail: '(scoring) Memory limit is not set' }), false],
    ['the same check id from the other tool', finding({ tool: 'checkov' }), false],
  ])('When a finding is %s, Then covered is %s', (_name, f, expected) => {
    expect(covers(cpu!, f)).toBe(expected);
  });

  it('When a finding is not in the file, Then it is reported; when a line matches nothing, Then it is reported too', () => {
    const stale = parseExceptions('- {tool: checkov, check: CKV_K8S_99, object: "*", reason: gone}\n');
    const result = review([finding({ detail: '(scoring) Memory limit is not set' })], [cpu!, ...stale], ['kube-score', 'checkov']);
    expect(result.unexcused).toHaveLength(1);
    expect(result.stale.map((e) => e.check)).toEqual(['container-resources', 'CKV_K8S_99']);
  });

  it.each([
    ['an entry written over several lines', '- tool: checkov\n  check: CKV_K8S_11\n  object: "*"\n  reason: r\n', 'write each as one line'],
    ['an entry without a reason', '- {tool: checkov, check: CKV_K8S_11, object: "*"}\n', ':1: "reason" must be a non-empty string'],
    ['an unknown tool', '- {tool: kubesec, check: x, object: "*", reason: r}\n', '"tool" must be kube-score or checkov'],
    ['an unknown field', '- {tool: checkov, check: x, objects: "*", reason: r}\n', 'unknown field "objects"'],
  ])('When the file has %s, Then loading it fails with the line', (_name, text, says) => {
    expect(() => parseExceptions(text)).toThrow(says);
  });
});
