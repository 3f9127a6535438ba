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

/** Names as JSON strings, per names array and position (catalogue ids and categories never change at an index). */
const quotedOf = new WeakMap<readonly string[], string[]>();

function quoted(names: readonly string[]): readonly string[] {
  let q = quotedOf.get(names);
  if (!q) quotedOf.set(names, (q = []));
  for (let i = q.length; i < names.length; i++) q.push(s(names[i]));
  return q;
}

/** What names catalogue indexes: a Catalog, or its columns. */
export interface Names {
  readonly ids: readonly string[];
  readonly categories: readonly string[];
}

/**
 * The canonical JSON of packed candidates (keys in sorted order, as canonicalJson writes them; a test
 * checks the two agree). `stocks` and `categories` (category indexes) are each candidate's when it was made.
 */
export function packedCandidatesJson(candidates: readonly Candidate[], stocks: ArrayLike<number>, categories: ArrayLike<number>, names: Names): string {
  const ids = names.ids;
  const idJson = quoted(ids);
  const categoryJson = quoted(names.categories);
  const sources: number[] = [];
  const ref = (idx: number): number => {
    const at = sources.indexOf(idx);
    return at >= 0 ? at : sources.push(idx) - 1;
  };
  const n = candidates.length;
  const idCol = new Array<string>(n);
  const categoryCol = new Array<string>(n);
  const stockCol = new Array<number>(n);
  let extra = false;
  let dv = scratch;
  let o = 0;
  for (let k = 0; k < n; k++) {
    const c = candidates[k]!;
    idCol[k] = idJson[c.idx]!;
    categoryCol[k] = categoryJson[categories[k]!]!;
    stockCol[k] = stocks[k]!;
    if (c.reasons.length > 0) extra = true;
    const w = c.why;
    const need = 10 + (w === undefined || w.kind === 'substitute' ? 1 : w.src.length) * REASON_BYTES;
    if (o + need > dv.byteLength) {
      const bigger = new DataView(new ArrayBuffer(2 * (o + need)));
      new Uint8Array(bigger.buffer).set(new Uint8Array(dv.buffer, 0, o));
      scratch = dv = bigger;
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
  const reasons = extra ? `,"reasons":${s(candidates.map((c) => c.reasons))}` : '';
  const why = Buffer.from(dv.buffer, 0, o).toString('base64');
  return (
    `{"category":[${categoryCol.join(',')}],"id":[${idCol.join(',')}]${reasons},"sources":${s(sources.map((i) => ids[i]))},` +
    `"stock":[${stockCol.join(',')}],"why":"${why}"}`
  );
}

const ruleJson = new Map<string, string>();

/** The canonical JSON of the items the rules removed, `[{id, reason}, …]`. */
export function filteredJson(filtered: readonly Filtered[], names: Names): string {
  const idJson = quoted(names.ids);
  const out = new Array<string>(filtered.length);
  for (let k = 0; k < filtered.length; k++) {
    const f = filtered[k]!;
    let rule = ruleJson.get(f.rule);
    if (rule === undefined) {
      rule = s(f.rule);
      if (ruleJson.size < 10_000) ruleJson.set(f.rule, rule); // rule names are few (categories make a few more)
    }
    out[k] = `{"id":${idJson[f.idx]!},"reason":${rule}}`;
  }
  return `[${out.join(',')}]`;
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
