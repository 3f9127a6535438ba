/**
 * The shapes of Prometheus rules (the rule-file format that prometheus-operator's PrometheusRule embeds), and the
 * conventions every Tandem alert follows (the kubernetes-mixin's): a `severity` label, a static `summary`, a
 * templated `description` and a `runbook_url` that points at `docs/runbooks/<AlertName>.md`.
 */

/** `critical` pages someone now; `warning` opens a ticket for working hours; `info` is context for the others. */
export type Severity = 'critical' | 'warning' | 'info';

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: Readonly<Record<string, string>> & { readonly severity: Severity };
  readonly annotations: {
    /** One static line: what is wrong, with no template in it (it groups notifications). */
    readonly summary: string;
    /** Templated with `$labels` and `$value`: which object, how bad. */
    readonly description: string;
    readonly runbook_url: string;
  };
}

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export type Rule = AlertRule | RecordingRule;

export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly Rule[];
}

/** An alert with the queries behind it. */
export interface Alert {
  readonly rule: AlertRule;
  /**
   * What the alert compares, as queries that return data on a healthy system under load (the runbooks show them
   * under "PromQL", and the end-to-end test checks each returns data from a real Prometheus).
   */
  readonly signals: readonly string[];
}

/** Where the runbooks live in the repository, and the URL the alerts link to. */
export const RUNBOOK_DIR = 'docs/runbooks';
export const RUNBOOK_BASE_URL = `https://github.com/tandem-dev/tandem/blob/main/${RUNBOOK_DIR}`;

export function runbookUrl(alert: string): string {
  return `${RUNBOOK_BASE_URL}/${alert}.md`;
}

export function isAlert(rule: Rule): rule is AlertRule {
  return 'alert' in rule;
}

/** Rounds away binary floating-point noise (0.1 + 0.2) so the rendered numbers are stable and readable. */
export function round(x: number): number {
  return Number(x.toPrecision(10));
}

/** `1h` → 3600; the Prometheus duration units Tandem's rules use (s, m, h, d, w). */
export function durationSeconds(d: string): number {
  const m = /^(\d+)(s|m|h|d|w)$/.exec(d);
  if (!m) throw new Error(`failed to read the duration "${d}": expected <integer><s|m|h|d|w>`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w'];
}
