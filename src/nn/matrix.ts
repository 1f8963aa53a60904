import { ConfigError } from '../errors.js';
import { tf, type Tensor, type Tensor2D } from './tf.js';

/** A [batch_size, list_size] table of plain numbers. */
export type Matrix = number[][];
/** A [batch_size, list_size] input: a rank-2 tensor or nested arrays. */
export type MatrixLike = Tensor | Matrix;

/** Reads a rank-2 input into nested arrays; `what` names it in the error. */
export function toMatrix(x: MatrixLike, what: string): Matrix {
  if (x instanceof tf.Tensor) {
    if (x.rank !== 2) throw new ConfigError(`${what} must have rank 2 [batch_size, list_size], got shape [${x.shape.join(', ')}]`);
    return x.arraySync() as Matrix;
  }
  if (!Array.isArray(x) || x.some((row) => !Array.isArray(row))) throw new ConfigError(`${what} must be a [batch_size, list_size] array`);
  const n = x[0]?.length ?? 0;
  if (x.some((row) => row.length !== n)) throw new ConfigError(`${what} rows must all have the same length`);
  return x;
}

/** A rank-2 float32 tensor of an input (the same tensor when it already is one). */
export function toTensor2d(x: MatrixLike, what: string): Tensor2D {
  if (x instanceof tf.Tensor) {
    if (x.rank !== 2) throw new ConfigError(`${what} must have rank 2 [batch_size, list_size], got shape [${x.shape.join(', ')}]`);
    return (x.dtype === 'float32' ? x : tf.cast(x, 'float32')) as Tensor2D;
  }
  const m = toMatrix(x, what);
  return tf.tensor2d(m, [m.length, m[0]?.length ?? 0], 'float32');
}

export function sameShape(a: Matrix, b: Matrix, what: string): void {
  if (a.length !== b.length || (a[0]?.length ?? 0) !== (b[0]?.length ?? 0)) {
    throw new ConfigError(`${what}: shapes [${a.length}, ${a[0]?.length ?? 0}] and [${b.length}, ${b[0]?.length ?? 0}] differ`);
  }
}

/**
 * Indices of `row` sorted by value, largest first; equal values keep their
 * order (lower index first), as `tf.nn.top_k(sorted=True)` does.
 */
export function argsortDesc(row: readonly number[], topn = row.length): number[] {
  const idx = row.map((_, i) => i);
  idx.sort((a, b) => (row[b]! - row[a]!) || a - b);
  return idx.slice(0, Math.max(0, Math.min(topn, row.length)));
}

/** Gathers the rows of `x` ([B, L] tensor) by per-row column indices ([B, K]); differentiable. */
export function gatherRows(x: Tensor2D, indices: number[][]): Tensor2D {
  const [b, l] = x.shape;
  const k = indices[0]?.length ?? 0;
  const flat = new Int32Array(b * k);
  indices.forEach((row, i) => row.forEach((j, c) => (flat[i * k + c] = i * l + j)));
  return tf.reshape(tf.gather(tf.reshape(x, [-1]), tf.tensor1d(flat, 'int32')), [b, k]);
}

/** Keeps the rows of a [B, ...] tensor whose `keep` flag is set (boolean_mask on the first axis). */
export function keepRows<T extends Tensor>(x: T, keep: readonly boolean[]): T {
  const idx = keep.flatMap((k, i) => (k ? [i] : []));
  return tf.gather(x, tf.tensor1d(idx, 'int32')) as T;
}

/** Float32 rounding of a float64 value, for constants TF computes in float32. */
export const f32 = Math.fround;
