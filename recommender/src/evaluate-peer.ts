/**
 * The peer: PyPI `implicit`, run by recommender/peer/implicit_peer.py in a virtual environment outside the
 * tree, `~/.cache/tandem-venvs/implicit-<sha256 of requirements.txt>` (made once, from the pinned
 * requirements with hashes, then reused). Set TANDEM_PYTHON to pick the interpreter (default python3).
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PEER_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'peer');
const REQUIREMENTS = join(PEER_DIR, 'requirements.txt');
const SCRIPT = join(PEER_DIR, 'implicit_peer.py');

/** A sparse matrix in compressed sparse rows; `data` defaults to ones. */
export interface Csr {
  indptr: number[];
  indices: number[];
  data?: number[];
}

export interface PeerRequest {
  items: number;
  /** List depth per query. */
  n: number;
  threads: number;
  seed: number;
  baskets: Csr;
  users: Csr;
  /** Parameters of the models fitted on the orders (cross-sell) and on the shoppers (personal, up-sell). */
  als: { baskets: AlsParams; users: AlsParams };
  knn: { baskets: KnnParams; users: KnnParams };
  similar: number[];
  userSimilar: number[];
  recommend: number[];
}

export interface AlsParams {
  factors: number;
  iterations: number;
  regularization: number;
  alpha: number;
}

/** K neighbours kept per item; K1 and B are BM25's. */
export interface KnnParams {
  K: number;
  K1: number;
  B: number;
}

export type PeerModel = 'bm25' | 'cosine' | 'als';

export interface PeerAnswer {
  implicit: string;
  similar: Record<PeerModel, number[][]>;
  userSimilar: Record<PeerModel, number[][]>;
  recommend: Record<PeerModel, number[][]>;
  fitSeconds: Record<string, number>;
}

/** Builds a CSR matrix from rows of (column, value) entries. */
export function csr(rows: readonly (readonly (readonly [number, number])[])[]): Csr {
  const m: Required<Csr> = { indptr: [0], indices: [], data: [] };
  for (const row of rows) {
    for (const [j, v] of row) {
      m.indices.push(j);
      m.data.push(v);
    }
    m.indptr.push(m.indices.length);
  }
  return m;
}

/** The venv's python, creating the venv first when it is missing (idempotent; safe to race). */
export async function peerPython(log: (line: string) => void = () => {}): Promise<string> {
  const requirements = await readFile(REQUIREMENTS);
  const dir = join(homedir(), '.cache', 'tandem-venvs', `implicit-${createHash('sha256').update(requirements).digest('hex').slice(0, 12)}`);
  const python = join(dir, 'bin', 'python');
  if (existsSync(join(dir, '.complete'))) return python;
  const base = process.env.TANDEM_PYTHON ?? 'python3';
  const tmp = `${dir}.tmp-${randomBytes(4).toString('hex')}`;
  await mkdir(dirname(dir), { recursive: true });
  log(`creating the peer's virtual environment ${dir} (${base}, ${REQUIREMENTS})`);
  try {
    await run(base, ['-m', 'venv', tmp]);
    await run(join(tmp, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', '--require-hashes', '--only-binary=:all:', '--no-deps', '-r', REQUIREMENTS], {
      maxBuffer: 1 << 24,
    });
    await writeFile(join(tmp, '.complete'), `${new Date().toISOString()}\n`);
    if (!existsSync(join(dir, '.complete'))) {
      await rm(dir, { recursive: true, force: true });
      await rename(tmp, dir);
    }
  } catch (err) {
    throw new Error(`failed to create the peer's virtual environment with ${base} (wheels are pinned for CPython 3.11, x86_64): ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return python;
}

/** Fits the peer's models with the real library and returns its lists. */
export async function runPeer(req: PeerRequest, log?: (line: string) => void): Promise<PeerAnswer> {
  const python = await peerPython(log);
  const work = await mkdtemp(join(tmpdir(), 'tandem-peer-'));
  try {
    await writeFile(join(work, 'request.json'), JSON.stringify(req));
    const threads = String(req.threads);
    await run(python, [SCRIPT, join(work, 'request.json'), join(work, 'answer.json')], {
      env: { ...process.env, OPENBLAS_NUM_THREADS: threads, OMP_NUM_THREADS: threads, MKL_NUM_THREADS: threads },
      maxBuffer: 1 << 24,
    }).catch((err: Error & { stderr?: string }) => {
      throw new Error(`failed to run the peer (${SCRIPT}): ${err.stderr?.trim().split('\n').slice(-3).join(' | ') || err.message}`, { cause: err });
    });
    return JSON.parse(await readFile(join(work, 'answer.json'), 'utf8')) as PeerAnswer;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
