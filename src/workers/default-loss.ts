import * as tf from '@tensorflow/tfjs-core';
import type { HeadSpec, LossInputs } from '../model/model-spec.js';

/**
 * The runtime's loss when a model brings none: per classification head the
 * mean sigmoid cross-entropy of its logit, per regression head the mean
 * squared error, each row multiplied by its instance weight, summed over heads.
 * The mean divides by the rows (not by the weights' sum), so a weight of 0
 * removes a row's contribution without rescaling the others.
 */
export function defaultLoss(heads: readonly HeadSpec[], { logits, labels, weights }: LossInputs): tf.Scalar {
  return tf.tidy(() => {
    let total: tf.Scalar = tf.scalar(0);
    heads.forEach((h, k) => {
      const logit = tf.reshape(logits[k]!, [-1]);
      const label = tf.reshape(tf.slice(labels, [0, h.labelIndex], [-1, 1]), [-1]);
      let perRow: tf.Tensor;
      if (h.kind === 'classification') {
        // max(x, 0) - x z + log(1 + exp(-|x|)): stable for large |x|.
        perRow = tf.add(tf.sub(tf.relu(logit), tf.mul(logit, label)), tf.log1p(tf.exp(tf.neg(tf.abs(logit)))));
      } else {
        perRow = tf.square(tf.sub(logit, label));
      }
      if (weights) perRow = tf.mul(perRow, tf.reshape(weights, [-1]));
      total = tf.add(total, tf.mean(perRow)) as tf.Scalar;
    });
    return total;
  });
}
