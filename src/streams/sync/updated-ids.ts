/** Distinct 64-bit ids per table, as (hi → set of lo) words: what a sync publisher has yet to publish. */
export class UpdatedIds {
  private readonly byTable = new Map<string, Map<number, Set<number>>>();
  /** Distinct pending ids over all tables. */
  size = 0;

  /** Adds ids given as interleaved (lo, hi) words. */
  add(table: string, words: Uint32Array): void {
    let his = this.byTable.get(table);
    if (!his) this.byTable.set(table, (his = new Map()));
    for (let i = 0; i + 1 < words.length; i += 2) {
      const hi = words[i + 1]!;
      let los = his.get(hi);
      if (!los) his.set(hi, (los = new Set()));
      const before = los.size;
      los.add(words[i]!);
      this.size += los.size - before;
    }
  }

  /** Takes every pending id out, as chunks of at most `max` ids per table (interleaved words). */
  *drain(max: number): Generator<[string, Uint32Array]> {
    for (const [table, his] of [...this.byTable]) {
      this.byTable.delete(table);
      let chunk = new Uint32Array(2 * max);
      let n = 0;
      for (const [hi, los] of his) {
        for (const lo of los) {
          chunk[2 * n] = lo;
          chunk[2 * n + 1] = hi;
          if (++n === max) {
            this.size -= n;
            yield [table, chunk];
            chunk = new Uint32Array(2 * max);
            n = 0;
          }
        }
      }
      if (n > 0) {
        this.size -= n;
        yield [table, chunk.slice(0, 2 * n)];
      }
    }
  }
}
