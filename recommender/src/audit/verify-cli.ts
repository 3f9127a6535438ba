/**
 * `npm run audit:verify FILE|DIR...`: checks the hash chain of audit files and names every line that was
 * edited, inserted or deleted. Exit 0 when the chain is intact, 1 when it is not, 2 on bad usage.
 */
import { verifyFiles } from './verify.js';

async function main(): Promise<number> {
  const paths = process.argv.slice(2);
  if (paths.length === 0) {
    process.stderr.write('usage: npm run audit:verify -- FILE|DIR...\n');
    return 2;
  }
  const r = await verifyFiles(paths);
  for (const p of r.problems) process.stdout.write(`${p.file}:${p.line}: line ${p.line} ${p.problem}\n`);
  for (const [dir, head] of Object.entries(r.heads)) process.stdout.write(`head ${dir} ${head}\n`);
  const verdict = r.ok ? 'intact' : `BROKEN (${r.problems.length} problem${r.problems.length === 1 ? '' : 's'})`;
  process.stdout.write(`${r.records} records in ${r.files} files, ${r.redacted} redacted: chain ${verdict}\n`);
  return r.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`audit:verify failed: ${(err as Error).message}`);
    process.exit(2);
  },
);
