import { ConfigError } from '../errors.js';
import type { Tensor } from './tf.js';

/** A dimension as TF writes it: a number, unknown (null / undefined), or a `Dimension`-like `{ value }`. */
export type DimLike = number | null | undefined | { value: number | null | undefined };

/** `check_dim`: unknown → -1, a number → itself, `{ value }` → its value (unknown → -1); anything else is an error. */
export function checkDim(dim: DimLike): number {
  if (dim === null || dim === undefined) return -1;
  if (typeof dim === 'number' && Number.isInteger(dim)) return dim;
  if (typeof dim === 'object' && 'value' in dim) return dim.value === null || dim.value === undefined ? -1 : checkDim(dim.value);
  throw new ConfigError(`dim ${String(dim)} is error`);
}

/** `dim_size`: the size of `axis` (tfjs shapes are always known, so this is never a tensor). */
export function dimSize(inputs: Tensor, axis: number): number {
  if (!(Number.isInteger(axis) && axis >= 0 && axis < inputs.rank)) {
    throw new ConfigError(`dim_size: axis ${axis} is out of range for a tensor of rank ${inputs.rank}`);
  }
  return inputs.shape[axis]!;
}
