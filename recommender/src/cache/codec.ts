/**
 * A candidate list as the shared (Redis) tier keeps it: JSON with item ids, because catalogue indexes
 * differ between pods, and the time it was computed (see `TieredCache`). Decoding maps the ids back to
 * this pod's indexes; a list naming an item this pod does not know is treated as a miss.
 */
import type { Catalog } from '../engine/catalog.js';
import type { Candidate, Scored, Why } from '../engine/score.js';
import type { Codec } from './tiered.js';

type WireWhy =
  | { k: 't'; src: string[]; own: number[]; blend: number[]; base: number[]; cold: number[] }
  | { k: 's'; of: string; coViewLift?: number; priceRatio: number }
  | { k: 'm'; src: string[]; sim: number[]; via: (string | null)[] };

interface WireCandidate {
  id: string;
  score: number;
  reasons: string[];
  why?: WireWhy;
}

interface Wire {
  /** Epoch ms when the list was computed. */
  at: number;
  notes: string[];
  candidates: WireCandidate[];
}

function whyOut(w: Why, catalog: Catalog): WireWhy {
  const id = (i: number): string => catalog.id(i);
  switch (w.kind) {
    case 'together':
      return { k: 't', src: w.src.map(id), own: w.own, blend: w.blend, base: w.base, cold: w.cold };
    case 'substitute':
      return { k: 's', of: id(w.of), ...(w.coViewLift === undefined ? {} : { coViewLift: w.coViewLift }), priceRatio: w.priceRatio };
    case 'similar':
      return { k: 'm', src: w.src.map(id), sim: w.sim, via: w.via.map((v) => (v < 0 ? null : id(v))) };
  }
}

export function encodeScored(s: Scored, catalog: Catalog, at: number): string {
  const wire: Wire = {
    at,
    notes: s.notes,
    candidates: s.candidates.map((c) => ({ id: catalog.id(c.idx), score: c.score, reasons: c.reasons, ...(c.why ? { why: whyOut(c.why, catalog) } : {}) })),
  };
  return JSON.stringify(wire);
}

class UnknownItem extends Error {}

function whyIn(w: WireWhy, idx: (id: string) => number): Why {
  switch (w.k) {
    case 't':
      return { kind: 'together', src: w.src.map(idx), own: w.own, blend: w.blend, base: w.base, cold: w.cold };
    case 's':
      return { kind: 'substitute', of: idx(w.of), coViewLift: w.coViewLift, priceRatio: w.priceRatio };
    case 'm':
      return { kind: 'similar', src: w.src.map(idx), sim: w.sim, via: w.via.map((v) => (v === null ? -1 : idx(v))) };
  }
}

/** The list and when it was computed, or undefined if the text is not a list or names an item unknown here. */
export function decodeScored(text: string, catalog: Catalog): { scored: Scored; at: number } | undefined {
  const idx = (id: string): number => {
    const i = catalog.idx(id);
    if (i === undefined) throw new UnknownItem(id);
    return i;
  };
  try {
    const wire = JSON.parse(text) as Wire;
    if (typeof wire.at !== 'number' || !Array.isArray(wire.candidates) || !Array.isArray(wire.notes)) return undefined;
    const candidates = wire.candidates.map((c): Candidate => ({ idx: idx(c.id), score: c.score, reasons: c.reasons, ...(c.why ? { why: whyIn(c.why, idx) } : {}) }));
    return { scored: { candidates, notes: wire.notes }, at: wire.at };
  } catch (err) {
    if (err instanceof UnknownItem || err instanceof SyntaxError || err instanceof TypeError) return undefined;
    throw err;
  }
}

/** The codec of a cached value built around an engine list (`wrap` makes the value from a decoded list). */
export function scoredCodec<V extends { scored: Scored }>(catalog: Catalog, wrap: (scored: Scored) => V): Codec<V> {
  return {
    encode: (value, at) => encodeScored(value.scored, catalog, at),
    decode: (text) => {
      const d = decodeScored(text, catalog);
      return d && { value: wrap(d.scored), at: d.at };
    },
  };
}
