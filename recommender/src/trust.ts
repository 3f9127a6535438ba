/**
 * Wiring of privacy, the audit trail and experiments for the two commands, from the environment:
 * `openServeTrust` gives the service its dependencies and runs their background work (saving
 * experiment counts, picking up other pods' erasures); `trainerPrivacy` gives the trainer the same
 * pseudonymiser and erased set, the retention, and the housekeeping of the shared volume.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Counter, Registry } from 'prom-client';
import { Env } from '../../cdk8s/constants.js';
import { createTrustMetrics, serviceObserver, sinkEvents } from './api/trust-metrics.js';
import { sweepAudit } from './audit/file-sink.js';
import { redactUsers } from './audit/search.js';
import { AuditTrail } from './audit/trail.js';
import { SecretFile } from './auth/secret-file.js';
import type { Catalog } from './engine/catalog.js';
import type { Inputs } from './cli/inputs.js';
import { loadExperimentsFile } from './experiments/config.js';
import { ExperimentCounters } from './experiments/counters.js';
import { ModelVersions } from './experiments/model-versions.js';
import type { ModelStore } from './model/store.js';
import { privatiseEvents } from './privacy/events.js';
import { DEMO_HMAC_KEY, Privacy } from './privacy/privacy.js';
import { Pseudonymiser } from './privacy/pseudonym.js';
import { pruneEventsFile } from './privacy/prune-file.js';
import type { ServiceDeps, RecommenderService } from './service.js';
import type { ServiceEnv } from './env.js';

/** This process's name as a writer of the shared volume: the pod name (a pod's hostname), made file-safe. */
export function writerName(): string {
  return hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 200) || 'writer';
}

/** The pseudonymiser from the key file (re-read on change), the key value, or the public demo key. */
async function keys(
  file: string | undefined,
  value: string | undefined,
  logger: Logger,
  onChange: (p: Pseudonymiser) => void,
): Promise<{ pseudonymiser: Pseudonymiser; close: () => void }> {
  if (file) {
    const secret = await SecretFile.open({ path: file, what: 'HMAC key', parse: Pseudonymiser.fromText, logger, onChange });
    return { pseudonymiser: secret.value, close: () => secret.close() };
  }
  if (value) return { pseudonymiser: Pseudonymiser.fromText(value), close: () => undefined };
  logger.warn(`no '${Env.HMAC_KEY_FILE}' or '${Env.HMAC_KEY}': shopper ids are pseudonymised with the public demo key`);
  return { pseudonymiser: Pseudonymiser.fromText(DEMO_HMAC_KEY), close: () => undefined };
}

/** Logs a recurring failure once, then at most once a minute, with the count in between. */
function throttled(logger: Logger, msg: string): (err: Error) => void {
  let last = -Infinity;
  let suppressed = 0;
  return (err) => {
    const now = Date.now();
    if (now - last < 60_000) {
      suppressed++;
      return;
    }
    logger.error({ err, suppressed }, msg);
    last = now;
    suppressed = 0;
  };
}

export interface ServeTrustOptions {
  env: ServiceEnv;
  logger: Logger;
  registry: Registry;
  ingested: Counter<'kind' | 'outcome'>;
  store: ModelStore;
  catalog: Catalog;
  historySize: number;
  modelDir?: string;
  /** This pod's name on the state volume; the hostname (the pod name) by default. */
  writer?: string;
}

export interface ServeTrust {
  deps: Pick<ServiceDeps, 'privacy' | 'audit' | 'experiments' | 'counters' | 'versions' | 'observer'>;
  /** Starts the background work for this service. */
  start(service: RecommenderService): void;
  close(): Promise<void>;
}

export async function openServeTrust(o: ServeTrustOptions): Promise<ServeTrust> {
  const { env, logger } = o;
  const writer = o.writer ?? writerName();
  const rekeyed: { privacy?: Privacy } = {};
  const key = await keys(env.hmacKeyFile, env.hmacKey, logger, (p) => rekeyed.privacy?.rekey(p));
  const privacy = await Privacy.open({ pseudonymiser: key.pseudonymiser, stateDir: env.stateDir, retentionDays: env.eventRetentionDays });
  rekeyed.privacy = privacy;
  const metrics = createTrustMetrics(o.registry);
  const auditFailed = throttled(logger, 'failed to write audit records; serving goes on, records are dropped and counted');
  const audit = env.auditEnabled
    ? await AuditTrail.open({
        dir: env.auditDir,
        writer,
        retentionDays: env.auditRetentionDays,
        maxFileBytes: env.auditMaxFileBytes,
        rotateMs: env.auditRotateSeconds * 1000,
        ...(env.auditStdout ? { stdout: process.stdout } : {}),
        events: (sink) => sinkEvents(metrics, sink, auditFailed),
      })
    : undefined;
  const counters = await ExperimentCounters.open(env.stateDir ? { dir: join(env.stateDir, 'experiments'), writer } : undefined);
  const experiments = loadExperimentsFile(env.experimentsFile);
  const versions = new ModelVersions({ store: o.store, dir: o.modelDir, catalog: o.catalog, historySize: o.historySize, logger });
  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, what: string, fn: () => Promise<unknown>): void => {
    const t = setInterval(() => fn().catch((err: unknown) => logger.error({ err }, `failed to ${what}`)), ms);
    t.unref();
    timers.push(t);
  };
  let service: RecommenderService | undefined;
  return {
    deps: { privacy, audit, experiments, counters, versions, observer: serviceObserver(metrics, o.ingested) },
    start(s) {
      service = s;
      every(10_000, 'save the experiment counts', () => s.saveCounters());
      every(5_000, "pick up other pods' erasures and opt-outs", () => s.syncPrivacy());
    },
    async close() {
      for (const t of timers) clearInterval(t);
      key.close();
      await service?.saveCounters();
      await audit?.close();
    },
  };
}

/** Drops erased shoppers' events and expired ones from training inputs and pseudonymises the rest. */
export function privatiseInputs(inputs: Inputs, privacy: Privacy, say: (line: string) => void = () => undefined): void {
  const { events, dropped } = privatiseEvents(inputs.events, privacy);
  inputs.events = events;
  if (dropped.erased + dropped.expired > 0) {
    say(`privacy: dropped ${dropped.erased} events of erased shoppers and ${dropped.expired} older than ${privacy.retentionDays} days`);
  }
}

export interface TrainerPrivacy {
  privacy: Privacy;
  /** See privatiseInputs. */
  privatise(inputs: Inputs): void;
  /** Prunes the events file on the volume, and the audit files of every pod past their retention. */
  housekeeping(eventsFile: string | undefined): Promise<void>;
  close(): void;
}

const positive = (name: string): number | undefined => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`invalid config: '${name}' (${raw}) must be an integer ≥ 1`);
  return n;
};

/** The trainer's side, from TANDEM_HMAC_KEY(_FILE), TANDEM_STATE_DIR, TANDEM_EVENT_RETENTION_DAYS and TANDEM_AUDIT_*. */
export async function trainerPrivacy(logger: Logger, say: (line: string) => void): Promise<TrainerPrivacy> {
  const e = process.env;
  const key = await keys(e[Env.HMAC_KEY_FILE] || undefined, e[Env.HMAC_KEY] || undefined, logger, () => undefined);
  const retentionDays = positive(Env.EVENT_RETENTION_DAYS);
  const privacy = await Privacy.open({ pseudonymiser: key.pseudonymiser, stateDir: e[Env.STATE_DIR] || undefined, retentionDays });
  const now = Date.now();
  return {
    privacy,
    privatise: (inputs) => privatiseInputs(inputs, privacy, say),
    async housekeeping(eventsFile) {
      const cutoff = retentionDays === undefined ? -Infinity : now - retentionDays * 86_400_000;
      if (eventsFile && (privacy.erased.size > 0 || retentionDays !== undefined)) {
        const p = privacy.pseudonymiser;
        const r = await pruneEventsFile(eventsFile, (ev) => Date.parse(ev.timestamp) >= cutoff && !(privacy.erased.size > 0 && privacy.erased.has(p.all(ev.userId))));
        say(r.skipped ? `events file not pruned: ${r.skipped}` : `events file: ${r.removed} events of erased shoppers or past retention removed, ${r.kept} lines kept`);
      }
      const auditDir = e[Env.AUDIT_DIR];
      const auditDays = positive(Env.AUDIT_RETENTION_DAYS);
      if (auditDir && auditDays !== undefined) {
        // Pods that are gone leave their audit files: retention and redaction reach them here.
        const removed = await sweepAudit(auditDir, auditDays, now);
        const recent = await erasedWithin(privacy, auditDays, now);
        const redacted = recent.length > 0 ? await redactUsers(auditDir, recent) : 0;
        say(`audit: ${removed.length} files past ${auditDays} days removed, ${redacted} records of erased shoppers redacted`);
      }
    },
    close: key.close,
  };
}

/** Pseudonyms erased within `days` (older audit files are gone, so older erasures have nothing left to redact). */
async function erasedWithin(privacy: Privacy, days: number, now: number): Promise<string[]> {
  await privacy.refresh();
  return privacy.erased.list().filter((p) => (privacy.erased.since(p)?.getTime() ?? 0) >= now - days * 86_400_000);
}
