/** Runs the real promtool (built by `npm run tools`) on rule and unit-test files written to a temp directory. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { toolPath } from '../../hack/control-plane.js';

export interface PromtoolRun {
  readonly status: number | null;
  readonly output: string;
}

/** A temp directory for one test file's rule files; `cleanup()` in afterAll. */
export function promtoolDir() {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-promtool-'));
  const write = (name: string, content: object): string => {
    const file = join(dir, name);
    writeFileSync(file, stringify(content, { version: '1.1', lineWidth: 0 }));
    return file;
  };
  const promtool = (...args: string[]): PromtoolRun => {
    const run = spawnSync(toolPath('promtool'), args, { encoding: 'utf8' });
    return { status: run.status, output: run.stdout + run.stderr };
  };
  return {
    dir,
    write,
    /** `promtool check rules` on a rule file. */
    checkRules: (name: string, rules: object, ...flags: string[]) => promtool('check', 'rules', ...flags, write(name, rules)),
    /** `promtool test rules` on a unit-test file; every test in it must pass for status 0. */
    testRules: (name: string, tests: object) => promtool('test', 'rules', write(name, tests)),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * promtool's expanding notation for a counter sampled once a minute, from segments of `[minutes, increase per
 * minute]`: `counter([60, 10], [5, 0])` rises by 10 a minute for an hour, then stays flat for 5 minutes.
 */
export function counter(...segments: readonly (readonly [minutes: number, perMinute: number])[]): string {
  let value = 0;
  let first = true;
  const parts: string[] = [];
  for (const [minutes, step] of segments) {
    if (minutes <= 0) continue;
    const start = first ? 0 : value + step;
    first = false;
    parts.push(`${start}+${step}x${minutes - 1}`);
    value = start + step * (minutes - 1);
  }
  return parts.join(' ');
}

/** A gauge sampled once a minute, from segments of `[minutes, value]`. */
export function gauge(...segments: readonly (readonly [minutes: number, value: number])[]): string {
  return segments.filter(([m]) => m > 0).map(([m, v]) => `${v}x${m - 1}`).join(' ');
}
