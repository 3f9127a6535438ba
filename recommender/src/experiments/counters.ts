/**
 * Per-variant counts of one scoring pod (impressions, clicks, conversions, revenue), and their file on the
 * state volume: `<dir>/<writer>.json`, written aside then renamed, every few seconds and at shutdown. A
 * restarted pod of the same name continues its counts; the report adds up every pod's file, so the
 * numbers survive restarts and scale-downs. A click and a conversion count once per recommendation
 * (remembered for the last 100,000 recommendations credited on this pod); revenue counts every purchase.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { checker } from '../data/validate.js';
import { VariantCounts } from './report.js';

const CountsFile = Type.Object({
  writer: Type.String(),
  updatedAt: Type.String(),
  experiments: Type.Record(Type.String(), Type.Record(Type.String(), VariantCounts)),
});
type CountsFile = typeof CountsFile.static;
const isCountsFile = checker(CountsFile);

export type Credit = 'click' | 'conversion';

const REMEMBERED = 100_000;

export class ExperimentCounters {
  private readonly counts = new Map<string, Map<string, VariantCounts>>();
  private readonly credited = new Set<string>();
  private dirty = false;

  constructor(
    private readonly store?: { dir: string; writer: string },
    private readonly clock: () => number = Date.now,
  ) {}

  /** Opens the pod's counts file (continuing its counts) when there is a state directory. */
  static async open(store: { dir: string; writer: string } | undefined, clock?: () => number): Promise<ExperimentCounters> {
    const c = new ExperimentCounters(store, clock);
    if (store) {
      await mkdir(store.dir, { recursive: true });
      const mine = await readCounts(join(store.dir, `${store.writer}.json`));
      if (mine) for (const [e, vs] of Object.entries(mine.experiments)) for (const [v, k] of Object.entries(vs)) c.cell(e, v, k);
    }
    return c;
  }

  private cell(experiment: string, variant: string, start?: VariantCounts): VariantCounts {
    let byVariant = this.counts.get(experiment);
    if (!byVariant) {
      byVariant = new Map();
      this.counts.set(experiment, byVariant);
    }
    let k = byVariant.get(variant);
    if (!k) {
      k = start ? { ...start } : { impressions: 0, clicks: 0, conversions: 0, revenue: 0 };
      byVariant.set(variant, k);
    }
    return k;
  }

  impression(experiment: string, variant: string): void {
    this.cell(experiment, variant).impressions++;
    this.dirty = true;
  }

  /**
   * Credits an event carrying `recommendationId` to its variant. Returns whether it counted as a new
   * click or conversion (revenue is added for every purchase).
   */
  credit(experiment: string, variant: string, recommendationId: string, outcome: Credit, revenue = 0): boolean {
    const k = this.cell(experiment, variant);
    k.revenue += revenue;
    this.dirty ||= revenue > 0;
    const key = `${outcome}:${recommendationId}`;
    if (this.credited.has(key)) return false;
    if (this.credited.size >= REMEMBERED) this.credited.delete(this.credited.values().next().value as string);
    this.credited.add(key);
    if (outcome === 'click') k.clicks++;
    else k.conversions++;
    this.dirty = true;
    return true;
  }

  /** This pod's counts of one experiment. */
  local(experiment: string): Map<string, VariantCounts> {
    return new Map([...(this.counts.get(experiment) ?? [])].map(([v, k]) => [v, { ...k }]));
  }

  /** Writes the pod's file if anything changed since the last save. */
  async save(): Promise<void> {
    if (!this.store || !this.dirty) return;
    this.dirty = false;
    const body: CountsFile = { writer: this.store.writer, updatedAt: new Date(this.clock()).toISOString(), experiments: {} };
    for (const [e, vs] of this.counts) body.experiments[e] = Object.fromEntries(vs);
    const path = join(this.store.dir, `${this.store.writer}.json`);
    const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, JSON.stringify(body));
      await rename(tmp, path);
    } catch (err) {
      this.dirty = true;
      throw new Error(`failed to save experiment counts to ${path}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Every pod's counts of one experiment, added up (this pod's live ones instead of its file). */
  async total(experiment: string): Promise<Map<string, VariantCounts>> {
    const sum = this.local(experiment);
    if (!this.store) return sum;
    for (const name of await readdir(this.store.dir)) {
      if (!name.endsWith('.json') || name === `${this.store.writer}.json`) continue;
      const file = await readCounts(join(this.store.dir, name));
      for (const [v, k] of Object.entries(file?.experiments[experiment] ?? {})) {
        const s = sum.get(v) ?? { impressions: 0, clicks: 0, conversions: 0, revenue: 0 };
        sum.set(v, {
          impressions: s.impressions + k.impressions,
          clicks: s.clicks + k.clicks,
          conversions: s.conversions + k.conversions,
          revenue: s.revenue + k.revenue,
        });
      }
    }
    return sum;
  }
}

async function readCounts(path: string): Promise<CountsFile | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`failed to read experiment counts ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (!isCountsFile.Check(parsed)) throw new Error(`failed to read experiment counts ${path}: not a counts file`);
  return parsed;
}
