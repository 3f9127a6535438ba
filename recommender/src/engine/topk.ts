/** Fixed-size min-heap keeping the K best (index, score, extra) triples without allocation. */
export class TopK {
  readonly idx: Int32Array;
  readonly score: Float64Array;
  readonly extra: Float64Array;
  size = 0;
  constructor(readonly k: number) {
    this.idx = new Int32Array(k);
    this.score = new Float64Array(k);
    this.extra = new Float64Array(k);
  }

  reset(): void {
    this.size = 0;
  }

  push(i: number, s: number, x: number): void {
    if (this.size < this.k) {
      let pos = this.size++;
      while (pos > 0) {
        const parent = (pos - 1) >> 1;
        if (this.score[parent]! <= s) break;
        this.set(pos, parent);
        pos = parent;
      }
      this.idx[pos] = i;
      this.score[pos] = s;
      this.extra[pos] = x;
      return;
    }
    if (s <= this.score[0]!) return;
    // replace root and sift down
    let pos = 0;
    const n = this.size;
    for (;;) {
      const l = 2 * pos + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.score[r]! < this.score[l]! ? r : l;
      if (this.score[c]! >= s) break;
      this.set(pos, c);
      pos = c;
    }
    this.idx[pos] = i;
    this.score[pos] = s;
    this.extra[pos] = x;
  }

  /**
   * Sorts the kept entries in place by descending score (heapsort, no comparator closure) and
   * returns the positions 0..size-1. The heap is spent afterwards: call reset() before reuse.
   */
  order(): number[] {
    for (let end = this.size - 1; end > 0; end--) {
      this.swap(0, end);
      let pos = 0;
      for (;;) {
        const l = 2 * pos + 1;
        if (l >= end) break;
        const r = l + 1;
        const c = r < end && this.score[r]! < this.score[l]! ? r : l;
        if (this.score[c]! >= this.score[pos]!) break;
        this.swap(pos, c);
        pos = c;
      }
    }
    const out = new Array<number>(this.size);
    for (let j = 0; j < this.size; j++) out[j] = j;
    return out;
  }

  private swap(a: number, b: number): void {
    const i = this.idx[a]!;
    const s = this.score[a]!;
    const x = this.extra[a]!;
    this.idx[a] = this.idx[b]!;
    this.score[a] = this.score[b]!;
    this.extra[a] = this.extra[b]!;
    this.idx[b] = i;
    this.score[b] = s;
    this.extra[b] = x;
  }

  private set(to: number, from: number): void {
    this.idx[to] = this.idx[from]!;
    this.score[to] = this.score[from]!;
    this.extra[to] = this.extra[from]!;
  }
}
