/**
 * `serve` as a pod runs it: a configured API key never reaches stdout (the cluster's log pipeline), and
 * with REDIS_URL set the candidate lists land in Redis (what `redis-cli --scan` shows in the README).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeJsonl } from '../src/data/jsonl.js';
import { CAMERA_SHOP, ordersToEvents, repeat } from './fixtures.js';
import { startRedisServer, type RedisServer } from '../../hack/redis-server.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const KEY = 'configured-secret-key-42';

describe('serve', () => {
  let dir: string;
  let redis: RedisServer;
  let child: ChildProcess;
  let stdout = '';
  let stderr = '';
  let base = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-serve-'));
    await writeJsonl(join(dir, 'catalog.jsonl'), CAMERA_SHOP);
    await writeJsonl(join(dir, 'events.jsonl'), ordersToEvents([...repeat(10, ['cam-1', 'card-1']), ...repeat(6, ['cam-1', 'tri-1'])]));
    redis = await startRedisServer();
    child = spawn(process.execPath, ['--import', 'tsx', join(root, 'recommender/src/main.ts'), 'serve', '--catalog', join(dir, 'catalog.jsonl'), '--events', join(dir, 'events.jsonl'), '--skip-metrics'], {
      cwd: root,
      env: { ...process.env, PORT: '0', TANDEM_API_KEY: KEY, REDIS_URL: redis.url, TANDEM_CACHE_TTL_SECONDS: '120', LOG_LEVEL: 'info', TANDEM_API_KEYS_FILE: '', TANDEM_MODEL_DIR: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    for (let i = 0; i < 600 && !stdout.includes('/openapi.json'); i++) await new Promise((r) => setTimeout(r, 50));
    const port = /"port":(\d+)/.exec(stderr)?.[1];
    if (!port || !stdout.includes('/openapi.json')) throw new Error(`serve did not come up:\n${stderr}`);
    base = `http://127.0.0.1:${port}`;
  }, 60_000);

  afterAll(async () => {
    child?.kill('SIGTERM');
    await redis?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('When a key is configured, Then the banner shows a placeholder, and neither stdout nor the logs hold the key', () => {
    expect(stdout).toContain("-H 'Authorization: Bearer <your API key>'");
    expect(stdout + stderr).not.toContain(KEY);
  });

  it('When REDIS_URL is set, Then repeated requests put candidate lists in Redis under the model version, with the TTL', async () => {
    const headers = { authorization: `Bearer ${KEY}` };
    for (let i = 0; i < 2; i++) expect((await fetch(`${base}/v1/recommendations/cross-sell?items=cam-1&limit=5`, { headers })).status).toBe(200);
    let keys: string[] = [];
    for (let i = 0; i < 100 && keys.length === 0; i++) {
      keys = (await redis.cli('--scan', '--pattern', 'tandem:cand:*')).split('\n').filter(Boolean);
      if (keys.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(keys).toContainEqual(expect.stringMatching(/^tandem:cand:\d{8}T\d{6}Z-[0-9a-f]{12}:cross-sell:20:cam-1$/));
    const cam = keys.find((k) => k.endsWith(':cam-1'))!;
    expect(Number(await redis.cli('ttl', cam))).toBeGreaterThan(100);
    expect(stderr).toContain('candidate cache in memory, shared through Redis');
  });
});
