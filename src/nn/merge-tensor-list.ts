import { ConfigError } from '../errors.js';
import { checkDim } from './check-dim.js';
import { MergeType } from './merge-type.js';
import { tf, type Tensor } from './tf.js';

export interface MergeTensorListOptions {
  /** 'concat' (default), 'stack' or null (keep / make a list). */
  mergeType?: MergeType;
  /** With one 2-D input [B, n * e]: the number n of features packed in it. */
  numFeature?: number | null;
  /** Axis to merge / unstack along (default 1). */
  axis?: number;
  /** Return a one-element list instead of a bare tensor (default false). */
  keepList?: boolean;
}

/**
 * `merge_tensor_list`. One tensor (or a list of one):
 * - 3-D [B, n, e]: stack → as is; concat → [B, n * e]; null → unstacked along `axis`;
 * - 2-D [B, n * e] with numFeature n > 1: stack → [B, n, e]; concat → as is; null → [B, n, e] unstacked along `axis`;
 * - other 2-D: as is; other ranks: an error.
 * Several tensors: stacked or concatenated along `axis`, or returned as they are.
 */
export function mergeTensorList(tensorList: Tensor | readonly Tensor[], opts: MergeTensorListOptions = {}): Tensor | Tensor[] {
  const mergeType = opts.mergeType === undefined ? MergeType.CONCAT : opts.mergeType;
  const axis = opts.axis ?? 1;
  const keepList = opts.keepList ?? false;
  const list = tensorList instanceof tf.Tensor ? [tensorList] : [...tensorList];
  if (mergeType !== 'stack' && mergeType !== 'concat' && mergeType !== null) throw new ConfigError(`merge_type must be 'stack', 'concat' or null, got ${String(mergeType)}`);
  if (list.length === 0) throw new ConfigError('merge_tensor_list: empty tensor list');
  const out = (t: Tensor): Tensor | Tensor[] => (keepList ? [t] : t);

  if (list.length === 1) {
    const t = list[0]!;
    const shape = t.shape.map((d) => checkDim(d));
    const numFeature = opts.numFeature ?? null;
    if (shape.length === 3) {
      const [b, n, e] = shape as [number, number, number];
      if (mergeType === MergeType.STACK) return out(t);
      if (mergeType === MergeType.CONCAT) return out(tf.reshape(t, [b, n * e]));
      return tf.unstack(t, axis);
    }
    if (shape.length === 2 && numFeature !== null && numFeature > 1) {
      const [b, width] = shape as [number, number];
      if (width % numFeature !== 0) throw new ConfigError(`merge_tensor_list: width ${width} is not a multiple of num_feature ${numFeature}`);
      const e = Math.trunc(width / numFeature);
      if (mergeType === MergeType.STACK) return out(tf.reshape(t, [b, numFeature, e]));
      if (mergeType === MergeType.CONCAT) return out(t);
      return tf.unstack(tf.reshape(t, [b, numFeature, e]), axis);
    }
    if (shape.length === 2) return out(t);
    throw new ConfigError(`shape error: (${shape.join(', ')})`);
  }
  if (mergeType === MergeType.STACK) return out(tf.stack(list, axis));
  if (mergeType === MergeType.CONCAT) return out(tf.concat(list, axis));
  return list;
}
