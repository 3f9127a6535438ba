/**
 * Runs a job directory's Spark job with `spark-submit` on this machine (`--master local[N]`): what the tests
 * and the benchmark do, and `train --engine spark` outside a cluster. spark-submit is TANDEM_SPARK_SUBMIT,
 * or the one `npm run tools` installs (PyPI pyspark in a virtual environment, hack/python-tools.sh), whose
 * SPARK_HOME and Python are found from it. Spark binds to the loopback address only.
 */
import { spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { jobPaths } from './spark-job.js';

export interface SparkLocalOptions {
  /** Default `local[2]`. */
  readonly master?: string;
  /** Default 1g. */
  readonly driverMemory?: string;
  /** Shuffle partitions (Spark's default of 200 is for a cluster). Default 8. */
  readonly shufflePartitions?: number;
  /** Each step as it finishes. */
  readonly onStep?: (step: { step: string; rows?: number | null; seconds?: number }) => void;
  readonly env?: NodeJS.ProcessEnv;
}

/** spark-submit, with the environment that makes a pip-installed Spark find itself. */
export function sparkCommand(env: NodeJS.ProcessEnv = process.env): { bin: string; env: NodeJS.ProcessEnv } {
  const tools = env.TANDEM_TOOLS_BIN ?? join(env.TANDEM_TOOLS_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tandem-tools'), 'bin');
  const bin = env.TANDEM_SPARK_SUBMIT || join(tools, 'spark-submit');
  if (!existsSync(bin)) throw new Error(`spark-submit not found at ${bin}: run \`npm run tools\` (installs PyPI pyspark) or set TANDEM_SPARK_SUBMIT`);
  const venvBin = dirname(realpathSync(bin));
  const python = join(venvBin, 'python');
  const extra: NodeJS.ProcessEnv = {};
  if (!env.SPARK_HOME && existsSync(python)) {
    const lib = join(dirname(venvBin), 'lib');
    const site = ['python3.13', 'python3.12', 'python3.11'].map((v) => join(lib, v, 'site-packages', 'pyspark')).find((p) => existsSync(p));
    if (site) Object.assign(extra, { SPARK_HOME: site, PYSPARK_PYTHON: python, PYSPARK_DRIVER_PYTHON: python });
  }
  return { bin, env: { ...env, ...extra, SPARK_LOCAL_IP: '127.0.0.1' } };
}

/** Runs `<dir>/job.json`; resolves when Spark wrote the outputs, rejects with the end of its log otherwise. */
export async function runSparkLocal(dir: string, o: SparkLocalOptions = {}): Promise<void> {
  const { bin, env } = sparkCommand(o.env);
  const p = jobPaths(dir);
  const conf = {
    'spark.ui.enabled': 'false',
    'spark.driver.host': '127.0.0.1',
    'spark.driver.bindAddress': '127.0.0.1',
    'spark.sql.shuffle.partitions': String(o.shufflePartitions ?? 8),
    'spark.sql.session.timeZone': 'UTC',
    'spark.sql.maxPlanStringLength': '100000',
    // One JVM doing batch work: the throughput collector spends less of the two cores than G1's concurrent threads.
    'spark.driver.extraJavaOptions': '-XX:+UseParallelGC',
    // Each step's files are committed by one rename, not two.
    'spark.hadoop.mapreduce.fileoutputcommitter.algorithm.version': '2',
  };
  const args = [
    '--master', o.master ?? 'local[2]',
    '--driver-memory', o.driverMemory ?? '1g',
    ...Object.entries(conf).flatMap(([k, v]) => ['--conf', `${k}=${v}`]),
    p.driver,
    p.document,
  ];
  const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  const keep = (line: string): void => {
    tail.push(line);
    if (tail.length > 40) tail.shift();
  };
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line.startsWith('{"step"')) o.onStep?.(JSON.parse(line) as { step: string });
    else keep(line);
  });
  createInterface({ input: child.stderr }).on('line', keep);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c, s) => resolve([c, s]));
  });
  if (code !== 0) throw new Error(`spark-submit failed (${signal ?? `exit ${code}`}); the end of its log:\n${tail.join('\n')}`);
}
