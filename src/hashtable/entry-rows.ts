import { fromHalf, toHalf } from './fp16.js';
import type { EntryLayout } from './entry-config.js';
import type { SlotTable } from './slot-policy.js';
import type { TableShard } from './table-shard.js';

/**
 * Row-level work shared by every table operation: creating a row (initializer,
 * optimizer state, update time), the occurrence filter's admit-or-count, and
 * reading / writing an embedding (floats or halves). The caller holds the
 * shard's lock.
 */
export class EntryRows {
  readonly dim: number;
  /** Whether any slot has an occurrence threshold above zero. */
  readonly filtered: boolean;

  constructor(
    readonly layout: EntryLayout,
    readonly thresholds: SlotTable,
  ) {
    this.dim = layout.dim;
    this.filtered = !(thresholds.uniform && thresholds.default <= 0);
  }

  /** Makes a new row for (lo, hi) in `sh`, initialised, and returns row + 1. `slot` is the find() result. */
  createRow(sh: TableShard, slot: number, lo: number, hi: number, h: number, ts: number): number {
    const row = sh.allocRow();
    this.initRow(sh, row, lo, hi);
    sh.u32[row * sh.stride + this.layout.tsWord] = ts;
    sh.noteUpdateTs(ts);
    if (slot >= 0) sh.admit(slot, row);
    else sh.insert(lo, hi, h, row + 1, ~slot);
    return row + 1;
  }

  initRow(sh: TableShard, row: number, lo: number, hi: number): void {
    const base = row * sh.stride;
    const f = sh.f32;
    const L = this.layout;
    if (L.halves) {
      const tmp = this.tmpRow();
      for (const seg of L.segments) seg.initializer(tmp, seg.embAt, lo, hi);
      this.writeHalves(sh, base, tmp, 0);
      return;
    }
    for (const seg of L.segments) {
      seg.initializer(f, base + seg.embAt, lo, hi);
      if (!L.serving) seg.optimizer.init(f, base + seg.stateAt);
    }
  }

  private tmp: Float32Array | undefined;
  private tmpRow(): Float32Array {
    return (this.tmp ??= new Float32Array(this.dim));
  }
  writeHalves(sh: TableShard, base: number, src: ArrayLike<number>, at: number): void {
    const h = sh.u16;
    const b = base * 2;
    for (let i = 0; i < this.dim; i++) h[b + i] = toHalf(src[at + i]!);
  }

  /**
   * Occurrence filter for a missing id (`v <= 0` is minus its count so far):
   * admits it (returns row + 1) once it was seen `threshold` times before,
   * otherwise counts this sighting and returns 0.
   */
  admitOrCount(sh: TableShard, slot: number, lo: number, hi: number, h: number, v: number, ts: number): number {
    const threshold = this.filtered ? this.thresholds.forHi(hi) : 0;
    const seen = -v;
    if (seen >= threshold) return this.createRow(sh, slot, lo, hi, h, ts);
    if (slot >= 0) sh.setVal(slot, v - 1);
    else sh.insert(lo, hi, h, -1, ~slot);
    return 0;
  }

  /** Copies the embedding of row `v - 1` (or zeros when v <= 0) to out[o ..]. */
  readRow(sh: TableShard, v: number, out: Float32Array, o: number): void {
    const dim = this.dim;
    if (v <= 0) {
      out.fill(0, o, o + dim);
      return;
    }
    const base = (v - 1) * sh.stride;
    if (this.layout.halves) {
      const hv = sh.u16;
      for (let j = 0; j < dim; j++) out[o + j] = fromHalf(hv[base * 2 + j]!);
      return;
    }
    const f = sh.f32;
    for (let j = 0; j < dim; j++) out[o + j] = f[base + j]!;
  }

  // ---- operations ---------------------------------------------------------------

  writeEmbedding(sh: TableShard, row: number, src: ArrayLike<number>, at: number): void {
    const base = row * sh.stride;
    if (this.layout.halves) return this.writeHalves(sh, base, src, at);
    const f = sh.f32;
    for (let j = 0; j < this.dim; j++) f[base + j] = src[at + j]!;
  }
}
