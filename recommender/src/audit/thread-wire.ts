/**
 * What the service thread sends the audit thread (thread-sink.ts ↔ sink-thread.ts): records as they are,
 * and decisions with the parts of their outcome as plain data (catalogue indexes, stock, the packed
 * evidence), sent once per outcome per epoch. Catalogue names travel as deltas, only the ones not sent
 * before: names never change at an index and new ones are only appended (packed.ts).
 */
import type { DecisionInputs } from './decision.js';
import { FilteredJson, PackedCandidatesData, type Names } from './packed.js';
import type { OutcomeParts } from './outcome.js';
import type { AuditRecord } from './record.js';
import type { FileSinkOptions } from './file-sink.js';

/**
 * Candidates as the service thread sends them: their numbers in the message's `nums` from `at` (`n` catalogue
 * indexes, `n` stocks, `n` category indexes, then `sources` source indexes), their packed evidence in its
 * `bytes`. Two buffers per message, moved rather than copied, where arrays per candidate list would be
 * cloned number by number.
 */
export interface WireCandidates {
  names: number;
  at: number;
  n: number;
  sources: number;
  whyAt: number;
  whyBytes: number;
  reasons: readonly (readonly string[])[] | undefined;
}

/** Filtered items: their rules, and as many catalogue indexes in the message's `nums` from `at`. */
export interface WireFiltered {
  names: number;
  at: number;
  rules: string[];
}

export interface WireParts {
  candidates: string | WireCandidates;
  filtered: string | WireFiltered;
  items: string;
  promotions: string;
}

export type WireEntry =
  | { rec: AuditRecord; user: string | null }
  /** A decision; `parts` comes with the first reference to outcome `oid` in an epoch. */
  | { decision: DecisionInputs; user: string | null; oid: number; parts?: WireParts }
  /** The epoch ends: outcomes sent before are forgotten (they come again with their next reference). */
  | { epoch: true }
  /** Records the service thread dropped (its queue was full): the next batch's gap record counts them. */
  | { lost: number };

/** Names appended since the last message: `ids[from…]` and `categories[from…]` of names set `names`. */
export interface NamesDelta {
  names: number;
  idsFrom: number;
  ids: string[];
  categoriesFrom: number;
  categories: string[];
}

export type ToThread =
  | { type: 'entries'; names: NamesDelta[]; entries: WireEntry[]; nums: Float64Array; bytes: Uint8Array }
  | { type: 'flush'; id: number }
  | { type: 'close'; id: number };

export type FromThread =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  /** Entries taken since the last report (they no longer count against the service thread's bound), and what the sink reported. */
  | { type: 'events'; taken: number; written: number; dropped: number; errors: string[]; flushed?: number };

/** What the audit thread is started with. */
export type ThreadSinkData = Omit<FileSinkOptions, 'events' | 'clock'>;

/** Catalogue names as the audit thread holds them: one growing copy per names set. */
export class NamesMirror {
  private readonly sets = new Map<number, { ids: string[]; categories: string[] }>();

  apply(d: NamesDelta): void {
    let set = this.sets.get(d.names);
    if (!set) this.sets.set(d.names, (set = { ids: [], categories: [] }));
    splice(set.ids, d.idsFrom, d.ids);
    splice(set.categories, d.categoriesFrom, d.categories);
  }

  get(names: number): Names {
    const set = this.sets.get(names);
    if (!set) throw new Error(`audit thread: names set ${names} was never sent`);
    return set;
  }
}

function splice(into: string[], from: number, names: string[]): void {
  if (from !== into.length) throw new Error(`audit thread: names delta starts at ${from}, but ${into.length} are held`);
  for (const n of names) into.push(n);
}

/** The numbers and bytes of a message's outcome parts, written on the service thread (and then moved). */
export class Columns {
  nums: Float64Array<ArrayBuffer>;
  bytes: Uint8Array<ArrayBuffer>;
  private numsAt = 0;
  private bytesAt = 0;

  constructor(nums = 1 << 12, bytes = 1 << 16) {
    this.nums = new Float64Array(nums);
    this.bytes = new Uint8Array(bytes);
  }

  /** Appends `values`; returns where they start. */
  putNums(values: ArrayLike<number>): number {
    const at = this.numsAt;
    if (at + values.length > this.nums.length) this.nums = grown(this.nums, at + values.length, (n) => new Float64Array(n));
    const nums = this.nums;
    for (let k = 0; k < values.length; k++) nums[at + k] = values[k]!;
    this.numsAt = at + values.length;
    return at;
  }

  putBytes(values: Uint8Array): number {
    const at = this.bytesAt;
    if (at + values.length > this.bytes.length) this.bytes = grown(this.bytes, at + values.length, (n) => new Uint8Array(n));
    this.bytes.set(values, at);
    this.bytesAt = at + values.length;
    return at;
  }

  /** What was written, to move with a message; this starts afresh, sized for as much again. */
  take(): { nums: Float64Array<ArrayBuffer>; bytes: Uint8Array<ArrayBuffer> } {
    const out = { nums: this.nums, bytes: this.bytes };
    this.nums = new Float64Array(Math.max(1 << 12, this.numsAt));
    this.bytes = new Uint8Array(Math.max(1 << 16, this.bytesAt));
    this.numsAt = this.bytesAt = 0;
    return out;
  }
}

function grown<T extends Float64Array<ArrayBuffer> | Uint8Array<ArrayBuffer>>(a: T, need: number, make: (n: number) => T): T {
  const bigger = make(Math.max(2 * a.length, need));
  bigger.set(a as never);
  return bigger;
}

/** The outcome parts an audit thread writes, from what the service thread sent in a message with `nums` and `bytes`. */
export function partsFromWire(w: WireParts, names: NamesMirror, nums: Float64Array, bytes: Uint8Array): OutcomeParts {
  const c = w.candidates;
  const f = w.filtered;
  let candidates: OutcomeParts['candidates'];
  if (typeof c === 'string') candidates = c;
  else {
    const col = (k: number, n = c.n) => nums.subarray(c.at + k * c.n, c.at + k * c.n + n);
    const why = bytes.subarray(c.whyAt, c.whyAt + c.whyBytes);
    candidates = new PackedCandidatesData(names.get(c.names), col(0), col(1), col(2), col(3, c.sources), why, c.reasons);
  }
  return {
    candidates,
    filtered:
      typeof f === 'string'
        ? f
        : new FilteredJson(
            f.rules.map((rule, k) => ({ idx: nums[f.at + k]!, id: '', rule })),
            names.get(f.names),
          ),
    items: w.items,
    promotions: w.promotions,
  };
}
