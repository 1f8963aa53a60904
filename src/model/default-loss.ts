import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's node bundle registers no gradients; tfjs-layers' bundle registers all of them.
import '@tensorflow/tfjs-layers';
import type { HeadSpec, LossInputs } from './model-spec.js';

/** Per-row sigmoid cross-entropy from logits: max(x, 0) − x·z + log(1 + e^(−|x|)). */
export function sigmoidCrossEntropyWithLogits(labels: tf.Tensor, logits: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.add(tf.sub(tf.relu(logits), tf.mul(logits, labels)), tf.log1p(tf.exp(tf.neg(tf.abs(logits))))));
}

/** Label column `i` of [rows, width] labels as [rows]. */
export const labelColumn = (labels: tf.Tensor, i: number): tf.Tensor =>
  labels.rank === 1 ? labels : tf.reshape(tf.slice(labels, [0, i], [-1, 1]), [-1]);

/**
 * The loss of a model that brings none (ModelSpec's documented default): per
 * classification head the mean sigmoid cross-entropy of its logit, per
 * regression head the mean squared error, each row multiplied by its instance
 * weight; the heads' losses are summed. The mean divides by the rows, not by
 * the weights' sum, so a weight of 0 removes a row without rescaling the others.
 */
export function defaultLoss(heads: readonly HeadSpec[], { logits, labels, weights }: LossInputs, reduction: 'mean' | 'sum' = 'mean'): tf.Scalar {
  return tf.tidy(() => {
    const parts = heads.map((h, i) => {
      const x = tf.reshape(logits[i]!, [-1]);
      const y = labelColumn(labels, h.labelIndex);
      const per = h.kind === 'classification' ? sigmoidCrossEntropyWithLogits(y, x) : tf.squaredDifference(x, y);
      const weighted = weights ? tf.mul(per, tf.reshape(weights, [-1])) : per;
      return reduction === 'sum' ? tf.sum(weighted) : tf.mean(weighted);
    });
    return (parts.length === 1 ? parts[0]! : tf.addN(parts)) as tf.Scalar;
  });
}
