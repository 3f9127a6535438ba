import { describe, expect, it } from 'vitest';
import { decodeScored, encodeScored } from '../src/cache/codec.js';
import { candidateKey } from '../src/cache/key.js';
import { Catalog } from '../src/engine/catalog.js';
import type { Scored } from '../src/engine/score.js';
import { CAMERA_SHOP } from './fixtures.js';

const here = Catalog.from(CAMERA_SHOP);
/** The same items in another order: another pod's catalogue indexes. */
const there = Catalog.from([...CAMERA_SHOP].reverse());
const idx = (c: Catalog, id: string): number => c.idx(id)!;

function list(c: Catalog): Scored {
  return {
    notes: ['fallback:popularity unknown_user'],
    candidates: [
      { idx: idx(c, 'card-1'), score: 0.123456789, reasons: [], why: { kind: 'together', src: [idx(c, 'cam-1')], own: [0.14], blend: [0.095], base: [0.012], cold: [0] } },
      { idx: idx(c, 'cam-2'), score: 0.5, reasons: ['low_stock:2'], why: { kind: 'substitute', of: idx(c, 'cam-1'), coViewLift: undefined, priceRatio: 1.3 } },
      { idx: idx(c, 'bag-1'), score: 1 / 3, reasons: [], why: { kind: 'similar', src: [idx(c, 'cam-1'), idx(c, 'tri-1')], sim: [0.5, 0.25], via: [-1, idx(c, 'cam-6')] } },
      { idx: idx(c, 'mug-1'), score: 0.01, reasons: ['popular'] },
    ],
  };
}

describe('the shared-tier codec', () => {
  it('When a list is encoded on one pod and decoded on another, Then it names the same items and scores there', () => {
    const text = encodeScored(list(here), here, 1234);
    expect(text).not.toMatch(/"idx"/);
    const decoded = decodeScored(text, there);
    expect(decoded).toEqual({ scored: list(there), at: 1234 });
  });

  it('When a list names an item this pod does not know, or is not a list, Then it decodes to nothing (a miss)', () => {
    const text = encodeScored(list(here), here, 1).replace('"bag-1"', '"bag-404"');
    expect(decodeScored(text, there)).toBeUndefined();
    expect(decodeScored('{"oops"', there)).toBeUndefined();
    expect(decodeScored('{"at":1}', there)).toBeUndefined();
  });
});

describe('the candidate key', () => {
  it.each([
    [{ intent: 'cross-sell', items: ['b', 'a'], user: undefined, depth: 20 }, 'cross-sell:20:a,b'],
    [{ intent: 'up-sell', items: ['a'], user: 'u 1', depth: 30 }, 'up-sell:30:a u 1'],
    [{ intent: 'personal', items: [], user: 'u', depth: 20, engine: 'b' }, 'personal.b:20: u'],
  ] as const)('When the context is %j, Then the key is %s', (ctx, key) => {
    expect(candidateKey(ctx)).toBe(key);
  });

  it('When an engine name could be confused with the rest of the key, Then building the key fails', () => {
    expect(() => candidateKey({ intent: 'personal', items: [], user: undefined, depth: 1, engine: 'a:b' })).toThrow(/engine name 'a:b'/);
  });
});
