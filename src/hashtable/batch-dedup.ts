/**
 * Scratch table mapping row numbers to dense "unique" indexes within one
 * batch, so duplicate ids are summed and then updated once. Open addressing
 * with an epoch tag per slot, so a new batch costs nothing (no clear); it is
 * reused across batches. The arrays are public so hot loops can inline the
 * probe (see `EmbeddingHashTable.applyGradients`); `indexOf` is the reference.
 */
export class BatchDedup {
  keys = new Int32Array(0);
  tags = new Uint32Array(0);
  vals = new Int32Array(0);
  shift = 32;
  mask = 0;
  epoch = 0;
  count = 0;

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
    this.count = 0;
  }

  /** The unique index of `key`, assigning the next one when it is new; `isNew` tells which. */
  indexOf(key: number): number {
    let s = Math.imul(key, 0x9e3779b1) >>> this.shift;
    for (;;) {
      if (this.tags[s] !== this.epoch) {
        this.tags[s] = this.epoch;
        this.keys[s] = key;
        this.vals[s] = this.count;
        this.isNew = true;
        return this.count++;
      }
      if (this.keys[s] === key) {
        this.isNew = false;
        return this.vals[s]!;
      }
      s = (s + 1) & this.mask;
    }
  }
  isNew = false;
}
