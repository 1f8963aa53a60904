import { approxRanks } from './approx-ranks.js';
import { inverseMaxDcgValues } from './inverse-max-dcg.js';
import { isValidLabel } from './label-valid.js';
import { keepRows, sameShape, toMatrix, toTensor2d, type MatrixLike } from './matrix.js';
import type { RankingLossOptions } from './pairwise-loss.js';
import { listwiseWeights } from './ranking-weights.js';
import { computeWeightedLoss, Reduction } from './reduction.js';
import { tf, type Tensor, type Tensor2D } from './tf.js';

export interface ApproxNdcgLossOptions extends RankingLossOptions {
  /** Steepness of the sigmoid that approximates ranks (default 10). */
  alpha?: number;
}

/**
 * `_approx_ndcg_loss` (Qin et al.): -NDCG with ranks from `approxRanks`,
 * gains 2^label - 1 and discounts 1 / ln(1 + rank). Items with labels < 0 get
 * label 0 and logit min(row) - 1000; lists without a positive label are
 * dropped. Default reduction SUM; default list weight 1 (TF-Ranking's
 * docstring says "label sum", its code uses 1). Weights are listwise.
 */
export function approxNdcgLoss(labels: MatrixLike, logits: MatrixLike, opts: ApproxNdcgLossOptions = {}): Tensor {
  return tf.tidy(() => {
    const lab = toMatrix(labels, 'labels');
    const lg0 = toTensor2d(logits, 'logits');
    sameShape(lab, lg0.arraySync() as number[][], 'labels and logits');
    const [batch] = lg0.shape;
    const weights = listwiseWeights(opts.weights, batch, 'approx_ndcg_loss');
    const valid = lab.map((row) => row.map(isValidLabel));
    const cleaned = lab.map((row) => row.map((l) => (isValidLabel(l) ? l : 0)));
    const floor = tf.add(tf.min(lg0, -1, true), -1e3);
    const lg = tf.where(tf.tensor2d(valid, undefined, 'bool'), lg0, tf.mul(tf.onesLike(lg0), floor)) as Tensor2D;
    const keep = cleaned.map((row) => row.reduce((a, v) => a + v, 0) > 0);
    if (!keep.some(Boolean)) return tf.mul(tf.sum(lg0), 0);
    const keptLabels = cleaned.filter((_, b) => keep[b]);
    const gains = tf.tensor2d(keptLabels.map((row) => row.map((l) => Math.pow(2, l) - 1)));
    const ranks = approxRanks(keepRows(lg, keep), opts.alpha ?? 10);
    const dcg = tf.sum(tf.mul(gains, tf.div(1, tf.log1p(ranks))), -1);
    const cost = tf.mul(tf.neg(dcg), tf.tensor1d(inverseMaxDcgValues(keptLabels)));
    return computeWeightedLoss(cost, tf.tensor1d(weights.filter((_, b) => keep[b])), opts.reduction ?? Reduction.SUM);
  });
}
