import { toTensor2d, type MatrixLike } from './matrix.js';
import { tf, type Tensor2D } from './tf.js';

/**
 * `approx_ranks` (Qin et al.): rank_i = 1/2 + sum_j sigmoid(alpha * (s_j - s_i))
 * — the j = i term adds the other 1/2, so a clear winner gets ~1. Differentiable;
 * O(list_size^2) per list.
 */
export function approxRanks(logits: MatrixLike, alpha = 10): Tensor2D {
  return tf.tidy(() => {
    const s = toTensor2d(logits, 'approx_ranks logits');
    const pairs = tf.sigmoid(tf.mul(alpha, tf.sub(tf.expandDims(s, 1), tf.expandDims(s, 2))));
    return tf.add(tf.sum(pairs, -1), 0.5) as Tensor2D;
  });
}
