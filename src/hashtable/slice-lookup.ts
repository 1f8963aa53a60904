import type { EntryRows } from './entry-rows.js';
import type { IdWords } from './id-batch.js';
import type { ShardBatch } from './shard-batch.js';
import { probeSlot, type TableShard } from './table-shard.js';

/**
 * Reads the home index slot of every id of a slice, and returns a value
 * that depends on them. JavaScript has no prefetch instruction, but these
 * loads do not depend on each other, so the CPU overlaps their cache misses;
 * the probe loop that follows then finds the lines in cache.
 */
export function touchIndex(packed: Int32Array, idx: Int32Array, shift: number, from: number, to: number): number {
  let sink = 0;
  for (let k = from; k < to; k++) sink ^= idx[((packed[2 * k]! >>> 0) >>> shift) * 3 + 2]!;
  return sink;
}

/** Same for the first and last word of the rows `rows[0 .. count)`. */
export function touchRows(u32: Uint32Array, rows: Int32Array, count: number, st: number, last: number): number {
  let sink = 0;
  for (let u = 0; u < count; u++) {
    const r = rows[u]!;
    if (r >= 0) sink ^= u32[r * st]! ^ u32[r * st + last]!;
  }
  return sink;
}


/** Lookup (and lookup-or-insert) of one shard's slice of a batch, holding the shard's lock. */
export class SliceLookup {
  /** Row (or -1) of each id of the current shard slice. */
  private sliceRows = new Int32Array(0);
  /** Keeps the touch loops' results alive. */
  sink = 0;
  private readonly dim: number;

  constructor(
    private readonly entries: EntryRows,
    private readonly batch: ShardBatch,
  ) {
    this.dim = entries.dim;
  }

  /**
   * The float-row lookup of one shard's slice, as a pipeline: touch the index
   * slots, probe (inserting misses), touch the rows, copy them out.
   */
  lookupSlice(sh: TableShard, w: IdWords, from: number, to: number, res: Float32Array, res64: Float64Array | undefined, insert: boolean, ts: number): void {
    const packed = this.batch.packed;
    const dim = this.dim;
    let idx = sh.index;
    const st = sh.stride;
    let log2 = sh.log2;
    let mask = (1 << log2) - 1;
    let shift = 32 - log2;
    if (this.sliceRows.length < to - from) this.sliceRows = new Int32Array(this.batch.packed.length >>> 1);
    const rows = this.sliceRows;
    let sink = touchIndex(packed, idx, shift, from, to);
    for (let k = from; k < to; k++) {
      const h = packed[2 * k]! >>> 0;
      const i = packed[2 * k + 1]!;
      const lo = w[2 * i]! | 0;
      const hi = w[2 * i + 1]! | 0;
      const slot = probeSlot(idx, lo, hi, h >>> shift, mask);
      let v = slot >= 0 ? idx[slot * 3 + 2]! : 0;
      if (v <= 0 && insert) {
        v = this.entries.admitOrCount(sh, slot, lo, hi, h, v, ts);
        // An insert may have grown the index.
        idx = sh.index;
        log2 = sh.log2;
        mask = (1 << log2) - 1;
        shift = 32 - log2;
      }
      rows[k - from] = v - 1;
    }
    const n = to - from;
    sink ^= touchRows(sh.u32, rows, n, st, dim - 1);
    this.sink ^= sink;
    if (res64 !== undefined) {
      // Two floats per move (a plain per-float loop is ~3x slower in V8); rows and output are 8-byte aligned.
      const f64 = sh.f64;
      const half = dim >>> 1;
      const half4 = half & ~3;
      for (let q = 0; q < n; q++) {
        const r = rows[q]!;
        const o2 = packed[2 * (from + q) + 1]! * half;
        if (r < 0) {
          for (let j = 0; j < half; j++) res64[o2 + j] = 0;
          continue;
        }
        const b2 = (r * st) >>> 1;
        let j = 0;
        for (; j < half4; j += 4) {
          res64[o2 + j] = f64[b2 + j]!;
          res64[o2 + j + 1] = f64[b2 + j + 1]!;
          res64[o2 + j + 2] = f64[b2 + j + 2]!;
          res64[o2 + j + 3] = f64[b2 + j + 3]!;
        }
        for (; j < half; j++) res64[o2 + j] = f64[b2 + j]!;
      }
    } else {
      const f = sh.f32;
      for (let q = 0; q < n; q++) {
        const r = rows[q]!;
        const o = packed[2 * (from + q) + 1]! * dim;
        if (r < 0) {
          for (let j = 0; j < dim; j++) res[o + j] = 0;
          continue;
        }
        const base = r * st;
        for (let j = 0; j < dim; j++) res[o + j] = f[base + j]!;
      }
    }
  }

  /** Per-key lookup for rows stored as halves. */
  lookupSliceGeneric(sh: TableShard, w: IdWords, from: number, to: number, res: Float32Array, insert: boolean, ts: number): void {
    const packed = this.batch.packed;
    const dim = this.dim;
    for (let k = from; k < to; k++) {
      const h = packed[2 * k]! >>> 0;
      const i = packed[2 * k + 1]!;
      const lo = w[2 * i]! | 0;
      const hi = w[2 * i + 1]! | 0;
      const slot = sh.find(lo, hi, h);
      let v = slot >= 0 ? sh.valAt(slot) : 0;
      if (v <= 0 && insert) v = this.entries.admitOrCount(sh, slot, lo, hi, h, v, ts);
      this.entries.readRow(sh, v, res, i * dim);
    }
  }
}
