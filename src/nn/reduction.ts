import { ConfigError } from '../errors.js';
import { tf, type Tensor } from './tf.js';

/** `tf.compat.v1.losses.Reduction`: the same strings, so configs written for TF read the same. */
export const Reduction = {
  /** Un-reduced weighted losses. */
  NONE: 'none',
  /** Sum of the weighted losses. */
  SUM: 'weighted_sum',
  /** SUM divided by the sum of the weights (broadcast to the losses). */
  MEAN: 'weighted_mean',
  /** SUM divided by the number of loss elements. */
  SUM_OVER_BATCH_SIZE: 'weighted_sum_over_batch_size',
  /** SUM divided by the number of non-zero weights (broadcast to the losses). */
  SUM_BY_NONZERO_WEIGHTS: 'weighted_sum_by_nonzero_weights',
  SUM_OVER_NONZERO_WEIGHTS: 'weighted_sum_by_nonzero_weights',
} as const;
export type Reduction = (typeof Reduction)[keyof typeof Reduction];

const ALL = new Set<string>(Object.values(Reduction));
export const isReduction = (r: unknown): r is Reduction => typeof r === 'string' && ALL.has(r);

/**
 * `tf.compat.v1.losses.compute_weighted_loss`: losses * weights, then reduced.
 * Divisions are "safe" as in TF: a zero denominator gives 0, not NaN. The
 * weights are constants here (the losses of this package never differentiate
 * through them), so the denominators are computed on the host.
 */
export function computeWeightedLoss(losses: Tensor, weights: Tensor | number = 1, reduction: Reduction = Reduction.SUM_BY_NONZERO_WEIGHTS): Tensor {
  if (!isReduction(reduction)) throw new ConfigError(`Invalid ReductionKey ${String(reduction)}.`);
  return tf.tidy(() => {
    const w = typeof weights === 'number' ? tf.scalar(weights) : tf.cast(weights, 'float32');
    if (w.rank > 0 && w.rank !== losses.rank) {
      throw new ConfigError(`weights of shape [${w.shape.join(', ')}] cannot be broadcast to losses of shape [${losses.shape.join(', ')}]`);
    }
    w.shape.forEach((d, i) => {
      if (d !== 1 && d !== losses.shape[i]) {
        throw new ConfigError(`weights of shape [${w.shape.join(', ')}] cannot be broadcast to losses of shape [${losses.shape.join(', ')}]`);
      }
    });
    const weighted = tf.mul(losses, w);
    if (reduction === Reduction.NONE) return weighted;
    const total = tf.sum(weighted);
    if (reduction === Reduction.SUM) return total;
    let denominator: number;
    if (reduction === Reduction.SUM_OVER_BATCH_SIZE) {
      denominator = losses.size;
    } else {
      const broadcast = tf.mul(tf.onesLike(losses), w).dataSync();
      denominator = 0;
      if (reduction === Reduction.MEAN) for (const v of broadcast) denominator += v;
      else for (const v of broadcast) if (v !== 0) denominator += 1;
    }
    // TF (graph mode) divides only by a positive denominator, else gives 0.
    return denominator > 0 ? tf.div(total, denominator) : tf.mul(total, 0);
  });
}
