import type { MatrixLike } from './matrix.js';
import { pairwiseLoss, type PairwiseLossOptions } from './pairwise-loss.js';
import { tf, type Tensor } from './tf.js';

/** `_pairwise_soft_zero_one_loss`: 1 - sigmoid(s_i - s_j), a smooth, bounded 0-1 loss. */
export function pairwiseSoftZeroOneLoss(labels: MatrixLike, logits: MatrixLike, opts: PairwiseLossOptions = {}): Tensor {
  return pairwiseLoss((x) => tf.where(tf.greater(x, 0), tf.sub(1, tf.sigmoid(x)), tf.sigmoid(tf.neg(x))), labels, logits, opts);
}
