/** Human progress lines on stderr for long steps (stdout stays for results). */
export function progressPrinter(label: string): (stage: string, done: number, total: number) => void {
  let last = '';
  return (stage, done, total) => {
    const pct = total > 0 ? Math.floor((done / total) * 10) * 10 : 100;
    const key = `${stage}:${pct}`;
    if (key === last) return;
    last = key;
    process.stderr.write(`${label}: ${stage} ${pct}%\n`);
  };
}

export function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}
