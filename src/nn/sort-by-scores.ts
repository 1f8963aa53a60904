import { ConfigError } from '../errors.js';
import { argsortDesc, gatherRows, toMatrix, type Matrix, type MatrixLike } from './matrix.js';
import { tf, type Tensor2D } from './tf.js';

/** Per-row column order of `scores` (largest first, ties by lower index), cut to `topn`. */
export function sortIndices(scores: Matrix, topn?: number | null): number[][] {
  const listSize = scores[0]?.length ?? 0;
  const n = topn === undefined || topn === null ? listSize : Math.min(topn, listSize);
  return scores.map((row) => argsortDesc(row, n));
}

/**
 * `sort_by_scores`: sorts each [batch_size, list_size] feature of
 * `featuresList` by `scores` (descending, as `tf.nn.top_k`: equal scores keep
 * their order) and keeps the first `topn` (default, and at most, list_size).
 * Tensors come back as [batch_size, topn] tensors (gradients flow through
 * them); nested arrays (of any element type, e.g. strings) as nested arrays.
 */
export function sortByScores(scores: MatrixLike, featuresList: Tensor2D[], topn?: number | null): Tensor2D[];
export function sortByScores<T>(scores: MatrixLike, featuresList: T[][][], topn?: number | null): T[][][];
export function sortByScores(scores: MatrixLike, featuresList: (Tensor2D | unknown[][])[], topn?: number | null): (Tensor2D | unknown[][])[] {
  const s = toMatrix(scores, 'sort_by_scores scores');
  const order = sortIndices(s, topn);
  return featuresList.map((f, k) => {
    if (f instanceof tf.Tensor) {
      if (f.shape[0] !== s.length || f.shape[1] !== (s[0]?.length ?? 0)) {
        throw new ConfigError(`sort_by_scores: feature ${k} of shape [${f.shape.join(', ')}] does not match scores [${s.length}, ${s[0]?.length ?? 0}]`);
      }
      return gatherRows(f, order);
    }
    if (f.length !== s.length || f.some((row) => row.length !== (s[0]?.length ?? 0))) {
      throw new ConfigError(`sort_by_scores: feature ${k} does not have the shape of scores`);
    }
    return order.map((idx, i) => idx.map((j) => f[i]![j]));
  });
}
