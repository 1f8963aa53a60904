import type { monolith } from '../../proto.js';

export type SingleOptimizerDump = monolith.hash_table.SingleOptimizerDump.$Properties;
export type OptimizerConfig = monolith.hash_table.OptimizerConfig.$Properties;

/**
 * The optimizer of one segment of an entry. Its state lives in the same
 * Float32Array as the row (`rows`), `stateWords` floats from `s`; the
 * segment's embedding is `dim` floats from `w`.
 */
export interface SegmentOptimizer {
  /** The SingleOptimizerDump oneof name this optimizer writes ('sgd', 'adagrad', ...). */
  readonly kind: string;
  readonly dim: number;
  readonly stateWords: number;
  /** The configured learning rate (used when the table has no learning-rate function for the segment). */
  readonly learningRate: number;
  init(rows: Float32Array, s: number): void;
  /**
   * One update with the (already summed) gradient `g[gAt .. gAt + dim)`. `reg` (default 1) multiplies the
   * optimizer's L2 regularization: FTRL's and group FTRL's L2, every weight decay.
   */
  apply(rows: Float32Array, w: number, s: number, g: Float32Array, gAt: number, lr: number, step: number, reg?: number): void;
  /**
   * Optional batched form of `apply` (one call per shard and batch instead of
   * one per id): updates rows `rowIds[0 .. count)` (row numbers, `stride`
   * floats each, embedding at `w`, state at `s` inside the row); the gradient
   * of the u-th row starts at `g[gOff[u] + w]`.
   */
  applyRows?(rows: Float32Array, stride: number, rowIds: Int32Array, count: number, w: number, s: number, g: Float32Array, gOff: Int32Array, lr: number, step: number, reg?: number): void;
  dump(rows: Float32Array, s: number): SingleOptimizerDump;
  /** Loads state from a dump of the same kind; returns false when the dump is of another kind (state is then initialised). */
  restore(rows: Float32Array, s: number, d: SingleOptimizerDump | null | undefined): boolean;
}

/** Reads an optional numeric config field with Monolith's default. */
export const opt = (v: number | { toNumber(): number } | null | undefined, dflt: number): number =>
  v === null || v === undefined ? dflt : typeof v === 'number' ? v : v.toNumber();

/** Copies `n` floats of a repeated dump field into the row; false when the dump has fewer. */
export function loadFloats(rows: Float32Array, at: number, src: readonly number[] | null | undefined, n: number): boolean {
  if (!src || src.length < n) return false;
  for (let i = 0; i < n; i++) rows[at + i] = src[i]!;
  return true;
}

export const readFloats = (rows: Float32Array, at: number, n: number): number[] => Array.from(rows.subarray(at, at + n));

/** Runs `o` over `count` rows: its batched `applyRows` when it has one, else `apply` per row. */
export function applyRows(o: SegmentOptimizer, rows: Float32Array, stride: number, rowIds: Int32Array, count: number, w: number, s: number, g: Float32Array, gOff: Int32Array, lr: number, step: number, reg = 1): void {
  if (o.applyRows) return o.applyRows(rows, stride, rowIds, count, w, s, g, gOff, lr, step, reg);
  for (let u = 0; u < count; u++) {
    const base = rowIds[u]! * stride;
    o.apply(rows, base + w, base + s, g, gOff[u]! + w, lr, step, reg);
  }
}
