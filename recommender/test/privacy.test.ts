import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fingerprintKeyId, HmacKeyError, keyIdOf, parseHmacKeys, Pseudonymiser, PSEUDONYM_PATTERN } from '../src/privacy/pseudonym.js';
import { DirSubjectSet, MemorySubjectSet } from '../src/privacy/subject-set.js';

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
