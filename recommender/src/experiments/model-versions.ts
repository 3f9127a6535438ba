/**
 * Model versions other than the active one, for the experiment variants that pin one and for replays:
 * read from the model directory, verified like any activation (readArtifact checks every checksum),
 * bound to the live catalogue and kept (the few most recently used). A variant's first request after a
 * start serves the active model while its version loads in the background.
 */
import type { Logger } from 'pino';
import type { Catalog } from '../engine/catalog.js';
import { bindModel, type ServingModel } from '../engine/serving.js';
import { ArtifactError, readArtifact } from '../model/artifact.js';
import type { ModelStore } from '../model/store.js';

export interface LoadedModel {
  model: ServingModel;
  sha256: string;
}

export interface ModelVersionsOptions {
  store: ModelStore;
  /** The model directory; without one only the active version is available. */
  dir?: string;
  catalog: Catalog;
  historySize: number;
  logger?: Logger;
  /** Versions kept besides the active one. Default 3. */
  max?: number;
}

export class ModelVersions {
  private readonly loaded = new Map<string, LoadedModel>();
  private readonly loading = new Map<string, Promise<LoadedModel>>();

  constructor(private readonly opts: ModelVersionsOptions) {}

  /** The model of `version` if it is at hand now (the active one, or one loaded before); starts loading it otherwise. */
  peek(version: string): LoadedModel | undefined {
    const active = this.active(version);
    if (active) return active;
    const hit = this.loaded.get(version);
    if (hit) return hit;
    this.get(version).catch((err: unknown) => this.opts.logger?.warn({ err, version }, 'failed to load the model version of an experiment variant'));
    return undefined;
  }

  /** The model of `version`; rejects with ArtifactError when it does not exist or fails verification. */
  get(version: string): Promise<LoadedModel> {
    const active = this.active(version);
    if (active) return Promise.resolve(active);
    const hit = this.loaded.get(version);
    if (hit) {
      this.loaded.delete(version); // most recently used last
      this.loaded.set(version, hit);
      return Promise.resolve(hit);
    }
    let flight = this.loading.get(version);
    if (!flight) {
      flight = this.load(version).finally(() => this.loading.delete(version));
      this.loading.set(version, flight);
    }
    return flight;
  }

  /** Every bound model besides the active one (online updates and erasures reach them too). */
  others(): ServingModel[] {
    return [...this.loaded.values()].map((l) => l.model);
  }

  private active(version: string): LoadedModel | undefined {
    const m = this.opts.store.active;
    const manifest = this.opts.store.activeManifest;
    return m && manifest && m.version === version ? { model: m, sha256: manifest.sha256 } : undefined;
  }

  private async load(version: string): Promise<LoadedModel> {
    if (!this.opts.dir) throw new ArtifactError(`model version '${version}' does not exist (no model directory)`);
    let read: Awaited<ReturnType<typeof readArtifact>>;
    try {
      read = await readArtifact(this.opts.dir, version);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || /ENOENT/.test((err as Error).message)) {
        throw new ArtifactError(`model version '${version}' does not exist`);
      }
      throw err;
    }
    const { manifest, data } = read;
    const loaded = { model: bindModel(version, data, this.opts.catalog, this.opts.historySize), sha256: manifest.sha256 };
    this.loaded.set(version, loaded);
    while (this.loaded.size > (this.opts.max ?? 3)) this.loaded.delete(this.loaded.keys().next().value as string);
    return loaded;
  }
}
