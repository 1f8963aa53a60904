import type { MatrixLike } from './matrix.js';
import type { RankingLossOptions } from './pairwise-loss.js';
import { computeWeightedLoss, Reduction } from './reduction.js';
import { validItems } from './sigmoid-cross-entropy-loss.js';
import { tf, type Tensor } from './tf.js';

/** `_mean_squared_loss`: (logit - label)^2 of each valid item (label >= 0). */
export function meanSquaredLoss(labels: MatrixLike, logits: MatrixLike, opts: RankingLossOptions = {}): Tensor {
  return tf.tidy(() => {
    const v = validItems(labels, logits, opts.weights);
    const losses = tf.square(tf.sub(v.logits, tf.tensor1d(v.labels)));
    return computeWeightedLoss(losses, tf.tensor1d(v.weights), opts.reduction ?? Reduction.SUM_BY_NONZERO_WEIGHTS);
  });
}
