import type { MatrixLike } from './matrix.js';
import { pairwiseLoss, type PairwiseLossOptions } from './pairwise-loss.js';
import { tf, type Tensor } from './tf.js';

/** `_pairwise_logistic_loss`: log(1 + exp(-(s_i - s_j))), computed as relu(-x) + log1p(exp(-|x|)). */
export function pairwiseLogisticLoss(labels: MatrixLike, logits: MatrixLike, opts: PairwiseLossOptions = {}): Tensor {
  return pairwiseLoss((x) => tf.add(tf.relu(tf.neg(x)), tf.log1p(tf.exp(tf.neg(tf.abs(x))))), labels, logits, opts);
}
