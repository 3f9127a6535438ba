/**
 * The privacy state one process works with: the pseudonymiser (its key can be replaced while running,
 * when the mounted key file changes), and the shared sets of erased and opted-out shoppers. With a state
 * directory the sets live on the state volume (`<state>/privacy/erased`, `<state>/privacy/opt-out`),
 * so every scoring pod and the trainer see the same ones; without, in memory.
 */
import { join } from 'node:path';
import { Pseudonymiser } from './pseudonym.js';
import { DirSubjectSet, MemorySubjectSet, type SubjectSet } from './subject-set.js';

/** The pseudonyms a shopper may be stored under, and what applies to them. */
export interface Subject {
  /** Under the current key: what is stored from now on. */
  readonly pseudonym: string;
  /** Under every configured key, current first: what may have been stored before. */
  readonly all: readonly string[];
  readonly erased: boolean;
  readonly optedOut: boolean;
}

/**
 * The key used when none is configured (`npm start`, local training): it is public, so it pseudonymises
 * without protecting anything. The rendered Deployment and CronJob always mount a real one.
 */
export const DEMO_HMAC_KEY = 'tandem-demo-hmac-key-not-a-secret';

export interface PrivacyOptions {
  pseudonymiser: Pseudonymiser;
  /** The state directory; the sets live in memory without one. */
  stateDir?: string;
  /** Events older than this are dropped at ingestion and training. */
  retentionDays?: number;
}

export class Privacy {
  private constructor(
    private current: Pseudonymiser,
    readonly erased: SubjectSet,
    readonly optedOut: SubjectSet,
    readonly retentionDays: number | undefined,
  ) {}

  /** Sets in memory: for one process on its own (the demo, tests). */
  static inMemory(keyText: string, retentionDays?: number): Privacy {
    return new Privacy(Pseudonymiser.fromText(keyText), new MemorySubjectSet(), new MemorySubjectSet(), retentionDays);
  }

  static async open(opts: PrivacyOptions): Promise<Privacy> {
    const { pseudonymiser } = opts;
    const dir = opts.stateDir;
    const erased = dir ? await DirSubjectSet.open(join(dir, 'privacy', 'erased')) : new MemorySubjectSet();
    const optedOut = dir ? await DirSubjectSet.open(join(dir, 'privacy', 'opt-out')) : new MemorySubjectSet();
    return new Privacy(pseudonymiser, erased, optedOut, opts.retentionDays);
  }

  get pseudonymiser(): Pseudonymiser {
    return this.current;
  }

  /** Replaces the keys (the key file changed). */
  rekey(pseudonymiser: Pseudonymiser): void {
    this.current = pseudonymiser;
  }

  subject(userId: string): Subject {
    const all = this.current.all(userId);
    return {
      pseudonym: all[0]!,
      all,
      erased: this.erased.size > 0 && this.erased.has(all),
      optedOut: this.optedOut.size > 0 && this.optedOut.has(all),
    };
  }

  /** Picks up other processes' changes; returns the pseudonyms erased elsewhere since the last look. */
  async refresh(): Promise<string[]> {
    const [erased] = await Promise.all([this.erased.refresh(), this.optedOut.refresh()]);
    return erased;
  }
}
