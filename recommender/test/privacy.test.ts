import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventColumnsBuilder } from '../src/engine/events.js';
import { admitEvent, privatiseEvents } from '../src/privacy/events.js';
import { pruneEventsFile } from '../src/privacy/prune-file.js';
import { fingerprintKeyId, HmacKeyError, keyIdOf, parseHmacKeys, Pseudonymiser, PSEUDONYM_PATTERN } from '../src/privacy/pseudonym.js';
import { DirSubjectSet, MemorySubjectSet } from '../src/privacy/subject-set.js';
import type { ShopEvent } from '../src/schemas.js';
import { CAMERA_SHOP } from './fixtures.js';
import { Catalog } from '../src/engine/catalog.js';

const KEY = 'a-test-hmac-key-0123456789';

describe('pseudonymisation', () => {
  it('When the same id is pseudonymised twice, Then it gets the same pseudonym, which carries the key id and not the id', () => {
    const p = Pseudonymiser.fromText(KEY);
    const a = p.pseudonym('alice@example.com');
    expect(a).toBe(p.pseudonym('alice@example.com'));
    expect(a).toMatch(PSEUDONYM_PATTERN);
    expect(a).not.toContain('alice');
    expect(keyIdOf(a)).toBe(fingerprintKeyId(KEY));
    expect(p.pseudonym('bob@example.com')).not.toBe(a);
  });

  it('When the key differs, Then the pseudonym differs (a pseudonym cannot be recomputed without the key)', () => {
    expect(Pseudonymiser.fromText(KEY).pseudonym('u-1')).not.toBe(Pseudonymiser.fromText(`${KEY}x`).pseudonym('u-1'));
  });

  it('When a key rotates, Then the newest key pseudonymises and the older ones still recognise what was stored under them', () => {
    const before = new Pseudonymiser(parseHmacKeys(`- id: k2026-05\n  key: ${KEY}\n`));
    const after = new Pseudonymiser(parseHmacKeys(`- id: k2026-11\n  key: another-key-abcdefghij\n- id: k2026-05\n  key: ${KEY}\n`));
    expect(after.keyId).toBe('k2026-11');
    expect(keyIdOf(after.pseudonym('u-1'))).toBe('k2026-11');
    expect(after.all('u-1')).toEqual([after.pseudonym('u-1'), before.pseudonym('u-1')]);
  });

  it.each([
    ['an empty file', '', /empty/],
    ['a short key', 'short', /at least 16/],
    ['a list entry without a key', '- id: k1\n', /key/],
    ['a key id with capitals', `- id: K1\n  key: ${KEY}\n`, /id/],
    ['the same key id twice', `- id: k1\n  key: ${KEY}\n- id: k1\n  key: ${KEY}x\n`, /appears twice/],
  ])('When the key file is %s, Then it is refused with a message that never quotes the key', (_name, text, message) => {
    let err: unknown;
    try {
      parseHmacKeys(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HmacKeyError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain(KEY);
  });
});

describe('subject sets', () => {
  let dir: string;
  const p = Pseudonymiser.fromText(KEY);
  const alice = p.pseudonym('alice');
  const bob = p.pseudonym('bob');
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-subjects-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('When a pseudonym is added in memory, Then the set has it under any of its pseudonyms, and deleting removes it', async () => {
    const set = new MemorySubjectSet();
    expect(await set.add(alice, new Date(0))).toBe(true);
    expect(await set.add(alice, new Date(0))).toBe(false);
    expect(set.has([bob, alice])).toBe(true);
    expect(await set.delete([alice])).toBe(1);
    expect(set.has([alice])).toBe(false);
  });

  it('When one process adds and removes entries in the directory, Then another sees them on refresh and learns what is new', async () => {
    const podA = await DirSubjectSet.open(dir);
    const podB = await DirSubjectSet.open(dir);
    await podA.add(alice, new Date('2026-11-25T10:00:00Z'));
    expect(podA.has([alice])).toBe(true);
    expect(await podB.refresh()).toEqual([alice]);
    expect(podB.has([alice])).toBe(true);
    expect(await podB.refresh()).toEqual([]);
    await podA.delete([alice]);
    await podB.refresh();
    expect(podB.has([alice])).toBe(false);
    // A restarted process reads the directory afresh: nothing is kept only in memory.
    await podB.add(bob, new Date());
    expect((await DirSubjectSet.open(dir)).has([bob])).toBe(true);
  });

  it('When the directory holds stray files and half-written entries, Then only pseudonyms count', async () => {
    await writeFile(join(dir, 'README'), 'x');
    await writeFile(join(dir, `.${alice}.1234.tmp`), '');
    const set = await DirSubjectSet.open(dir);
    expect(set.size).toBe(0);
    await set.add(bob, new Date());
    expect((await readdir(dir)).filter((f) => !f.startsWith('.')).sort()).toEqual(['README', bob].sort());
  });

  it('When something that is not a pseudonym is added, Then it is refused (it would become a file name)', async () => {
    const set = await DirSubjectSet.open(dir);
    await expect(set.add('../../etc/passwd', new Date())).rejects.toThrow(/not a pseudonym/);
  });
});

describe('event policy', () => {
  const pseudonymiser = Pseudonymiser.fromText(KEY);
  const now = () => Date.parse('2026-11-25T00:00:00Z');
  const ev = (userId: string, day: number, type: ShopEvent['type'] = 'view'): ShopEvent => ({
    type,
    userId,
    itemId: 'cam-1',
    timestamp: new Date(Date.parse('2026-11-25T00:00:00Z') - day * 86_400_000).toISOString(),
  });

  it('When an event arrives, Then its shopper is pseudonymised, an erased shopper is dropped, and so is an event past retention', async () => {
    const erased = new MemorySubjectSet();
    await erased.add(pseudonymiser.pseudonym('gone'), new Date());
    const opts = { pseudonymiser, erased, retentionDays: 30, now };
    expect(admitEvent(ev('alice', 1), opts)).toEqual({ ...ev('alice', 1), userId: pseudonymiser.pseudonym('alice') });
    expect(admitEvent(ev('gone', 1), opts)).toBe('erased');
    expect(admitEvent(ev('alice', 31), opts)).toBe('expired');
  });

  it('When training events are privatised, Then erased and expired events go, shoppers left without events leave the user list, and ids are pseudonyms', async () => {
    const erased = new MemorySubjectSet();
    await erased.add(pseudonymiser.pseudonym('gone'), new Date());
    const catalog = Catalog.from(CAMERA_SHOP);
    const b = new EventColumnsBuilder();
    for (const e of [ev('alice', 1), ev('gone', 1), ev('old', 40), ev('bob', 2, 'purchase'), ev('alice', 50)]) b.add(e, catalog);
    const { events, dropped } = privatiseEvents(b.build(), { pseudonymiser, erased, retentionDays: 30, now });
    expect(dropped).toEqual({ erased: 1, expired: 2 });
    expect(events.length).toBe(2);
    expect(events.userIds).toEqual([pseudonymiser.pseudonym('alice'), pseudonymiser.pseudonym('bob')]);
    expect([...events.user]).toEqual([0, 1]);
  });
});

describe('pruning the events file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-prune-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('When events of an erased shopper are in the file, Then they are removed and every other line stays as it was', async () => {
    const path = join(dir, 'events.jsonl');
    const lines = [
      JSON.stringify({ type: 'view', userId: 'alice', itemId: 'cam-1', timestamp: '2026-11-20T00:00:00Z' }),
      JSON.stringify({ type: 'view', userId: 'gone', itemId: 'cam-1', timestamp: '2026-11-20T00:00:00Z' }),
      'not json at all',
      JSON.stringify({ type: 'purchase', userId: 'gone', itemId: 'card-1', orderId: 'o1', timestamp: '2026-11-21T00:00:00Z' }),
    ];
    await writeFile(path, lines.join('\n') + '\n');
    const r = await pruneEventsFile(path, (e) => e.userId !== 'gone');
    expect(r).toEqual({ kept: 2, removed: 2 });
    expect(await readFile(path, 'utf8')).toBe(`${lines[0]}\n${lines[2]}\n`);
    expect(await readdir(dir)).toEqual(['events.jsonl']);
  });
});
