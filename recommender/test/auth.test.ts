import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/api/app.js';
import { Authenticator } from '../src/auth/authenticator.js';
import { constantTimeEqual, findKey, parseKeysFile, plainKey, sha256, type ApiKey } from '../src/auth/keys.js';
import { SecretFile, SecretFileError } from '../src/auth/secret-file.js';
import { parseConfig } from '../src/config.js';
import { startServer, type Running } from '../src/server.js';
import { buildShop, CAMERA_SHOP, capturingLogger, eventually, ordersToEvents, repeat } from './fixtures.js';

const hex = sha256;
const OLD = 'old-storefront-key-1';
const NEW = 'new-storefront-key-2';
const entry = (name: string, key: string, scopes = ['recommend:read']) => ({ name, sha256: hex(key), scopes });

describe('the keys file', () => {
  it.each([
    ['JSON', JSON.stringify([entry('storefront', OLD), entry('ops', NEW, ['admin', 'events:write'])])],
    ['YAML', `- name: storefront\n  sha256: ${hex(OLD)}\n  scopes: [recommend:read]\n- name: ops\n  sha256: ${hex(NEW).toUpperCase()}\n  scopes: [admin, events:write]\n`],
  ])('When it is a %s list, Then each key has its name and scopes', (_format, text) => {
    const keys = parseKeysFile(text);
    expect(keys.map((k) => [k.name, [...k.scopes]])).toEqual([['storefront', ['recommend:read']], ['ops', ['admin', 'events:write']]]);
    expect(findKey(keys, OLD)?.name).toBe('storefront');
    expect(findKey(keys, NEW)?.name).toBe('ops');
    expect(findKey(keys, 'neither-of-them')).toBeUndefined();
  });

  it.each([
    ['equal digests', sha256(OLD), sha256(OLD), true],
    ['digests differing in the last character', sha256(OLD), sha256(OLD).slice(0, 63) + (sha256(OLD).endsWith('0') ? '1' : '0'), false],
    ['strings of other lengths', sha256(OLD), sha256(OLD).slice(1), false],
  ])('When the comparison sees %s, Then it answers %s', (_what, a, b, equal) => {
    expect(constantTimeEqual(a, b)).toBe(equal);
  });

  it('When it holds one plain key (a Secret made for TANDEM_API_KEY), Then that key has every scope', () => {
    const [key] = parseKeysFile(`${OLD}\n`);
    expect(key!.name).toBe('default');
    expect([...key!.scopes]).toEqual(['recommend:read', 'events:write', 'catalog:write', 'admin']);
  });

  it.each([
    ['a bad scope', JSON.stringify([{ ...entry('a', OLD), scopes: ['everything'] }]), /\/0\/scopes\/0/],
    ['a digest that is not sha256', JSON.stringify([{ ...entry('a', OLD), sha256: 'abc' }]), /\/0\/sha256/],
    ['a name used twice', JSON.stringify([entry('a', OLD), entry('a', NEW)]), /'a' is used twice/],
    ['broken YAML', `- name: a\n  sha256: "${OLD}\n  scopes: [`, /not valid JSON or YAML/],
    ['an empty list', '[]', /not a list/],
  ])('When it has %s, Then it is refused without quoting its content', (_what, text, message) => {
    let error: Error | undefined;
    try {
      parseKeysFile(text);
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).toMatch(message);
    expect(error?.message).not.toContain(OLD);
    expect(error?.message).not.toContain(hex(OLD));
  });
});

describe('rotating keys in a running service', () => {
  let dir: string;
  let running: Running;
  let file: SecretFile<ApiKey[]>;
  const { logger, lines } = capturingLogger();
  let generation = 0;

  /** Writes the Secret as the kubelet does: a new timestamped directory, then an atomic swap of `..data`. */
  async function writeSecret(content: string): Promise<void> {
    const data = join(dir, `..2026_11_25_00_00_${String(generation++).padStart(2, '0')}`);
    await mkdir(data);
    await writeFile(join(data, 'api-keys'), content);
    await symlink(data, join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));
  }

  const status = async (key: string): Promise<number> =>
    (await fetch(`http://127.0.0.1:${running.port}/v1/recommendations/cross-sell?items=cam-1`, { headers: { authorization: `Bearer ${key}` } })).status;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-secret-'));
    await writeSecret(JSON.stringify([entry('storefront', OLD)]));
    await symlink('..data/api-keys', join(dir, 'api-keys'));
    file = await SecretFile.open({ path: join(dir, 'api-keys'), what: 'API keys', parse: parseKeysFile, logger, pollMs: 100 });
    const shop = await buildShop(CAMERA_SHOP, ordersToEvents(repeat(4, ['cam-1', 'card-1'])));
    const auth = new Authenticator(() => file.value, parseConfig({}).auth);
    running = await startServer(createApp({ service: shop.service, store: shop.store, auth, logger }).app, 0, '127.0.0.1');
  });

  afterAll(async () => {
    file.close();
    await running.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('When the Secret gains a new key, Then both keys work without a restart; when the old one is removed, Then it gets 401', async () => {
    expect(await status(OLD)).toBe(200);
    expect(await status(NEW)).toBe(401);
    await writeSecret(JSON.stringify([entry('storefront', OLD), entry('storefront-next', NEW)]));
    await eventually(async () => (await status(NEW)) === 200, 'the new key is accepted');
    expect(await status(OLD)).toBe(200);
    await writeSecret(JSON.stringify([entry('storefront-next', NEW)]));
    await eventually(async () => (await status(OLD)) === 401, 'the old key is refused');
    expect(await status(NEW)).toBe(200);
  });

  it('When the Secret is changed to something invalid, Then the previous keys stay and the log names the file, not the content', async () => {
    const bad = `- name: oops\n  sha256: ${OLD}\n  scopes: [recommend:read]\n`; // a plain key pasted where its digest belongs
    await writeSecret(bad);
    await eventually(async () => lines().some((l) => l.includes('refused the changed API keys file')), 'the refusal is logged');
    expect(await status(NEW)).toBe(200);
    expect(lines().join('')).not.toContain(OLD);
    expect(lines().join('')).not.toContain(NEW);
    expect(lines().join('')).not.toContain(hex(NEW));
  });

  it('When the file is missing at start, Then opening it fails naming the file', async () => {
    await expect(SecretFile.open({ path: join(dir, 'nope'), what: 'API keys', parse: parseKeysFile, logger })).rejects.toThrow(SecretFileError);
    await expect(SecretFile.open({ path: join(dir, 'nope'), what: 'API keys', parse: parseKeysFile, logger })).rejects.toThrow(/API keys file .*nope: ENOENT/);
  });
});

describe('the authenticator', () => {
  it('When a connection presents again the key it proved, Then it is that key; a new header or a reloaded key set is checked afresh', () => {
    let keys = [plainKey(OLD, 'a')];
    const auth = new Authenticator(() => keys, parseConfig({}).auth);
    const connection = {};
    expect(auth.check(`Bearer ${OLD}`, 'admin', connection)).toMatchObject({ ok: true, key: { name: 'a' } });
    expect(auth.check(`Bearer ${OLD}`, 'admin', connection)).toMatchObject({ ok: true, key: { name: 'a' } });
    expect(auth.check(`Bearer ${NEW}`, 'admin', connection)).toMatchObject({ ok: false, reason: 'unknown' });
    expect(auth.check(undefined, 'admin', connection)).toMatchObject({ ok: false, reason: 'missing' });
    keys = [plainKey(NEW, 'b')]; // rotated: the old key is gone
    expect(auth.check(`Bearer ${OLD}`, 'admin', connection)).toMatchObject({ ok: false, reason: 'unknown' });
    expect(auth.check(`Bearer ${NEW}`, 'admin', connection)).toMatchObject({ ok: true, key: { name: 'b' } });
  });

  it('When the rate limit is configured for every key, Then a key without its own limit gets the default, refilled over time', () => {
    let now = 0;
    const auth = new Authenticator(() => [plainKey('some-long-key')], parseConfig({ auth: { ratePerSecond: 2, burst: 2 } }).auth, () => now);
    const call = () => auth.check('Bearer some-long-key', 'admin');
    expect([call().ok, call().ok, call().ok]).toEqual([true, true, false]);
    expect(call()).toMatchObject({ ok: false, reason: 'rate_limited', retryAfterSeconds: 1 });
    now = 500;
    expect(call().ok).toBe(true);
    expect(auth.failures).toEqual({ missing: 0, unknown: 0, scope: 0, rate_limited: 2 });
  });
});
