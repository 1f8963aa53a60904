import type { MatrixLike } from './matrix.js';
import { pairwiseLoss, type PairwiseLossOptions } from './pairwise-loss.js';
import { tf, type Tensor } from './tf.js';

/** `_pairwise_hinge_loss`: max(0, 1 - (s_i - s_j)) over pairs with l_i > l_j. */
export function pairwiseHingeLoss(labels: MatrixLike, logits: MatrixLike, opts: PairwiseLossOptions = {}): Tensor {
  return pairwiseLoss((x) => tf.relu(tf.sub(1, x)), labels, logits, opts);
}
