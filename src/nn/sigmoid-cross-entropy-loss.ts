import { isValidLabel } from './label-valid.js';
import { sameShape, toMatrix, toTensor2d, type MatrixLike } from './matrix.js';
import type { RankingLossOptions } from './pairwise-loss.js';
import { broadcastWeights } from './ranking-weights.js';
import { computeWeightedLoss, Reduction } from './reduction.js';
import { tf, type Tensor } from './tf.js';

/** The valid items of a list batch, flattened: positions, labels and weights. */
export function validItems(labels: MatrixLike, logits: MatrixLike, weights: RankingLossOptions['weights']): { logits: Tensor; labels: number[]; weights: number[] } {
  const lab = toMatrix(labels, 'labels');
  const lg = toTensor2d(logits, 'logits');
  sameShape(lab, lg.arraySync() as number[][], 'labels and logits');
  const [batch, list] = lg.shape;
  const w = broadcastWeights(weights, batch, list);
  const idx: number[] = [];
  const outLabels: number[] = [];
  const outWeights: number[] = [];
  lab.forEach((row, b) => row.forEach((l, i) => {
    if (!isValidLabel(l)) return;
    idx.push(b * list + i);
    outLabels.push(l);
    outWeights.push(w[b]![i]!);
  }));
  return { logits: tf.gather(tf.reshape(lg, [-1]), tf.tensor1d(idx, 'int32')), labels: outLabels, weights: outWeights };
}

/**
 * `_sigmoid_cross_entropy_loss`: sigmoid cross entropy of each valid item
 * (label >= 0), as `tf.nn.sigmoid_cross_entropy_with_logits`:
 * max(x, 0) - x z + log(1 + exp(-|x|)), with TF's gradient at x = 0.
 */
export function sigmoidCrossEntropyLoss(labels: MatrixLike, logits: MatrixLike, opts: RankingLossOptions = {}): Tensor {
  return tf.tidy(() => {
    const v = validItems(labels, logits, opts.weights);
    const x = v.logits;
    const nonNegative = tf.greaterEqual(x, 0);
    const reluLogits = tf.where(nonNegative, x, tf.zerosLike(x));
    const negAbsLogits = tf.where(nonNegative, tf.neg(x), x);
    const losses = tf.add(tf.sub(reluLogits, tf.mul(x, tf.tensor1d(v.labels))), tf.log1p(tf.exp(negAbsLogits)));
    return computeWeightedLoss(losses, tf.tensor1d(v.weights), opts.reduction ?? Reduction.SUM_BY_NONZERO_WEIGHTS);
  });
}
