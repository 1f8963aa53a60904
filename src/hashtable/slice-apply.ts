import { BatchDedup } from './batch-dedup.js';
import type { EntryRows } from './entry-rows.js';
import type { IdWords } from './id-batch.js';
import { applyRows } from './optimizers/segment-optimizer.js';
import type { ShardBatch } from './shard-batch.js';
import { touchIndex, touchRows } from './slice-lookup.js';
import { probeSlot, type TableShard } from './table-shard.js';

/**
 * Gradient application to one shard's slice of a batch, holding the shard's
 * lock: find (or create) each id's row, sum the gradients of repeated ids,
 * run each segment's optimizer once per unique row, stamp the update time.
 */
export class SliceApply {
  private gradAcc = new Float32Array(0);
  private uniqRows = new Int32Array(0);
  private gradFrom = new Int32Array(0);
  private summed = new Uint8Array(0);
  private soloRows = new Int32Array(0);
  private soloOff = new Int32Array(0);
  private sumRows = new Int32Array(0);
  private sumOff = new Int32Array(0);
  private readonly dedup = new BatchDedup();
  /** Keeps the touch loops' results alive. */
  sink = 0;
  private readonly dim: number;

  constructor(
    private readonly entries: EntryRows,
    private readonly batch: ShardBatch,
  ) {
    this.dim = entries.dim;
  }

  /** Sizes the scratch space for a batch of `n` ids. */
  reserve(n: number): void {
    const dim = this.dim;
    if (this.gradAcc.length < n * dim) this.gradAcc = new Float32Array(n * dim);
    if (this.uniqRows.length < n) {
      this.uniqRows = new Int32Array(n);
      this.gradFrom = new Int32Array(n);
      this.summed = new Uint8Array(n);
      this.soloRows = new Int32Array(n);
      this.soloOff = new Int32Array(n);
      this.sumRows = new Int32Array(n);
      this.sumOff = new Int32Array(n);
    }
  }

  /**
   * Finds (or creates) the row of every id of a shard's slice and dedupes
   * them: unique row u is `uniqRows[u]`; its gradient stays where it is in
   * `grads` (offset `gradFrom[u]`) when the id occurs once, and is summed into
   * `gradAcc` (`summed[u]` = 1) when it repeats — so single ids cost no copy.
   * Returns the number of unique rows.
   */
  dedupSlice(sh: TableShard, w: IdWords, from: number, to: number, grads: Float32Array, ts: number): number {
    const packed = this.batch.packed;
    const dim = this.dim;
    const acc = this.gradAcc;
    const uniq = this.uniqRows;
    const from_ = this.gradFrom;
    const summed = this.summed;
    const filtered = this.entries.filtered;
    const d = this.dedup;
    d.reset(to - from);
    const dKeys = d.keys;
    const dTags = d.tags;
    const dVals = d.vals;
    const dShift = d.shift;
    const dMask = d.mask;
    const epoch = d.epoch;
    let count = 0;
    let idx = sh.index;
    let log2 = sh.log2;
    let mask = (1 << log2) - 1;
    let shift = 32 - log2;
    this.sink ^= touchIndex(packed, idx, shift, from, to);
    for (let k = from; k < to; k++) {
      const h = packed[2 * k]! >>> 0;
      const i = packed[2 * k + 1]!;
      const lo = w[2 * i]! | 0;
      const hi = w[2 * i + 1]! | 0;
      const slot = probeSlot(idx, lo, hi, h >>> shift, mask);
      let v = slot >= 0 ? idx[slot * 3 + 2]! : 0;
      if (v <= 0) {
        if (filtered && this.entries.thresholds.forHi(hi) > 0) continue; // not admitted: gradient dropped
        v = this.entries.createRow(sh, slot, lo, hi, h, ts);
        idx = sh.index;
        log2 = sh.log2;
        mask = (1 << log2) - 1;
        shift = 32 - log2;
      }
      const row = v - 1;
      let ds = Math.imul(row, 0x9e3779b1) >>> dShift;
      for (;;) {
        if (dTags[ds] !== epoch) {
          dTags[ds] = epoch;
          dKeys[ds] = row;
          const u = count++;
          dVals[ds] = u;
          uniq[u] = row;
          from_[u] = i * dim;
          summed[u] = 0;
          break;
        }
        if (dKeys[ds] === row) {
          const u = dVals[ds]!;
          const a = u * dim;
          const g = i * dim;
          if (summed[u] === 0) {
            const g0 = from_[u]!;
            for (let j = 0; j < dim; j++) acc[a + j] = grads[g0 + j]! + grads[g + j]!;
            summed[u] = 1;
          } else {
            for (let j = 0; j < dim; j++) acc[a + j] += grads[g + j]!;
          }
          break;
        }
        ds = (ds + 1) & dMask;
      }
    }
    return count;
  }

  /** Runs each segment's optimizer once over the `count` unique rows (regularization scaled by `regs[k]`), then stamps their update time. */
  updateRows(sh: TableShard, count: number, grads: Float32Array, lrs: Float64Array, step: number, ts: number, regs?: Float64Array): void {
    const segs = this.entries.layout.segments;
    const f = sh.f32;
    const st = sh.stride;
    const uniq = this.uniqRows;
    const dim = this.dim;
    this.sink ^= touchRows(sh.u32, uniq, count, st, st - 1);
    // Rows whose gradient is still in `grads`, and rows with a summed gradient in `gradAcc`.
    const soloRows = this.soloRows;
    const soloOff = this.soloOff;
    const sumRows = this.sumRows;
    const sumOff = this.sumOff;
    const summed = this.summed;
    const from_ = this.gradFrom;
    let n1 = 0;
    let n2 = 0;
    for (let u = 0; u < count; u++) {
      if (summed[u] === 0) {
        soloRows[n1] = uniq[u]!;
        soloOff[n1++] = from_[u]!;
      } else {
        sumRows[n2] = uniq[u]!;
        sumOff[n2++] = u * dim;
      }
    }
    for (let k = 0; k < segs.length; k++) {
      const seg = segs[k]!;
      const reg = regs ? regs[k]! : 1;
      if (n1 > 0) applyRows(seg.optimizer, f, st, soloRows, n1, seg.embAt, seg.stateAt, grads, soloOff, lrs[k]!, step, reg);
      if (n2 > 0) applyRows(seg.optimizer, f, st, sumRows, n2, seg.embAt, seg.stateAt, this.gradAcc, sumOff, lrs[k]!, step, reg);
    }
    const u32 = sh.u32;
    const tsWord = this.entries.layout.tsWord;
    for (let u = 0; u < count; u++) u32[uniq[u]! * st + tsWord] = ts;
    sh.noteUpdateTs(ts);
  }
}
