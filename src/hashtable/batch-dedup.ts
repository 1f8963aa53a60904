/**
 * Scratch table mapping row numbers to dense "unique" indexes within one
 * batch, so duplicate ids are summed and then updated once. Open addressing
 * with an epoch tag per slot, so a new batch costs nothing (no clear); it is
 * reused across batches. The arrays are public because the probe is inlined
 * in the hot loop (`EmbeddingHashTable.dedupSlice`): slot `Math.imul(key,
 * 0x9e3779b1) >>> shift`, linear probing under `mask`; a slot belongs to the
 * current batch when its tag equals `epoch`.
 */
export class BatchDedup {
  keys = new Int32Array(0);
  tags = new Uint32Array(0);
  vals = new Int32Array(0);
  shift = 32;
  mask = 0;
  epoch = 0;

  /** Starts a batch of at most `n` keys (table at most half full). */
  reset(n: number): void {
    let log2 = 4;
    while (1 << log2 < 2 * n) log2++;
    if (this.keys.length < 1 << log2) {
      this.keys = new Int32Array(1 << log2);
      this.tags = new Uint32Array(1 << log2);
      this.vals = new Int32Array(1 << log2);
      this.epoch = 0;
    }
    this.shift = 32 - log2;
    this.mask = (1 << log2) - 1;
    this.epoch = (this.epoch + 1) >>> 0;
    if (this.epoch === 0) {
      this.tags.fill(0);
      this.epoch = 1;
    }
  }
}
