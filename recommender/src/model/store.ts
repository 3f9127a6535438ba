/**
 * The versioned model store: lists the versions in a model directory (and any trained in
 * memory), verifies a version before activating it, swaps the active model in one assignment
 * (requests in flight keep the model they started with), and rolls back by activating an
 * older version. A refused version never replaces the active one: a corrupt one never, one the
 * gate refuses (worse than the active version, see gate.ts) unless an operator activates it by hand.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { EngineConfig, GateConfig } from '../config.js';
import type { Catalog } from '../engine/catalog.js';
import type { ModelData } from '../engine/model.js';
import { bindModel, type ServingModel } from '../engine/serving.js';
import type { ModelsResponse } from '../schemas.js';
import { ArtifactError, buildManifest, listVersions, readArtifact, readManifest, serialize, VersionNotFoundError, type Manifest } from './artifact.js';
import { gateVerdict } from './gate.js';
import { join } from 'node:path';

export interface ModelStoreOptions {
  /** Directory of versioned artifacts; optional when models are only trained in memory. */
  dir?: string;
  catalog: Catalog;
  engine: EngineConfig;
  logger?: Logger;
  /** Serve this version only (`TANDEM_MODEL_VERSION`) instead of following the newest; `latest` or unset follows. */
  pinned?: string;
  /** Fills `dir` before each look at it (an object-store mirror, `S3ModelSource`); when it fails, `dir` is read as it is. */
  source?: { sync(): Promise<unknown> };
  /** Refuse automatic activations of versions worse than the active one; no gate without it. */
  gate?: GateConfig;
}

/** Raised when the gate refuses a version (see gate.ts); `activate(version, { force: true })` overrides it. */
export class GateError extends ArtifactError {
  override readonly name = 'GateError';
}

/** The newest of some version ids (they sort by creation time), or undefined if none. */
function newest(...versions: (string | undefined)[]): string | undefined {
  return versions.filter((v) => v !== undefined).sort().at(-1);
}

/** What the store tells its listeners: a version became active (after `previous`), or one was refused. */
export interface ModelStoreEvents {
  activate: [manifest: Manifest, previous: Manifest | null];
  /** `kind`: `corrupt` (unreadable, checksum, format) or `gate` (worse than the active version). */
  refuse: [version: string, reason: string, kind: RefusalKind];
}

export type RefusalKind = 'corrupt' | 'gate';

export class ModelStore extends EventEmitter<ModelStoreEvents> {
  private current: { model: ServingModel; manifest: Manifest } | null = null;
  private readonly memory = new Map<string, { manifest: Manifest; data: ModelData }>();
  /** Versions refused at activation, with the reason. */
  readonly refused = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();
  /**
   * Set by a hand-made activation (rollback or roll-forward): the newest version known then. Following
   * skips versions up to it, so a rollback holds until a version trained after it appears.
   */
  private heldThrough: string | undefined;
  /** A pinned version is activated once; after that (or after a hand-made activation) following stops. */
  private pinSettled = false;

  constructor(private readonly opts: ModelStoreOptions) {
    super();
  }

  get active(): ServingModel | null {
    return this.current?.model ?? null;
  }

  get activeManifest(): Manifest | null {
    return this.current?.manifest ?? null;
  }

  /** Registers a model trained in this process (not written to disk). */
  addInMemory(data: ModelData, extra: { metrics: Record<string, number>; config: unknown; createdAt?: Date }): Manifest {
    const manifest = buildManifest(serialize(data), data, extra);
    this.memory.set(manifest.version, { manifest, data });
    return manifest;
  }

  /**
   * Verifies and activates `version`. Throws ArtifactError (and keeps the active model) if refused:
   * VersionNotFoundError, GateError (unless `force`: an operator's choice), or corrupt.
   */
  activate(version: string, opts: { force?: boolean } = {}): Promise<Manifest> {
    const run = this.queue.then(() => this.doActivate(version, opts.force ?? false));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Activates `version` on an operator's request and holds it: following then skips every version
   * known now, and moves on only when a newer one is trained.
   */
  async activateAndHold(version: string): Promise<Manifest> {
    const manifest = await this.activate(version, { force: true });
    this.heldThrough = newest(this.heldThrough, (await this.versions()).at(-1));
    this.pinSettled = true;
    return manifest;
  }

  /** One step of following the model directory: the pinned version until it loads, else the newest. */
  async follow(): Promise<Manifest | null> {
    // Serving never waits for the object store: on failure, what the directory already holds is served.
    await this.opts.source?.sync().catch((err: unknown) => this.opts.logger?.error({ err }, 'failed to sync the model directory from its source; serving what it holds'));
    const pin = this.opts.pinned;
    if (pin === undefined || pin === 'latest') return this.activateLatest();
    if (this.pinSettled) return null;
    try {
      const manifest = await this.activate(pin, { force: true });
      this.pinSettled = true;
      return manifest;
    } catch (err) {
      if (!(err instanceof ArtifactError)) throw err;
      return null; // logged by doActivate; tried again on the next poll (it may not be written yet)
    }
  }

  /** Activates the newest version that is newer than the active one (and any held one) and passes verification. */
  async activateLatest(): Promise<Manifest | null> {
    const versions = await this.versions();
    const floor = newest(this.current?.manifest.version, this.heldThrough);
    for (const v of versions.reverse()) {
      if (floor !== undefined && v <= floor) return null;
      if (this.refused.has(v)) continue;
      try {
        return await this.activate(v);
      } catch (err) {
        if (!(err instanceof ArtifactError)) throw err;
      }
    }
    return null;
  }

  /** Polls the model directory (see `follow`); returns a stop function. */
  watch(intervalMs: number): () => void {
    const timer = setInterval(() => {
      this.follow().catch((err: unknown) => this.opts.logger?.error({ err }, 'failed to poll model directory'));
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  async list(): Promise<ModelsResponse> {
    const available: ModelsResponse['available'] = [];
    for (const v of await this.versions()) {
      let manifest: Manifest | undefined = this.memory.get(v)?.manifest;
      if (!manifest && this.opts.dir) {
        try {
          manifest = await readManifest(join(this.opts.dir, v));
        } catch (err) {
          if (!this.refused.has(v)) this.refused.set(v, (err as Error).message);
          continue;
        }
      }
      if (!manifest) continue;
      available.push({
        version: manifest.version,
        createdAt: manifest.createdAt,
        sha256: manifest.sha256,
        active: manifest.version === this.current?.manifest.version,
        window: manifest.window,
        counts: manifest.counts,
        metrics: manifest.metrics,
      });
    }
    return {
      active: this.current?.manifest.version ?? null,
      available,
      refused: [...this.refused].map(([version, reason]) => ({ version, reason })),
    };
  }

  private refuse(version: string, reason: string, kind: RefusalKind): void {
    this.refused.set(version, reason);
    this.emit('refuse', version, reason, kind);
  }

  private async versions(): Promise<string[]> {
    const set = new Set<string>(this.memory.keys());
    if (this.opts.dir) for (const v of await listVersions(this.opts.dir)) set.add(v);
    return [...set].sort();
  }

  private async doActivate(version: string, force: boolean): Promise<Manifest> {
    const log = this.opts.logger;
    const active = this.current?.manifest.version ?? null;
    let loaded: { manifest: Manifest; data: ModelData };
    try {
      const mem = this.memory.get(version);
      if (mem) loaded = mem;
      else if (this.opts.dir) loaded = await readArtifact(this.opts.dir, version);
      else throw new VersionNotFoundError(version);
    } catch (err) {
      if (err instanceof VersionNotFoundError) {
        log?.warn({ version, active }, 'model version does not exist; keeping the active model');
      } else if (err instanceof ArtifactError) {
        this.refuse(version, err.message, 'corrupt');
        log?.error({ version, reason: err.message, active }, 'refused model artifact; keeping the active model');
      }
      throw err;
    }
    const verdict = force || !this.current || !this.opts.gate ? undefined : gateVerdict(loaded.manifest, this.current.manifest, this.opts.gate);
    if (verdict) {
      this.refuse(version, `gate: ${verdict}`, 'gate');
      log?.warn({ version, reason: verdict, active }, 'refused model version by the gate (activate it by hand to override); keeping the active model');
      throw new GateError(`gate: ${verdict}`);
    }
    const model = bindModel(version, loaded.data, this.opts.catalog, this.opts.engine.historySize);
    const previous = this.current?.manifest ?? null;
    this.current = { model, manifest: loaded.manifest };
    this.refused.delete(version);
    log?.info({ version, previous: previous?.version ?? null, counts: loaded.manifest.counts }, 'activated model');
    this.emit('activate', loaded.manifest, previous);
    return loaded.manifest;
  }
}
