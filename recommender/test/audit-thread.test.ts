import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileSink } from '../src/audit/file-sink.js';
import { Outcome } from '../src/audit/outcome.js';
import { FilteredJson, packCandidates } from '../src/audit/packed.js';
import { AUDIT_FORMAT, type AuditLine, type AuditRecord } from '../src/audit/record.js';
import type { AuditEntry, AuditSink } from '../src/audit/sink.js';
import { ThreadSink } from '../src/audit/thread-sink.js';
import { verifyFiles } from '../src/audit/verify.js';
import type { Candidate } from '../src/engine/score.js';
import { itemsJson } from '../src/items-json.js';
import { decisionInputs } from './fixtures.js';

const TIME = Date.parse('2026-11-25T10:00:00Z');
const ERASURE: AuditRecord = {
  type: 'erasure',
  v: AUDIT_FORMAT,
  id: '019abcde-f000-7000-8000-ffffffffffff',
  time: new Date(TIME).toISOString(),
  subject: { digest: 'ab'.repeat(32), keyId: 'k1' },
  reached: { histories: 1 },
};

/** A catalogue's names that grow while records are written, as a live catalogue's do. */
function growingNames() {
  return { ids: ['cam-1', 'card-1', 'bag-"1'], categories: ['Cameras', 'Memory Cards'] };
}

/** An outcome naming catalogue item `idx` (its evidence citing item 0), filtered item `drop` for a rule. */
function outcomeOf(names: { ids: string[]; categories: string[] }, idx: number, drop: number): Outcome {
  const c: Candidate = { idx, score: 0.25 + idx / 100, reasons: [], why: { kind: 'together', src: [0], own: [0.3], blend: [0.2], base: [0.01], cold: [0] } };
  const candidates = packCandidates([c], [idx + 1], [idx % names.categories.length], names);
  const filtered = new FilteredJson([{ idx: drop, id: names.ids[drop]!, rule: 'out_of_stock' }], names);
  return new Outcome(() => ({ candidates, filtered, items: itemsJson([{ id: names.ids[idx]!, reasons: ['r'], score: c.score }]), promotions: '[]' }));
}

let n = 0;
function decision(outcome: Outcome, user: string | null): AuditEntry {
  const inputs = decisionInputs(`019abcde-f000-7000-8000-${(n++).toString(16).padStart(12, '0')}`, TIME, user);
  return { decision: inputs, outcome, user };
}

/** Every line a writer wrote, oldest first, without its file-opening lines. */
async function linesOf(root: string, writer: string): Promise<AuditLine[]> {
  const out: AuditLine[] = [];
  for (const f of (await readdir(join(root, writer))).sort()) {
    for (const t of (await readFile(join(root, writer, f), 'utf8')).trimEnd().split('\n')) {
      const line = JSON.parse(t) as AuditLine;
      if (line.rec.type !== 'open') out.push(line);
    }
  }
  return out;
}

describe('Given the file sink on an audit thread of its own', () => {
  let root: string;
  const counts = { written: 0, dropped: 0, errors: [] as string[] };
  const events = { written: (k: number) => (counts.written += k), dropped: (k: number) => (counts.dropped += k), error: (e: Error) => counts.errors.push(e.message) };
  let sink: AuditSink | undefined;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'tandem-audit-thread-'));
    Object.assign(counts, { written: 0, dropped: 0, errors: [] });
  });
  afterEach(async () => {
    await sink?.close();
    sink = undefined;
    await rm(root, { recursive: true, force: true });
  });

  /** Writes the same decisions, shared and new outcomes, to `to`; the catalogue gains names between them. */
  async function writeShop(to: AuditSink): Promise<void> {
    const names = growingNames();
    const shared = outcomeOf(names, 1, 2);
    for (let i = 0; i < 40; i++) {
      if (i % 10 === 5) names.ids.push(`new-${i}`, `ü-${i}`);
      if (i === 25) names.categories.push('Bags');
      to.write(decision(i % 3 === 0 ? shared : outcomeOf(names, names.ids.length - 1, names.ids.length - 2), i % 2 ? 'k1.alice' : null));
      if (i === 20) to.write({ rec: ERASURE, user: null });
      if (i % 16 === 15) await to.flush();
    }
    await to.close();
  }

  it('When decisions are written through it, Then the file holds exactly the records an in-process file sink writes, and verifies', async () => {
    n = 0;
    await writeShop(await FileSink.open({ root, writer: 'in-process', retentionDays: 30, clock: () => Date.now() }));
    n = 0;
    await writeShop((sink = await ThreadSink.open({ root, writer: 'threaded', retentionDays: 30, events })));
    const strip = (l: AuditLine) => ({ rec: l.rec, user: l.user });
    const threaded = await linesOf(root, 'threaded');
    expect(threaded.map(strip)).toEqual((await linesOf(root, 'in-process')).map(strip));
    expect(threaded.filter((l) => l.rec.type === 'outcome').length).toBeLessThan(40); // the shared outcome once
    expect(counts).toEqual({ written: 41, dropped: 0, errors: [] });
    expect(await verifyFiles([join(root, 'threaded')])).toMatchObject({ ok: true });
  });

  it('When more outcomes pass than an epoch keeps, Then outcomes referred to again are sent again and every decision finds its outcome', async () => {
    sink = await ThreadSink.open({ root, writer: 'pod-a', retentionDays: 30, events, epochOutcomes: 2 });
    const names = growingNames();
    const outcomes = [0, 1, 2].map((i) => outcomeOf(names, i, 2));
    for (let k = 0; k < 30; k++) sink.write(decision(outcomes[k % 3]!, null));
    await sink.flush();
    const lines = await linesOf(root, 'pod-a');
    const digests = new Set(lines.flatMap((l) => (l.rec.type === 'outcome' ? [l.rec.digest] : [])));
    expect(digests.size).toBe(3);
    expect(lines.filter((l) => l.rec.type === 'outcome')).toHaveLength(3); // one file: each outcome written once
    expect(lines.filter((l) => l.rec.type === 'decision').every((l) => l.rec.type === 'decision' && digests.has(l.rec.outcome))).toBe(true);
    expect(counts.written).toBe(30);
  });

  it('When records come faster than the audit thread takes them, Then the excess is dropped and counted, and a gap record says how many', async () => {
    sink = await ThreadSink.open({ root, writer: 'pod-a', retentionDays: 30, events, maxPending: 5 });
    const names = growingNames();
    const outcome = outcomeOf(names, 1, 2);
    for (let k = 0; k < 50; k++) sink.write(decision(outcome, null)); // one turn of the event loop: nothing is taken meanwhile
    await sink.flush();
    sink.write(decision(outcome, null));
    await sink.flush();
    expect(counts.dropped).toBe(45);
    expect(counts.written).toBe(6);
    const gaps = (await linesOf(root, 'pod-a')).filter((l) => l.rec.type === 'gap');
    expect(gaps.map((l) => (l.rec.type === 'gap' ? l.rec.dropped : 0))).toEqual([45]);
    expect(await verifyFiles([root])).toMatchObject({ ok: true });
  });

  it('When the audit thread crashes, Then records meanwhile are dropped and counted, a new thread continues the chain, and a gap record says how many were lost', async () => {
    const opened = await ThreadSink.open({ root, writer: 'pod-a', retentionDays: 30, events });
    sink = opened;
    const names = growingNames();
    const outcome = outcomeOf(names, 1, 2);
    opened.write(decision(outcome, null));
    await opened.flush();
    await (opened as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await expect.poll(() => counts.errors.join()).toMatch(/audit thread stopped/);
    opened.write(decision(outcome, null)); // no thread now: dropped
    await expect.poll(async () => (opened.write(decision(outcome, 'k1.alice')), await opened.flush(), counts.written), { timeout: 10_000, interval: 200 }).toBeGreaterThan(1);
    const lines = await linesOf(root, 'pod-a');
    const gap = lines.find((l) => l.rec.type === 'gap');
    expect(gap?.rec.type === 'gap' && gap.rec.dropped).toBe(counts.dropped);
    expect(lines.filter((l) => l.rec.type === 'outcome').length).toBe(2); // written again after the restart, in a new file
    expect(await verifyFiles([root])).toMatchObject({ ok: true });
  });

  it('When the images are built, Then the audit thread is compiled with them (a worker is loaded by path, not imported)', async () => {
    const build = JSON.parse(await readFile(new URL('../../tsconfig.build.json', import.meta.url), 'utf8')) as { files: string[] };
    expect(build.files).toContain('recommender/src/audit/sink-thread.ts');
    expect(await readFile(new URL('../src/audit/thread-sink.ts', import.meta.url), 'utf8')).toContain("'./sink-thread.js'");
  });

  it('When its file sink cannot open, Then opening fails with the reason', async () => {
    await expect(ThreadSink.open({ root, writer: '../escape', retentionDays: 30 })).rejects.toThrow(/not a safe directory name/);
  });

  it('When it is closed, Then later records are dropped and counted, not lost silently', async () => {
    sink = await ThreadSink.open({ root, writer: 'pod-a', retentionDays: 30, events });
    const outcome = outcomeOf(growingNames(), 1, 2);
    sink.write(decision(outcome, null));
    await sink.close();
    sink.write(decision(outcome, null));
    expect(counts).toMatchObject({ written: 1, dropped: 1 });
  });
});
