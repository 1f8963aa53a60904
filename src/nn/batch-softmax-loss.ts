import { ConfigError } from '../errors.js';
import { tf, type Scalar, type Tensor } from './tf.js';

export interface BatchSoftmaxLossOptions {
  /** L2-normalize query and item rows first (default true). */
  normalize?: boolean;
  /** Divides the similarities; must be > 0 (default 1). */
  temperature?: number;
}

/** `tf.math.l2_normalize` along axis 1: x / sqrt(max(sum x^2, 1e-12)). */
function l2NormalizeRows(x: Tensor): Tensor {
  return tf.mul(x, tf.rsqrt(tf.maximum(tf.sum(tf.square(x), 1, true), 1e-12)));
}

/**
 * Monolith's `batch_softmax_loss` (in-batch sampled softmax with logQ
 * correction, Yi et al. 2019): similarity s_ij = q_i . v_j / temperature,
 * corrected by + log(item_step_interval_j) (= - log item frequency, intervals
 * floored at 1), and loss = -sum_i r_i log softmax_j(s_ij)[j = i].
 * Computed as s_ii - logsumexp_j s_ij, equal to the seed's
 * log(exp(s_ii) / sum_j exp(s_ij)) but without overflow.
 *
 * @param query [batch, k]
 * @param item [batch, k]
 * @param itemStepInterval [batch]: mean global-step interval between the item's appearances
 * @param r [batch]: interest weight of each (query, item) pair
 */
export function batchSoftmaxLoss(query: Tensor, item: Tensor, itemStepInterval: Tensor, r: Tensor, opts: BatchSoftmaxLossOptions = {}): Scalar {
  const temperature = opts.temperature ?? 1;
  if (!(temperature > 0)) throw new ConfigError(`temperature should be positive, while got ${temperature}`);
  if (query.rank !== 2 || item.rank !== 2 || query.shape[0] !== item.shape[0] || query.shape[1] !== item.shape[1]) {
    throw new ConfigError(`batch_softmax_loss: query [${query.shape.join(', ')}] and item [${item.shape.join(', ')}] must both be [batch_size, k]`);
  }
  const batch = query.shape[0];
  if (itemStepInterval.size !== batch || r.size !== batch) {
    throw new ConfigError(`batch_softmax_loss: item_step_interval (${itemStepInterval.size}) and r (${r.size}) need one value per row (${batch})`);
  }
  return tf.tidy(() => {
    const q = opts.normalize ?? true ? l2NormalizeRows(query) : query;
    const v = opts.normalize ?? true ? l2NormalizeRows(item) : item;
    const sim = tf.div(tf.matMul(q, v, false, true), temperature);
    const interval = tf.maximum(tf.reshape(itemStepInterval, [batch]), 1);
    // - log(item_frequency) = + log(interval), per item (column).
    const corrected = tf.add(sim, tf.log(interval));
    const diag = tf.sum(tf.mul(corrected, tf.eye(batch)), 1);
    const logProb = tf.sub(diag, tf.logSumExp(corrected, 1));
    return tf.neg(tf.sum(tf.mul(tf.reshape(r, [batch]), logProb))) as Scalar;
  });
}
