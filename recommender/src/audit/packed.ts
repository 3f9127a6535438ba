/**
 * An outcome's candidates as the record stores them (format 2): columns of ids, categories and stock,
 * and the engine's scores and evidence (`Why`: source items, rates, similarities) packed as binary, base64
 * in `why`. The reason strings are not stored: they are a pure function of the evidence (engine/score.ts
 * `formatWhy`), so reading a record formats them exactly as the answer did. Packing 30 candidates costs a
 * few µs where formatting and serialising their reasons cost ≈ 80 µs, and the record is half the size.
 *
 * `why`, little-endian, per candidate in order:
 *   f64 score, u8 kind (0 none, 1 together, 2 substitute, 3 similar), then by kind:
 *   together:   u8 n, n × (u16 source, u8 cold, f64 own rate, f64 blend rate, f64 base rate)
 *   substitute: u16 source, f64 co-view lift (NaN: none), f64 price ratio
 *   similar:    u8 n, n × (u16 source, u16 via (0xffff: none), f64 similarity)
 * where a source is a position in `sources` (the ids the evidence names).
 */
import type { Candidate, Why } from '../engine/score.js';
import { formatWhy } from '../engine/score.js';
import type { Filtered } from '../rules/types.js';
import type { AuditCandidate, PackedCandidates } from './record.js';

const KIND = { none: 0, together: 1, substitute: 2, similar: 3 } as const;
const NO_VIA = 0xffff;
/** Bytes of one together reason, the widest. */
const REASON_BYTES = 27;

const s = JSON.stringify;
/** Reused for every outcome (they are built one at a time): a DataView writes faster than Buffer's methods. */
let scratch = new DataView(new ArrayBuffer(1 << 16));
/** The same bytes as a Buffer, to encode them from. */
let scratchBytes = Buffer.from(scratch.buffer);

/** What names catalogue indexes: a Catalog, or its columns. */
export interface Names {
  readonly ids: readonly string[];
  readonly categories: readonly string[];
}

/**
 * Names as the UTF-8 bytes of their JSON strings, end to end, per names array (catalogue ids and categories
 * never change at an index, and new ones are only appended): a name is copied into a line byte by byte,
 * where writing a string costs a call and an encoding each time.
 */
class QuotedNames {
  bytes = Buffer.allocUnsafe(1 << 12);
  /** Where name i starts; name i ends where i + 1 starts. */
  starts = new Uint32Array(1 << 8);
  count = 0;
  /** The longest name's bytes. */
  widest = 2;

  /** Makes sure names up to `names.length` are held. */
  cover(names: readonly string[]): void {
    if (this.count >= names.length) return;
    if (names.length + 1 > this.starts.length) {
      const bigger = new Uint32Array(2 * (names.length + 1));
      bigger.set(this.starts.subarray(0, this.count + 1));
      this.starts = bigger;
    }
    let at = this.starts[this.count]!;
    for (let i = this.count; i < names.length; i++) {
      const q = s(names[i]);
      if (at + 3 * q.length > this.bytes.length) {
        const bigger = Buffer.allocUnsafe(2 * (at + 3 * q.length) + (names.length - i) * 16);
        this.bytes.copy(bigger, 0, 0, at);
        this.bytes = bigger;
      }
      const n = this.bytes.write(q, at);
      if (n > this.widest) this.widest = n;
      at += n;
      this.starts[i + 1] = at;
    }
    this.count = names.length;
  }

  /** Copies name `i` into `buf` at `at`; returns where it ends. */
  put(i: number, buf: Buffer, at: number): number {
    const src = this.bytes;
    for (let j = this.starts[i]!, end = this.starts[i + 1]!; j < end; j++) buf[at++] = src[j]!;
    return at;
  }
}

const quotedOf = new WeakMap<readonly string[], QuotedNames>();

function quotedNames(names: readonly string[]): QuotedNames {
  let q = quotedOf.get(names);
  if (!q) quotedOf.set(names, (q = new QuotedNames()));
  q.cover(names);
  return q;
}

/** Writes the decimal digits of a stock (an integer ≥ 0; anything else as String() writes it); returns where it ends. */
function putNumber(x: number, buf: Buffer, at: number): number {
  if (x >= 0 && x < 0x80000000 && (x | 0) === x) {
    if (x < 10) {
      buf[at] = 0x30 + x;
      return at + 1;
    }
    let digits = 1;
    for (let t = x; t >= 10; t = (t / 10) | 0) digits++;
    for (let k = at + digits - 1; k >= at; k--) {
      buf[k] = 0x30 + (x % 10);
      x = (x / 10) | 0;
    }
    return at + digits;
  }
  return at + buf.write(String(x), at, 'latin1');
}

/**
 * An outcome's candidates as the record stores them, taken when the outcome is made: their catalogue
 * indexes, stock and category then, and their scores and evidence already packed (while the engine's
 * objects are fresh in the cache; the flush reads only this). Written as canonical JSON by `write`.
 */
export class PackedCandidatesData {
  private whyText: string | undefined;

  constructor(
    readonly names: Names,
    readonly idx: ArrayLike<number>,
    readonly stocks: ArrayLike<number>,
    readonly categories: ArrayLike<number>,
    /** Positions in the catalogue of the items the evidence names, in the order it names them. */
    readonly sources: ArrayLike<number>,
    /** The scores and evidence, packed (base64 only where they are written: the audit thread). */
    readonly whyBytes: Uint8Array,
    /** Reasons added as text, per candidate, when any has some. */
    readonly reasons: readonly (readonly string[])[] | undefined,
  ) {}

  /** The scores and evidence, packed, in base64. */
  get why(): string {
    return (this.whyText ??= Buffer.from(this.whyBytes.buffer, this.whyBytes.byteOffset, this.whyBytes.byteLength).toString('base64'));
  }

  /** At most how many bytes `write` writes. */
  bound(): number {
    const names = this.names;
    const ids = quotedNames(names.ids);
    const categories = quotedNames(names.categories);
    const n = this.idx.length;
    const reasons = this.reasons ? 3 * s(this.reasons).length + 12 : 0;
    return 64 + n * (ids.widest + categories.widest + 13) + this.sources.length * (ids.widest + 1) + 4 * Math.ceil(this.whyBytes.length / 3) + reasons;
  }

  /**
   * Writes the canonical JSON (keys in sorted order, as canonicalJson writes them; a test checks the two
   * agree) into `buf` at `at`, which has room for `bound()` bytes; returns where it ends.
   */
  write(buf: Buffer, at: number): number {
    const names = this.names;
    const ids = quotedNames(names.ids);
    const categories = quotedNames(names.categories);
    const n = this.idx.length;
    at += buf.write('{"category":[', at, 'latin1');
    for (let k = 0; k < n; k++) {
      if (k > 0) buf[at++] = 0x2c; // ,
      at = categories.put(this.categories[k]!, buf, at);
    }
    at += buf.write('],"id":[', at, 'latin1');
    for (let k = 0; k < n; k++) {
      if (k > 0) buf[at++] = 0x2c;
      at = ids.put(this.idx[k]!, buf, at);
    }
    buf[at++] = 0x5d; // ]
    if (this.reasons) at += buf.write(`,"reasons":${s(this.reasons)}`, at);
    at += buf.write(',"sources":[', at, 'latin1');
    for (let k = 0; k < this.sources.length; k++) {
      if (k > 0) buf[at++] = 0x2c;
      at = ids.put(this.sources[k]!, buf, at);
    }
    at += buf.write('],"stock":[', at, 'latin1');
    for (let k = 0; k < n; k++) {
      if (k > 0) buf[at++] = 0x2c;
      at = putNumber(this.stocks[k]!, buf, at);
    }
    at += buf.write('],"why":"', at, 'latin1');
    at += buf.write(this.why, at, 'latin1');
    at += buf.write('"}', at, 'latin1');
    return at;
  }

  /** The canonical JSON as text. */
  json(): string {
    const buf = Buffer.allocUnsafe(this.bound());
    return buf.toString('utf8', 0, this.write(buf, 0));
  }
}

/**
 * Packs candidates as they are now. `stocks` and `categories` (category indexes) are each candidate's when it
 * was made, by position in `candidates`, or by catalogue index when `byIndex` (the catalogue's own columns,
 * read now).
 */
export function packCandidates(
  candidates: readonly Candidate[],
  stocks: ArrayLike<number>,
  categories: ArrayLike<number>,
  names: Names,
  byIndex = false,
): PackedCandidatesData {
  const sources: number[] = [];
  const ref = (idx: number): number => {
    const at = sources.indexOf(idx);
    return at >= 0 ? at : sources.push(idx) - 1;
  };
  const n = candidates.length;
  const idx = new Array<number>(n);
  const stockCol = new Array<number>(n);
  const categoryCol = new Array<number>(n);
  let extra = false;
  let dv = scratch;
  let o = 0;
  for (let k = 0; k < n; k++) {
    const c = candidates[k]!;
    const i = c.idx;
    idx[k] = i;
    stockCol[k] = stocks[byIndex ? i : k]!;
    categoryCol[k] = categories[byIndex ? i : k]!;
    if (c.reasons.length > 0) extra = true;
    const w = c.why;
    const need = 10 + (w === undefined || w.kind === 'substitute' ? 1 : w.src.length) * REASON_BYTES;
    if (o + need > dv.byteLength) {
      const bigger = new DataView(new ArrayBuffer(2 * (o + need)));
      new Uint8Array(bigger.buffer).set(new Uint8Array(dv.buffer, 0, o));
      scratch = dv = bigger;
      scratchBytes = Buffer.from(bigger.buffer);
    }
    dv.setFloat64(o, c.score, true);
    o += 8;
    if (w === undefined) dv.setUint8(o++, KIND.none);
    else if (w.kind === 'together') {
      dv.setUint8(o++, KIND.together);
      dv.setUint8(o++, w.src.length);
      for (let r = 0; r < w.src.length; r++) {
        dv.setUint16(o, ref(w.src[r]!), true);
        dv.setUint8(o + 2, w.cold[r]!);
        dv.setFloat64(o + 3, w.own[r]!, true);
        dv.setFloat64(o + 11, w.blend[r]!, true);
        dv.setFloat64(o + 19, w.base[r]!, true);
        o += 27;
      }
    } else if (w.kind === 'substitute') {
      dv.setUint8(o++, KIND.substitute);
      dv.setUint16(o, ref(w.of), true);
      dv.setFloat64(o + 2, w.coViewLift ?? NaN, true);
      dv.setFloat64(o + 10, w.priceRatio, true);
      o += 18;
    } else {
      dv.setUint8(o++, KIND.similar);
      dv.setUint8(o++, w.src.length);
      for (let r = 0; r < w.src.length; r++) {
        dv.setUint16(o, ref(w.src[r]!), true);
        dv.setUint16(o + 2, w.via[r]! >= 0 ? ref(w.via[r]!) : NO_VIA, true);
        dv.setFloat64(o + 4, w.sim[r]!, true);
        o += 12;
      }
    }
  }
  // A copy (the scratch is reused): small ones come from Buffer's pool.
  const why = Buffer.from(scratchBytes.subarray(0, o));
  return new PackedCandidatesData(names, idx, stockCol, categoryCol, sources, why, extra ? candidates.map((c) => c.reasons) : undefined);
}

/**
 * The canonical JSON of packed candidates (keys in sorted order, as canonicalJson writes them; a test
 * checks the two agree). `stocks` and `categories` (category indexes) are each candidate's when it was made.
 */
export function packedCandidatesJson(candidates: readonly Candidate[], stocks: ArrayLike<number>, categories: ArrayLike<number>, names: Names): string {
  return packCandidates(candidates, stocks, categories, names).json();
}

/** Rule names as the UTF-8 bytes of their JSON strings (rule names are few; categories make a few more). */
const ruleBytes = new Map<string, Buffer>();

function ruleOf(rule: string): Buffer {
  let b = ruleBytes.get(rule);
  if (b === undefined) {
    b = Buffer.from(s(rule));
    if (ruleBytes.size < 10_000) ruleBytes.set(rule, b);
  }
  return b;
}

/** The items the rules removed, `[{id, reason}, …]`, as canonical JSON written into a buffer. */
export class FilteredJson {
  constructor(
    readonly filtered: readonly Filtered[],
    readonly names: Names,
  ) {}

  bound(): number {
    const ids = quotedNames(this.names.ids);
    let n = 2;
    for (const f of this.filtered) n += 21 + ids.widest + 6 * f.rule.length; // a rule's JSON: ≤ 6 bytes per UTF-16 unit, and quotes
    return n;
  }

  write(buf: Buffer, at: number): number {
    const ids = quotedNames(this.names.ids);
    const filtered = this.filtered;
    buf[at++] = 0x5b; // [
    for (let k = 0; k < filtered.length; k++) {
      const f = filtered[k]!;
      at += buf.write(k === 0 ? '{"id":' : ',{"id":', at, 'latin1');
      at = ids.put(f.idx, buf, at);
      at += buf.write(',"reason":', at, 'latin1');
      const rule = ruleOf(f.rule);
      for (let j = 0; j < rule.length; j++) buf[at++] = rule[j]!;
      buf[at++] = 0x7d; // }
    }
    buf[at++] = 0x5d; // ]
    return at;
  }
}

/** The canonical JSON of the items the rules removed, `[{id, reason}, …]`. */
export function filteredJson(filtered: readonly Filtered[], names: Names): string {
  const f = new FilteredJson(filtered, names);
  const buf = Buffer.allocUnsafe(f.bound());
  return buf.toString('utf8', 0, f.write(buf, 0));
}

/** The candidates of a packed record, with their reasons formatted as they were shown. */
export function unpackCandidates(p: PackedCandidates): AuditCandidate[] {
  const buf = Buffer.from(p.why, 'base64');
  const out: AuditCandidate[] = [];
  let o = 0;
  const f64 = (): number => {
    const x = buf.readDoubleLE(o);
    o += 8;
    return x;
  };
  const u16 = (): number => {
    const x = buf.readUInt16LE(o);
    o += 2;
    return x;
  };
  const u8 = (): number => buf.readUInt8(o++);
  for (let k = 0; k < p.id.length; k++) {
    const score = f64();
    const kind = u8();
    let why: Why | undefined;
    if (kind === KIND.together) {
      const w: Why = { kind: 'together', src: [], own: [], blend: [], base: [], cold: [] };
      for (let r = 0, n = u8(); r < n; r++) {
        w.src.push(u16());
        w.cold.push(u8());
        w.own.push(f64());
        w.blend.push(f64());
        w.base.push(f64());
      }
      why = w;
    } else if (kind === KIND.substitute) {
      const of = u16();
      const lift = f64();
      why = { kind: 'substitute', of, coViewLift: Number.isNaN(lift) ? undefined : lift, priceRatio: f64() };
    } else if (kind === KIND.similar) {
      const w: Why = { kind: 'similar', src: [], sim: [], via: [] };
      for (let r = 0, n = u8(); r < n; r++) {
        w.src.push(u16());
        const via = u16();
        w.via.push(via === NO_VIA ? -1 : via);
        w.sim.push(f64());
      }
      why = w;
    } else if (kind !== KIND.none) throw new RangeError(`packed candidate ${k} has an unknown kind ${kind}`);
    const extra = p.reasons?.[k] ?? [];
    const reasons = why ? [...formatWhy(why, p.sources), ...extra] : extra;
    out.push({ id: p.id[k]!, score, reasons, stock: p.stock[k]!, category: p.category[k]! });
  }
  if (o !== buf.length) throw new RangeError(`packed candidates hold ${buf.length - o} bytes more than their ${p.id.length} candidates`);
  return out;
}
