/**
 * Runs the two policy checkers a platform team runs on rendered manifests — kube-score (Go-built, v1.20.0)
 * and checkov (PyPI, 3.3.30, in its own virtual environment) — and turns what they say into one list of
 * findings, each naming its tool, check, object and words. Both tools come from `npm run tools`.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { toolPath } from '../control-plane.js';

export type Tool = 'kube-score' | 'checkov';

export interface Finding {
  readonly tool: Tool;
  /** kube-score's check id (`container-resources`) or checkov's (`CKV_K8S_11`). */
  readonly check: string;
  /** `Kind/namespace/name`, namespace empty for cluster-scoped objects. */
  readonly object: string;
  /** What the tool says, e.g. `(scoring) CPU limit is not set`. */
  readonly detail: string;
  /** The rendered output it was found in. */
  readonly output: string;
}

/** The Kubernetes version the manifests target (for kube-score's deprecated-API check). */
export const KUBERNETES_VERSION = 'v1.35';
/** kube-score checks that are off by default and that Tandem meets, so they are run too. */
export const KUBE_SCORE_OPTIONAL = ['container-seccomp-profile', 'container-ports-check'] as const;

function run(tool: string, args: readonly string[]): { status: number; stdout: string; stderr: string } {
  const res = spawnSync(toolPath(tool), args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (res.error) throw new Error(`failed to run ${tool}: ${res.error.message}`, { cause: res.error });
  return { status: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

interface KubeScoreObject {
  object_meta: { name: string; namespace?: string };
  type_meta: { kind: string };
  checks: { check: { id: string; name: string }; grade: number; skipped: boolean; comments: { path: string; summary: string }[] | null }[];
}

/** kube-score's grades: 10 is OK; below is a warning (5) or critical (1). */
const KUBE_SCORE_OK = 10;

/**
 * Every warning and critical of kube-score on `files`, with the number of objects it scored. One run per file:
 * with several, kube-score names objects after the `# Source:` comments of helm's output, not their file.
 */
export function kubeScore(files: readonly string[], names: (file: string) => string): { findings: Finding[]; objects: number } {
  const optional = KUBE_SCORE_OPTIONAL.flatMap((t) => ['--enable-optional-test', t]);
  let count = 0;
  const findings = files.flatMap((file) => {
    const res = run('kube-score', ['score', '--kubernetes-version', KUBERNETES_VERSION, ...optional, '--output-format', 'json', file]);
    // It exits 1 when it has findings; anything it cannot parse is a hard error.
    if (res.status > 1 || res.stdout.trim() === '') throw new Error(`kube-score failed on ${file} (${res.status}): ${res.stderr}`);
    const objects = JSON.parse(res.stdout) as KubeScoreObject[];
    count += objects.length;
    return objects.flatMap((o) =>
      o.checks
        .filter((c) => !c.skipped && c.grade < KUBE_SCORE_OK)
        .flatMap((c) =>
          (c.comments?.length ? c.comments : [{ path: '', summary: c.check.name }]).map((comment) => ({
            tool: 'kube-score' as const,
            check: c.check.id,
            object: `${o.type_meta.kind}/${o.object_meta.namespace ?? ''}/${o.object_meta.name}`,
            detail: comment.path ? `(${comment.path}) ${comment.summary}` : comment.summary,
            output: names(file),
          })),
        ),
    );
  });
  return { findings, objects: count };
}

interface CheckovReport {
  check_type: string;
  results: { failed_checks: { check_id: string; check_name: string; resource: string; file_path: string }[] };
  summary: { passed: number; failed: number; parsing_errors: number; resource_count: number };
}

/** Every failed checkov check on `files` (kubernetes framework, offline), with its summary. */
export function checkov(files: readonly string[], names: (file: string) => string): { findings: Finding[]; summary: CheckovReport['summary'] } {
  const res = run('checkov', ['--framework', 'kubernetes', '--skip-download', '--quiet', '--compact', '--output', 'json', ...files.flatMap((f) => ['--file', f])]);
  if (res.status > 1 || res.stdout.trim() === '') throw new Error(`checkov failed (${res.status}): ${res.stderr}`);
  const parsed = JSON.parse(res.stdout) as CheckovReport | CheckovReport[];
  const reports = Array.isArray(parsed) ? parsed : [parsed];
  const clusterScoped = clusterScopedObjects(files);
  const findings = reports.flatMap((r) =>
    r.results.failed_checks.map((f) => {
      // checkov names a resource `Kind.namespace.name`, with `default` for cluster-scoped ones.
      const [kind = '', ns = '', ...name] = f.resource.split('.');
      const n = name.join('.');
      const namespace = ns === 'default' && clusterScoped.has(`${kind}/${n}`) ? '' : ns;
      return { tool: 'checkov' as const, check: f.check_id, object: `${kind}/${namespace}/${n}`, detail: f.check_name, output: names(f.file_path) };
    }),
  );
  const summary = reports.reduce(
    (a, r) => ({ passed: a.passed + r.summary.passed, failed: a.failed + r.summary.failed, parsing_errors: a.parsing_errors + r.summary.parsing_errors, resource_count: a.resource_count + r.summary.resource_count }),
    { passed: 0, failed: 0, parsing_errors: 0, resource_count: 0 },
  );
  return { findings, summary };
}

/** `Kind/name` of every object without a namespace in the files. */
function clusterScopedObjects(files: readonly string[]): Set<string> {
  const found = new Set<string>();
  for (const file of files) {
    for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
      const o = doc.toJS() as { kind?: string; metadata?: { name?: string; namespace?: string } } | null;
      if (o?.kind && o.metadata?.name && !o.metadata.namespace) found.add(`${o.kind}/${o.metadata.name}`);
    }
  }
  return found;
}
