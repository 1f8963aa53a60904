import { ConfigError } from '../errors.js';
import { tf, type Tensor } from './tf.js';

/** A sparse tensor as plain data (COO): `indices[k]` is the position of `values[k]` in a dense tensor of `denseShape`. */
export interface SparseTensorLike<V = number> {
  indices: number[][];
  values: V[];
  denseShape: number[];
}

function newShapeOf(shape: readonly number[], firstNdims: number, newShape: readonly number[]): number[] {
  if (shape.length < firstNdims) throw new ConfigError(`Tensor shape is less than ${firstNdims} dims.`);
  return [...newShape, ...shape.slice(firstNdims)];
}

/**
 * `reshape_first_ndims`: replaces the first `firstNdims` dimensions by
 * `newShape` (which may hold one -1), keeping the others. Works on dense
 * tensors and on sparse (COO) tensors, like `tf.sparse.reshape`.
 */
export function reshapeFirstNdims(tensor: Tensor, firstNdims: number, newShape: readonly number[]): Tensor;
export function reshapeFirstNdims<V>(tensor: SparseTensorLike<V>, firstNdims: number, newShape: readonly number[]): SparseTensorLike<V>;
export function reshapeFirstNdims<V>(tensor: Tensor | SparseTensorLike<V>, firstNdims: number, newShape: readonly number[]): Tensor | SparseTensorLike<V> {
  if (tensor instanceof tf.Tensor) return tf.reshape(tensor, newShapeOf(tensor.shape, firstNdims, newShape));
  const shape = newShapeOf(tensor.denseShape, firstNdims, newShape);
  const size = tensor.denseShape.reduce((a, b) => a * b, 1);
  const unknown = shape.indexOf(-1);
  if (unknown >= 0) {
    const known = shape.reduce((a, d, i) => (i === unknown ? a : a * d), 1);
    if (known === 0 || size % known !== 0) throw new ConfigError(`cannot reshape a sparse tensor of ${size} elements to [${shape.join(', ')}]`);
    shape[unknown] = size / known;
  }
  if (shape.reduce((a, b) => a * b, 1) !== size) throw new ConfigError(`cannot reshape a sparse tensor of shape [${tensor.denseShape.join(', ')}] to [${shape.join(', ')}]`);
  const indices = tensor.indices.map((ix) => {
    let flat = 0;
    ix.forEach((v, d) => (flat = flat * tensor.denseShape[d]! + v));
    const out = new Array<number>(shape.length);
    for (let d = shape.length - 1; d >= 0; d--) {
      out[d] = flat % shape[d]!;
      flat = Math.floor(flat / shape[d]!);
    }
    return out;
  });
  return { indices, values: [...tensor.values], denseShape: shape };
}
