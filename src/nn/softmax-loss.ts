import { DCGLambdaWeight } from './dcg-lambda-weight.js';
import { isValidLabel } from './label-valid.js';
import type { LambdaWeight } from './lambda-weight.js';
import { f32, keepRows, type MatrixLike } from './matrix.js';
import type { RankingLossOptions } from './pairwise-loss.js';
import { computeWeightedLoss, Reduction } from './reduction.js';
import { sortAndNormalize } from './sort-and-normalize.js';
import { tf, type Tensor, type Tensor2D } from './tf.js';

/** TF-Ranking's `_EPSILON`: invalid items get the logit log(1e-10), a ~0 share of the softmax. */
export const RANKING_EPSILON = 1e-10;

export interface SoftmaxLossOptions extends RankingLossOptions {
  /** Only a DCGLambdaWeight has an effect: it replaces the labels by its individual weights. */
  lambdaWeight?: LambdaWeight | null;
}

/**
 * `_softmax_loss`: per list, the cross entropy of softmax(logits) against the
 * labels normalized to sum 1, weighted by the (weighted) label sum; lists whose
 * label sum is 0 are dropped. Items with labels < 0 count as label 0 and logit log(1e-10).
 */
export function softmaxLoss(labels: MatrixLike, logits: MatrixLike, opts: SoftmaxLossOptions = {}): Tensor {
  return tf.tidy(() => {
    const sorted = sortAndNormalize(labels, logits, opts.weights);
    const valid = sorted.labels.map((row) => row.map(isValidLabel));
    let lab = sorted.labels.map((row, b) => row.map((l, i) => (valid[b]![i] ? l : 0)));
    const logEps = f32(Math.log(RANKING_EPSILON));
    const lg = tf.where(tf.tensor2d(valid, undefined, 'bool'), sorted.logits, tf.fill(sorted.logits.shape, logEps)) as Tensor2D;
    if (opts.lambdaWeight instanceof DCGLambdaWeight) lab = opts.lambdaWeight.individualWeightValues(lab);
    lab = lab.map((row, b) => row.map((l, i) => l * sorted.weights[b]![i]!));
    const labelSum = lab.map((row) => row.reduce((a, v) => a + v, 0));
    const keep = labelSum.map((s) => s > 0);
    const n = keep.filter(Boolean).length;
    if (n === 0) return tf.mul(tf.sum(sorted.logits), 0);
    const target = tf.tensor2d(lab.filter((_, b) => keep[b]).map((row, k) => row.map((l) => l / labelSum.filter((_, b) => keep[b])[k]!)));
    const perList = tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(keepRows(lg, keep), -1)), -1));
    return computeWeightedLoss(perList, tf.tensor1d(labelSum.filter((_, b) => keep[b])), opts.reduction ?? Reduction.SUM_BY_NONZERO_WEIGHTS);
  });
}
