/**
 * Test helpers for the chart: run the Go-built `helm` on it, parse what it renders, and compare it with
 * the cdk8s install bundle.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parse, parseAllDocuments } from 'yaml';
import { toolPath } from '../../hack/control-plane.js';
import { CHART_DIR } from '../generate.js';

export { CHART_DIR };

/** The release the README installs: its fullname is `tandem-operator`, the bundle's object names. */
export const RELEASE = 'tandem-operator';
export const NAMESPACE = 'tandem-system';

export interface Run {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a Go-built tool (`helm`, `kubectl`) with `input` on stdin. */
export function run(tool: string, args: readonly string[], input?: string): Run {
  const res = spawnSync(toolPath(tool), args, { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 });
  if (res.error) throw res.error;
  return { status: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

export interface TemplateOptions {
  readonly release?: string;
  readonly namespace?: string;
  readonly includeCrds?: boolean;
  readonly extraArgs?: readonly string[];
}

/** `helm template` with `values` given on stdin (JSON is YAML); returns helm's answer as-is. */
export function helmTemplateRun(values: object = {}, options: TemplateOptions = {}): Run {
  const args = ['template', options.release ?? RELEASE, CHART_DIR, '--namespace', options.namespace ?? NAMESPACE, '--values', '-'];
  if (options.includeCrds) args.push('--include-crds');
  return run('helm', [...args, ...(options.extraArgs ?? [])], JSON.stringify(values));
}

/** `helm template`'s output text; throws with helm's message when it fails. */
export function helmTemplateYaml(values: object = {}, options: TemplateOptions = {}): string {
  const res = helmTemplateRun(values, options);
  if (res.status !== 0) throw new Error(`helm template failed (${res.status}): ${res.stderr}`);
  return res.stdout;
}

/** Parses a multi-document YAML stream into objects (empty documents dropped). */
export function parseObjects(text: string): KubernetesObject[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`invalid YAML: ${d.errors.map((e) => e.message).join('; ')}`);
      return d.toJS() as KubernetesObject | null;
    })
    .filter((o): o is KubernetesObject => o !== null);
}

/** The objects `helm template` renders for `values`. */
export function helmTemplate(values: object = {}, options: TemplateOptions = {}): KubernetesObject[] {
  return parseObjects(helmTemplateYaml(values, options));
}

/** The chart's metadata. */
export function chartYaml(): { version: string; appVersion: string; name: string } {
  return parse(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8')) as { version: string; appVersion: string; name: string };
}

/**
 * The labels Helm adds to object metadata on top of the bundle's, with the values they must have. They are
 * the only allowed difference between the chart and the bundle (selectors and pod templates carry none).
 */
export function helmLabels(release = RELEASE): Record<string, string> {
  const chart = chartYaml();
  return {
    'app.kubernetes.io/instance': release,
    'app.kubernetes.io/managed-by': 'Helm',
    'app.kubernetes.io/version': chart.appVersion,
    'helm.sh/chart': `${chart.name}-${chart.version}`,
  };
}

/** `Kind namespace/name`, the identity objects are compared by. */
export function objectKey(o: KubernetesObject): string {
  return `${o.kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

/**
 * Normalises chart output for comparison with the bundle: checks that Helm's labels are there with the
 * right values (throwing otherwise), removes them, and returns plain JSON objects keyed by `objectKey`.
 * The CRD (from crds/, which Helm never labels) is compared as-is.
 */
export function normaliseChart(objects: readonly KubernetesObject[], release = RELEASE): Map<string, unknown> {
  const expected = helmLabels(release);
  const out = new Map<string, unknown>();
  for (const o of objects) {
    const copy = JSON.parse(JSON.stringify(o)) as KubernetesObject;
    if (copy.kind !== 'CustomResourceDefinition') {
      const labels = copy.metadata?.labels ?? {};
      for (const [key, value] of Object.entries(expected)) {
        if (labels[key] !== value) throw new Error(`${objectKey(o)}: label ${key} is ${JSON.stringify(labels[key])}, expected ${JSON.stringify(value)}`);
        delete labels[key];
      }
    }
    out.set(objectKey(copy), copy);
  }
  return out;
}

/** The bundle's objects as plain JSON (what the API server would receive), keyed by `objectKey`. */
export function normaliseBundle(objects: readonly KubernetesObject[]): Map<string, unknown> {
  return new Map(objects.map((o) => [objectKey(o), JSON.parse(JSON.stringify(o)) as unknown]));
}
