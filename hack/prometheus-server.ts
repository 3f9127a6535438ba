/**
 * A Prometheus server built from the pinned module (hack/tools/prometheus), as a process on this machine: its
 * configuration and rule file written to `dir`, a fresh TSDB there, its HTTP API on a free loopback port.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ruleFile } from '../cdk8s/alerts/render.js';
import type { RuleGroup } from '../cdk8s/alerts/types.js';
import { freePort, toolPath } from './control-plane.js';
import { launch, waitFor } from './process.js';

export interface PromSample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

/** An alert as `/api/v1/alerts` lists it: pending until its `for` has passed, then firing. */
export interface PromAlert {
  readonly labels: Record<string, string>;
  readonly state: 'pending' | 'firing';
  readonly activeAt: string;
}

export interface PrometheusServer {
  readonly url: string;
  /** An instant query; throws on an error answer. */
  query(expr: string): Promise<PromSample[]>;
  /** The pending and firing alerts of the loaded rules. */
  alerts(): Promise<PromAlert[]>;
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  readonly dir: string;
  /** The configuration, less `rule_files` (set to the rule file written from `rules`). */
  readonly config: Record<string, unknown>;
  readonly rules: readonly RuleGroup[];
}

export async function startPrometheus(o: PrometheusOptions): Promise<PrometheusServer> {
  mkdirSync(o.dir, { recursive: true });
  const rules = join(o.dir, 'rules.yaml');
  writeFileSync(rules, stringify(ruleFile(o.rules), { lineWidth: 0, version: '1.1' }));
  const config = join(o.dir, 'prometheus.yaml');
  writeFileSync(config, stringify({ ...o.config, rule_files: [rules] }));
  rmSync(join(o.dir, 'tsdb'), { recursive: true, force: true });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = launch('prometheus', toolPath('prometheus'), [`--config.file=${config}`, `--storage.tsdb.path=${join(o.dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`], { logDir: o.dir });
  try {
    await waitFor('Prometheus ready', () => fetch(`${url}/-/ready`).then((r) => r.ok, () => false), { timeoutMs: 60_000, proc });
  } catch (err) {
    await proc.stop();
    throw err;
  }
  const api = async <T>(path: string, what: string): Promise<T> => {
    const res = await fetch(`${url}/api/v1/${path}`);
    const body = (await res.json()) as { status: string; error?: string; data?: T };
    if (body.status !== 'success') throw new Error(`failed to ${what}: ${body.error}`);
    return body.data!;
  };
  return {
    url,
    async query(expr) {
      const data = await api<{ resultType: string; result: PromSample[] | [number, string] }>(`query?query=${encodeURIComponent(expr)}`, `query ${expr}`);
      return data.resultType === 'scalar' ? [{ metric: {}, value: data.result as [number, string] }] : (data.result as PromSample[]);
    },
    async alerts() {
      return (await api<{ alerts: PromAlert[] }>('alerts', 'list the alerts')).alerts;
    },
    stop: () => proc.stop(),
  };
}
