/**
 * Maps row numbers to dense "unique" indexes within one batch, so duplicate
 * ids are summed and then updated once. A small open-addressing table whose
 * slots carry an epoch tag, so starting a new batch costs nothing (no clear).
 */
export class BatchDedup {
  private keys = new Int32Array(0);
  private tags = new Uint32Array(0);
  private vals = new Int32Array(0);
  private shift = 32;
  private mask = 0;
  private epoch = 0;
  count = 0;

  /** Starts a batch of at most `n` keys. */
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
