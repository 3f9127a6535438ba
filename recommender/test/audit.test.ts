import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson } from '../src/audit/canonical.js';
import { Chain, ChainVerifier, GENESIS } from '../src/audit/chain.js';
import { FileSink, sweepAudit } from '../src/audit/file-sink.js';
import { decisionRecord, decisionText, type DecisionInputs } from '../src/audit/decision.js';
import { Outcome, outcomeBodyJson, outcomeDigest, outcomeRecordJson, type OutcomeParts } from '../src/audit/outcome.js';
import { itemsJson } from '../src/items-json.js';
import { filteredJson, packedCandidatesJson, unpackCandidates } from '../src/audit/packed.js';
import type { AuditRecord, DecisionRecord, PackedCandidates } from '../src/audit/record.js';
import { formatWhy, type Candidate } from '../src/engine/score.js';
import { decisionsOf, findDecision, redactUsers } from '../src/audit/search.js';
import { uuidV7Time } from '../src/recommendation-id.js';
import { Lines, StreamSink } from '../src/audit/sink.js';
import { verifyFiles } from '../src/audit/verify.js';
import { decisionInputs } from './fixtures.js';

const ALICE = 'k1.' + 'A'.repeat(43);
const BOB = 'k1.' + 'B'.repeat(43);

/** Catalogue ids by index, for the engine candidates below. */
const IDS = ['card-1', 'cam-1', 'bag-"1', 'tri-ü', 'lens-1'];
const CARD: Candidate = { idx: 0, score: 0.5, reasons: [], why: { kind: 'together', src: [1], own: [0.3], blend: [0.2], base: [0.01], cold: [0] } };
const CARD_REASON = 'bought_together:cam-1 with=30% with_similar=20% base=1%';

/** The outcome every test decision shares. */
const OUTCOME_PARTS: OutcomeParts = {
  candidates: packedCandidatesJson([CARD], [3], [0], { ids: IDS, categories: ['Memory Cards'] }),
  filtered: '[]',
  items: itemsJson([{ id: 'card-1', reasons: [CARD_REASON], score: 0.5 }]),
  promotions: '[]',
};
const OUTCOME = new Outcome(() => OUTCOME_PARTS);

let n = 0;
/** A decision at `time` (its id a UUIDv7 of that time), as the service queues it and as the record it becomes. */
function decision(user: string | null, time = Date.parse('2026-11-25T10:00:00Z')) {
  const hex = time.toString(16).padStart(12, '0');
  const inputs = decisionInputs(`${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-${(n++).toString(16).padStart(12, '0')}`, time, user);
  return { decision: inputs, outcome: OUTCOME, user, rec: decisionRecord(inputs, OUTCOME.digest) };
}

/** The lines a writer makes of `entries`: the shared outcome first, then the records. */
function chainOf(entries: { rec: AuditRecord; user: string | null }[]): string[] {
  const chain = new Chain();
  return [chain.line(JSON.parse(outcomeRecordJson(OUTCOME_PARTS, OUTCOME.digest)) as AuditRecord, null), ...entries.map((e) => chain.line(e.rec, e.user))].map((l) => l.trimEnd());
}

function verify(lines: string[]): string[] {
  const v = new ChainVerifier();
  return lines.flatMap((l, i) => v.check(l, i + 1).map((p) => `line ${p.line} ${p.problem}`));
}

describe('canonical JSON', () => {
  it('When keys come in any order, Then the text is the same, and parsing and serialising again changes nothing', () => {
    const a = canonicalJson({ b: 1, a: { d: [1, 'x', null], c: true }, u: undefined });
    expect(a).toBe('{"a":{"c":true,"d":[1,"x",null]},"b":1}');
    expect(canonicalJson({ a: { c: true, d: [1, 'x', null] }, b: 1 })).toBe(a);
    expect(canonicalJson(JSON.parse(a))).toBe(a);
  });

  it('When a number is not finite, Then it is refused rather than written as null', () => {
    expect(() => canonicalJson({ score: NaN })).toThrow(/NaN/);
  });

  it("When an outcome is serialised by hand (the fast path), Then it is byte for byte the generic canonical JSON", () => {
    const names = { ids: IDS, categories: ['C"1', 'ü\n', 'C', 'D'] };
    const packed = packedCandidatesJson(MIXED, [0, 7, 2, 5, 1], [0, 1, 2, 2, 3], names);
    const filtered = filteredJson([{ idx: 2, id: IDS[2]!, rule: 'out_of_stock' }, { idx: 3, id: IDS[3]!, rule: 'blocked_category:"ü"' }], names);
    const rest = { items: [{ id: 'z', reasons: ['x', 'ü\n'], score: 1e-7 }], promotions: ['p1'] };
    const parts = { candidates: packed, filtered, items: itemsJson(rest.items), promotions: JSON.stringify(rest.promotions) };
    const body = outcomeBodyJson(parts);
    expect(body).toBe(canonicalJson({ candidates: JSON.parse(packed) as unknown, filtered: JSON.parse(filtered) as unknown, ...rest }));
    expect(JSON.parse(filtered)).toEqual([{ id: 'bag-"1', reason: 'out_of_stock' }, { id: 'tri-ü', reason: 'blocked_category:"ü"' }]);
    const digest = outcomeDigest(body);
    const rec = outcomeRecordJson(parts, digest);
    expect(canonicalJson(JSON.parse(rec))).toBe(rec);
    // The sink writes the line in place, byte for byte the line of the canonical record.
    const lines = new Lines(Buffer.alloc(16));
    const seen: string[] = [];
    expect(lines.outcome(new Chain({ seq: 7, prev: 'f'.repeat(64) }), parts, (d) => seen.push(d) > 0)).toBe(digest);
    expect(lines.outcome(new Chain(), parts, () => false)).toBe(digest);
    expect(seen).toEqual([digest]);
    expect(lines.bytes().toString('utf8')).toBe(new Chain({ seq: 7, prev: 'f'.repeat(64) }).line(JSON.parse(rec) as AuditRecord, null));
    const inputs: DecisionInputs = {
      id: '019abb00-0000-7000-8000-000000000001', time: Date.parse('2026-11-25T10:00:00Z'), intent: 'up-sell', items: ['a"b', 'ü'], limit: 3, depth: 16,
      user: ALICE, keyId: 'k1', optedOut: true, modelVersion: 'v1', modelSha256: 'ab'.repeat(32), configVersion: 'c0ffee', experiment: 'e',
      variant: 'b', onlineGeneration: 2, notes: ['unknown_item:x'],
    };
    for (const d of [inputs, { ...inputs, user: undefined, experiment: undefined, notes: undefined }]) {
      expect(decisionText(d, OUTCOME.digest)).toBe(canonicalJson(decisionRecord(d, OUTCOME.digest)));
    }
    // A decision's line is written in place too: the same bytes as the chain's line, and the chain moves on alike.
    for (const [seq, user] of [[0, null], [9, ALICE], [123_456_789_012, 'k1."ü"']] as const) {
      const start = { seq, prev: seq === 0 ? GENESIS : 'e'.repeat(64) };
      const text = decisionText(inputs, OUTCOME.digest);
      const [inPlace, reference] = [new Chain(start), new Chain(start)];
      const out = new Lines(Buffer.alloc(8));
      out.record(inPlace, text, user);
      out.record(inPlace, text, null);
      expect(out.bytes().toString('utf8')).toBe(reference.lineOf(text, user) + reference.lineOf(text, null));
      expect([inPlace.seq, inPlace.prev]).toEqual([reference.seq, reference.prev]);
    }
  });
});

/** One candidate of every kind of evidence, with reasons added as text too. */
const MIXED: Candidate[] = [
  CARD,
  { idx: 2, score: 0.1 + 0.2, reasons: ['low_stock:1'], why: { kind: 'together', src: [1, 3], own: [0.012345, 1e-7], blend: [0.5, 0.0001], base: [0.002, 1e-9], cold: [0, 1] } },
  { idx: 3, score: 1e-7, reasons: [], why: { kind: 'substitute', of: 4, coViewLift: 12.5, priceRatio: 1.234 } },
  { idx: 4, score: 2, reasons: [], why: { kind: 'substitute', of: 0, coViewLift: undefined, priceRatio: 1.5 } },
  { idx: 1, score: 0.25, reasons: ['popular'] },
];

describe('packed candidates', () => {
  it('When candidates are packed and read back, Then each has its id, score, stock, category and the reasons the answer showed', () => {
    const similar: Candidate = { idx: 4, score: 0.75, reasons: [], why: { kind: 'similar', src: [0, 2], sim: [0.91, 1 / 3], via: [-1, 3] } };
    const candidates = [...MIXED, similar];
    const stocks = [3, 0, 9, 4, 1, 2];
    const categories = ['Memory Cards', 'Bags', 'Tripods', 'Lenses', 'Cameras'];
    const of = [0, 1, 2, 3, 4, 3];
    const packed = JSON.parse(packedCandidatesJson(candidates, stocks, of, { ids: IDS, categories })) as PackedCandidates;
    expect(unpackCandidates(packed)).toEqual(
      candidates.map((c, k) => ({ id: IDS[c.idx], score: c.score, reasons: [...(c.why ? formatWhy(c.why, IDS) : []), ...c.reasons], stock: stocks[k], category: categories[of[k]!] })),
    );
    expect(unpackCandidates(packed)[1]!.reasons).toEqual([
      'bought_together:cam-1 with=1.2% with_similar=50% base=0.2%',
      'cold_start:similar_to:tri-ü bought_together with=0.00001% with_similar=0.01% base=1e-7%',
      'low_stock:1',
    ]);
  });

  it('When an outcome holds more evidence than the packing buffer, Then it grows and every candidate reads back', () => {
    const many: Candidate[] = Array.from({ length: 3000 }, (_, k) => ({ ...MIXED[1]!, idx: k % IDS.length, score: k }));
    const packed = JSON.parse(packedCandidatesJson(many, many.map(() => 1), many.map(() => 0), { ids: IDS, categories: ['C'] })) as PackedCandidates;
    expect(Buffer.from(packed.why, 'base64').length).toBeGreaterThan(1 << 16);
    expect(unpackCandidates(packed).map((c) => c.score)).toEqual(many.map((c) => c.score));
  });

  it('When the catalogue grows after candidates were written, and stocks are any number, Then the text is still the canonical JSON', () => {
    const ids = [...IDS];
    const categories = ['C"1', 'ü\n'];
    const names = { ids, categories };
    const canonical = (c: readonly Candidate[], stocks: number[], of: number[]) => {
      const text = packedCandidatesJson(c, stocks, of, names);
      expect(text).toBe(canonicalJson(JSON.parse(text)));
      return JSON.parse(text) as PackedCandidates;
    };
    expect(canonical(MIXED, [0, 9, 10, 123_456_789, 2 ** 31], [0, 1, 0, 1, 1]).stock).toEqual([0, 9, 10, 123_456_789, 2 ** 31]);
    for (let k = 0; k < 300; k++) ids.push(`new-${k}-${'é'.repeat(k % 7)}`); // grown past what the first write held
    categories.push('Zoom "lenses"');
    const grown: Candidate = { idx: ids.length - 1, score: 0.5, reasons: [], why: { kind: 'together', src: [ids.length - 2], own: [0.3], blend: [0.2], base: [0.01], cold: [0] } };
    const packed = canonical([grown, ...MIXED], [1e21, 1.5, 0, 0, 0, 0], [2, 0, 1, 0, 1, 0]);
    expect(packed.id[0]).toBe(ids.at(-1));
    expect(packed.sources).toEqual([ids.at(-2), 'cam-1', 'tri-ü', 'lens-1', 'card-1']);
    expect(packed.category[0]).toBe('Zoom "lenses"');
  });

  it('When the packed evidence is cut short or has bytes to spare, Then reading it fails rather than inventing candidates', () => {
    const packed = JSON.parse(packedCandidatesJson(MIXED, [1, 1, 1, 1, 1], [0, 0, 0, 0, 0], { ids: IDS, categories: ['C'] })) as PackedCandidates;
    const bytes = Buffer.from(packed.why, 'base64');
    expect(() => unpackCandidates({ ...packed, why: bytes.subarray(0, bytes.length - 3).toString('base64') })).toThrow(RangeError);
    expect(() => unpackCandidates({ ...packed, why: Buffer.concat([bytes, Buffer.alloc(1)]).toString('base64') })).toThrow(/bytes more than/);
  });
});

describe('hash chain', () => {
  const lines = chainOf([decision(ALICE), decision(BOB), decision(null), decision(ALICE), decision(BOB)]);

  it('When nothing was touched, Then every line verifies', () => {
    expect(verify(lines)).toEqual([]);
  });

  it('When a line is edited, Then the verifier names that line', () => {
    const edited = [...lines];
    edited[2] = edited[2]!.replace('"limit":3', '"limit":4');
    expect(verify(edited)).toEqual(['line 3 was edited: its hash does not match its content']);
  });

  it('When a line is edited and its hash recomputed, Then the line after it no longer chains and the edit is named', () => {
    const forged = lines.map((l) => JSON.parse(l) as { seq: number; prev: string; rec: AuditRecord; hash: string });
    (forged[1]!.rec as DecisionRecord).context.limit = 9;
    const recomputed = new Chain({ seq: forged[1]!.seq, prev: forged[1]!.prev }).line(forged[1]!.rec, ALICE).trimEnd();
    const edited = [...lines];
    edited[1] = recomputed;
    expect(verify(edited)).toEqual(['line 3 does not chain to line 2: line 2 was edited and its hash recomputed']);
  });

  it('When a line is deleted, Then the verifier says how many lines are missing before which line', () => {
    const deleted = [...lines.slice(0, 2), ...lines.slice(3)];
    expect(verify(deleted)).toEqual(['line 3 follows seq 1 with seq 3: 1 line was deleted before it']);
  });

  it('When a forged line is inserted, Then the verifier names the inserted line', () => {
    const forged = new Chain({ seq: 2, prev: (JSON.parse(lines[1]!) as { hash: string }).hash }).line(decision(ALICE).rec, ALICE).trimEnd();
    const inserted = [...lines.slice(0, 2), forged, ...lines.slice(2)];
    expect(verify(inserted)).toEqual(['line 4 does not chain to line 3 but to line 2: line 3 was inserted']);
  });

  it('When the user of a line is replaced by another pseudonym, Then the line fails its subject digest', () => {
    const swapped = [...lines];
    swapped[1] = swapped[1]!.replace(ALICE, BOB);
    expect(verify(swapped)).toEqual(['line 2 was edited: its user does not match the subject digest']);
  });

  it("When an outcome is edited, or its line deleted, Then the outcome or the decisions that refer to it say so", () => {
    const edited = [...lines];
    edited[0] = edited[0]!.replace('"stock":[3]', '"stock":[30]');
    // The line's hash covers the outcome's header; its digest covers the body.
    expect(verify(edited)).toEqual(['line 1 was edited: its outcome does not match its digest']);
    const gone = verify(lines.slice(1));
    expect(gone).toHaveLength(5);
    expect(gone[0]).toMatch(/^line 1 refers to outcome [0-9a-f]{12}… which is not earlier in its file/);
  });

  it('When a user is redacted (set to null, padded with spaces), Then the chain still verifies and counts it', () => {
    const redacted = lines.map((l) => l.replace(`"user":"${ALICE}"`, '"user":null'.padEnd(`"user":"${ALICE}"`.length, ' ')));
    expect(redacted.map((l) => l.length)).toEqual(lines.map((l) => l.length));
    const v = new ChainVerifier();
    expect(redacted.flatMap((l, i) => v.check(l, i + 1))).toEqual([]);
    expect(v.redacted).toBe(2);
  });
});

describe('file sink', () => {
  let root: string;
  let clock: number;
  const counts = { written: 0, dropped: 0, errors: [] as string[] };
  const events = {
    written: (k: number) => (counts.written += k),
    dropped: (k: number) => (counts.dropped += k),
    error: (e: Error) => counts.errors.push(e.message),
  };

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'tandem-audit-'));
    clock = Date.parse('2026-11-25T10:00:00Z');
    Object.assign(counts, { written: 0, dropped: 0, errors: [] });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const openSink = (extra: Partial<Parameters<typeof FileSink.open>[0]> = {}) =>
    FileSink.open({ root, writer: 'pod-a', retentionDays: 30, clock: () => clock, events, ...extra });

  it('When records are written, Then they land as JSON Lines in the writer directory and the files verify', async () => {
    const sink = await openSink();
    for (let i = 0; i < 5; i++) sink.write(decision(i % 2 ? ALICE : null));
    await sink.close();
    const files = await readdir(join(root, 'pod-a'));
    expect(files).toHaveLength(1);
    const text = await readFile(join(root, 'pod-a', files[0]!), 'utf8');
    expect(text.trimEnd().split('\n').map((l) => (JSON.parse(l) as { rec: AuditRecord }).rec.type)).toEqual(['open', 'outcome', 'decision', 'decision', 'decision', 'decision', 'decision']);
    expect(counts.written).toBe(5);
    expect(await verifyFiles([root])).toMatchObject({ ok: true, records: 7, files: 1 });
  });

  it('When a batch is larger than the buffer it is encoded in, Then it is written whole and verifies', async () => {
    const sink = await openSink();
    for (let i = 0; i < 1500; i++) sink.write(decision(i % 2 ? ALICE : BOB));
    await sink.close();
    expect(counts.written).toBe(1500);
    const [file] = await readdir(join(root, 'pod-a'));
    expect((await readFile(join(root, 'pod-a', file!))).length).toBeGreaterThan(1 << 20);
    expect(await verifyFiles([root])).toMatchObject({ ok: true, records: 1502 });
  });

  it('When a file would pass the size limit, or gets older than the rotation age, Then a new file continues the chain', async () => {
    const sink = await openSink({ maxFileBytes: 3000 });
    for (let i = 0; i < 6; i++) {
      sink.write(decision(ALICE));
      await sink.flush();
    }
    const bySize = (await readdir(join(root, 'pod-a'))).length;
    expect(bySize).toBeGreaterThan(1);
    clock += 3_600_000;
    sink.write(decision(BOB));
    await sink.close();
    expect((await readdir(join(root, 'pod-a'))).length).toBe(bySize + 1);
    // Each file opens with its open record and the outcome its decisions refer to.
    expect(await verifyFiles([root])).toMatchObject({ ok: true, records: 7 + 2 * (bySize + 1) });
  });

  it('When a whole file is removed from the middle, Then verification says lines were deleted before the next file', async () => {
    const sink = await openSink({ maxFileBytes: 1000 });
    for (let i = 0; i < 6; i++) {
      sink.write(decision(ALICE));
      await sink.flush();
    }
    await sink.close();
    const files = (await readdir(join(root, 'pod-a'))).sort();
    expect(files.length).toBeGreaterThanOrEqual(3);
    await rm(join(root, 'pod-a', files[1]!));
    const r = await verifyFiles([root]);
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([{ file: join(root, 'pod-a', files[2]!), line: 1, problem: expect.stringMatching(/lines? (was|were) deleted before it/) }]);
  });

  it('When the writer restarts, Then it continues its chain from its newest file, cutting off a torn last line', async () => {
    const first = await openSink();
    first.write(decision(ALICE));
    await first.close();
    const [file] = await readdir(join(root, 'pod-a'));
    await writeFile(join(root, 'pod-a', file!), '{"hash":"torn', { flag: 'a' });
    clock += 1000;
    const second = await openSink();
    second.write(decision(BOB));
    await second.close();
    expect(await verifyFiles([root])).toMatchObject({ ok: true, records: 6, files: 2 });
  });

  it('When the queue is full, Then records are dropped and counted, and a gap record in the chain says how many', async () => {
    const sink = await openSink({ maxPending: 2 });
    for (let i = 0; i < 5; i++) sink.write(decision(ALICE));
    expect(counts.dropped).toBe(3);
    await sink.flush();
    sink.write(decision(BOB));
    await sink.close();
    const [file] = await readdir(join(root, 'pod-a'));
    const recs = (await readFile(join(root, 'pod-a', file!), 'utf8')).trimEnd().split('\n').map((l) => (JSON.parse(l) as { rec: AuditRecord }).rec);
    expect(recs.map((r) => r.type)).toEqual(['open', 'gap', 'outcome', 'decision', 'decision', 'decision']);
    expect(recs[1]).toMatchObject({ type: 'gap', dropped: 3 });
    expect(await verifyFiles([root])).toMatchObject({ ok: true });
  });

  it('When the audit directory cannot be written, Then write() still returns at once, the failure is counted, and later records recover', async () => {
    const sink = await FileSink.open({ root: join(root, 'blocker-dir'), writer: 'pod-a', retentionDays: 30, clock: () => clock, events });
    await rm(join(root, 'blocker-dir'), { recursive: true });
    await writeFile(join(root, 'blocker-dir'), 'a file where the directory was');
    sink.write(decision(ALICE));
    await sink.flush();
    expect(counts.errors).toHaveLength(1);
    expect(counts.errors[0]).toMatch(/ENOTDIR|EEXIST/);
    expect(counts.dropped).toBe(1);
    await rm(join(root, 'blocker-dir'));
    sink.write(decision(BOB));
    await sink.close();
    expect(counts.written).toBe(1);
    const r = await verifyFiles([join(root, 'blocker-dir')]);
    expect(r).toMatchObject({ ok: true, records: 4 }); // open, gap (1 dropped), outcome, decision
  });

  it('When files are older than the retention, Then every writer loses them, empty writer directories go, and recent files stay', async () => {
    const sink = await openSink();
    sink.write(decision(ALICE));
    await sink.close();
    await mkdir(join(root, 'pod-gone'));
    const old = join(root, 'pod-gone', '20261001T000000000Z-000000000000.jsonl');
    await writeFile(old, '');
    const past = new Date(clock - 31 * 86_400_000);
    await utimes(old, past, past);
    const removed = await sweepAudit(root, 30, clock);
    expect(removed).toEqual([old]);
    expect((await readdir(root)).sort()).toEqual(['pod-a']);
  });
});

describe('stdout sink', () => {
  it('When records are written to a stream, Then each is one chained line', async () => {
    let out = '';
    const stream = new Writable({ write: (chunk: Buffer, _enc, cb) => ((out += chunk.toString()), cb()) });
    const sink = new StreamSink(stream);
    sink.write(decision(ALICE));
    sink.write(decision(null));
    await sink.close();
    expect(verify(out.trimEnd().split('\n'))).toEqual([]);
    expect(out.trimEnd().split('\n')).toHaveLength(3); // the outcome once, then the two decisions
  });

  it('When batches are encoded while an earlier one is being written and that write fails, Then they are all dropped, counted, and the chain resumes with a gap', async () => {
    let out = '';
    const counts = { written: 0, dropped: 0, errors: [] as string[] };
    const events = { written: (k: number) => (counts.written += k), dropped: (k: number) => (counts.dropped += k), error: (e: Error) => counts.errors.push(e.message) };
    const waiting: ((err?: Error) => void)[] = [];
    let hold = true;
    const stream = {
      write: (chunk: Buffer, cb: (err?: Error) => void) => {
        if (hold) waiting.push(cb);
        else {
          out += chunk.toString();
          cb();
        }
        return true;
      },
    } as unknown as Writable;
    const sink = new StreamSink(stream, { events });
    const tick = () => new Promise((r) => setImmediate(r));
    for (let i = 0; i < 64; i++) sink.write(decision(ALICE));
    await tick();
    await tick();
    expect(waiting).toHaveLength(1); // the first batch is being written
    for (let i = 0; i < 64; i++) sink.write(decision(BOB));
    await tick(); // the second is encoded meanwhile, and waits
    hold = false;
    waiting[0]!(new Error('disk full'));
    await tick();
    expect(counts.errors).toEqual(['disk full']);
    expect(counts.dropped).toBe(128);
    sink.write(decision(null));
    await sink.close();
    const lines = out.trimEnd().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { rec: AuditRecord }).rec.type)).toEqual(['gap', 'outcome', 'decision']);
    expect((JSON.parse(lines[0]!) as { rec: { dropped: number }; seq: number }).rec.dropped).toBe(128);
    expect((JSON.parse(lines[0]!) as { seq: number }).seq).toBe(0); // the chain went back to where the failed batch began
    expect(verify(lines)).toEqual([]);
    expect(counts.written).toBe(1);
  });
});

describe('search and redaction', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'tandem-audit-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function writeTrail(): Promise<DecisionRecord[]> {
    const recs: DecisionRecord[] = [];
    for (const [writer, users] of [['pod-a', [ALICE, BOB, null]], ['pod-b', [BOB, ALICE]]] as const) {
      const sink = await FileSink.open({ root, writer, retentionDays: 30 });
      for (const u of users) {
        const d = decision(u);
        recs.push(d.rec);
        sink.write(d);
      }
      await sink.close();
    }
    return recs;
  }

  it('When a decision is looked up by id, Then it is found in whichever writer wrote it', async () => {
    const recs = await writeTrail();
    expect(uuidV7Time(recs[4]!.id)).toBe(Date.parse('2026-11-25T10:00:00Z'));
    const found = await findDecision(root, recs[4]!.id);
    const { outcome: _digest, ...rec } = recs[4]!;
    expect(found).toMatchObject({ ...rec, user: ALICE, candidates: [expect.objectContaining({ id: 'card-1', stock: 3 })], items: [expect.objectContaining({ id: 'card-1' })] });
    expect(found?.chain.outcome).toBe(OUTCOME.digest);
    expect(await findDecision(root, '00000000-0000-7000-8000-000000000000')).toBeUndefined();
  });

  it('When a file holds format-1 outcomes (candidates as objects), Then it still verifies and its decisions resolve', async () => {
    const body = { candidates: [{ category: 'Memory Cards', id: 'card-1', reasons: ['bought_together:cam-1 lift=4.0'], score: 0.5, stock: 3 }], filtered: [], items: [], promotions: [] };
    const digest = outcomeDigest(canonicalJson(body));
    const d = decision(ALICE);
    const rec = { ...decisionRecord(d.decision, digest), v: 1 } as AuditRecord;
    const chain = new Chain();
    await mkdir(join(root, 'pod-old'));
    const lines = chain.line({ type: 'outcome', v: 1, digest, ...body } as AuditRecord, null) + chain.line(rec, ALICE);
    await writeFile(join(root, 'pod-old', '20261125T100000000Z-000000000000.jsonl'), lines);
    expect(await verifyFiles([root])).toMatchObject({ ok: true, records: 2 });
    expect((await findDecision(root, d.rec.id))?.candidates).toEqual(body.candidates);
  });

  it("When a shopper is redacted, Then their lines say null, nobody else's change, and every file still verifies", async () => {
    await writeTrail();
    expect((await decisionsOf(root, [ALICE])).lines).toHaveLength(2);
    expect(await redactUsers(root, [ALICE])).toBe(2);
    expect((await decisionsOf(root, [ALICE])).lines).toHaveLength(0);
    expect((await decisionsOf(root, [BOB])).lines.map((l) => l.user)).toEqual([BOB, BOB]);
    expect(await redactUsers(root, [ALICE])).toBe(0);
    expect(await verifyFiles([root])).toMatchObject({ ok: true, redacted: 2 });
  });

  it('When audit:verify runs on a tampered file, Then it exits 1 and names the file and line', async () => {
    await writeTrail();
    const dir = join(root, 'pod-a');
    const [file] = await readdir(dir);
    const path = join(dir, file!);
    const lines = (await readFile(path, 'utf8')).split('\n');
    lines[2] = lines[2]!.replace('"limit":3', '"limit":4');
    await writeFile(path, lines.join('\n'));
    const run = spawnSync(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'recommender/src/audit/verify-cli.ts', root], { encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(`${path}:3: line 3 was edited: its hash does not match its content`);
    expect(run.stdout).toMatch(/chain BROKEN \(1 problem\)/);
  });
});
