/** Host processes of the test harness: started with a log file and a pid file, killed with us, stopped gracefully. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

export interface Launched {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logPath: string;
  /** SIGTERM, then SIGKILL after the grace period; removes the pid file. */
  stop(graceMs?: number): Promise<void>;
}

export interface LaunchOptions {
  readonly logDir: string;
  /** Where the pid goes, so hack/node/teardown.sh can find the process after a crash. */
  readonly pidFile?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly onExit?: (name: string, code: number | null, signal: NodeJS.Signals | null) => void;
}

export function launch(name: string, bin: string, args: readonly string[], opts: LaunchOptions): Launched {
  const logPath = join(opts.logDir, `${name}.log`);
  const out = openSync(logPath, 'a');
  const env = opts.env ?? process.env;
  // Where util-linux is present, the kernel kills the child when we die (PR_SET_PDEATHSIG).
  const child = SETPRIV
    ? spawn(SETPRIV, ['--pdeathsig', 'KILL', '--', bin, ...args], { stdio: ['ignore', out, out], env })
    : spawn(bin, args, { stdio: ['ignore', out, out], env });
  if (opts.pidFile && child.pid !== undefined) writeFileSync(opts.pidFile, `${child.pid}\n`);
  child.once('exit', (code, signal) => opts.onExit?.(name, code, signal));
  return {
    name,
    child,
    logPath,
    async stop(graceMs = 5000) {
      await terminate(child, graceMs);
      if (opts.pidFile) rmSync(opts.pidFile, { force: true });
    },
  };
}

export async function terminate(proc: ChildProcess, graceMs = 5000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** The last lines of a log (the logs live in a temp dir that is removed at stop, so errors carry them). */
export function logTail(path: string, lines = 30): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Polls `check` until it returns true; fails early, naming the log, if `proc` exits meanwhile. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  opts: { timeoutMs: number; intervalMs?: number; proc?: Launched },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let last: unknown;
  for (;;) {
    const child = opts.proc?.child;
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`${opts.proc!.name} exited (code ${child.exitCode}, signal ${child.signalCode}) while waiting for ${what}; the end of ${opts.proc!.logPath}:\n${logTail(opts.proc!.logPath)}`);
    }
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? `: ${last.message}` : '';
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${what}${why}${opts.proc ? `; see ${opts.proc.logPath}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250));
  }
}
