import { isValidLabel } from './label-valid.js';
import type { LambdaWeight } from './lambda-weight.js';
import { ListMLELambdaWeight } from './list-mle-lambda-weight.js';
import { argsortDesc, f32, gatherRows, sameShape, toMatrix, toTensor2d, type MatrixLike } from './matrix.js';
import { organizeValidOrder } from './organize-valid-indices.js';
import type { RankingLossOptions } from './pairwise-loss.js';
import { listwiseWeights } from './ranking-weights.js';
import { computeWeightedLoss, Reduction } from './reduction.js';
import { RANKING_EPSILON } from './softmax-loss.js';
import { tf, type Tensor } from './tf.js';
import type { RandomSource } from './seeded-rng.js';

export interface ListMleLossOptions extends RankingLossOptions {
  /** Only a ListMLELambdaWeight has an effect: it weighs each position's term. */
  lambdaWeight?: LambdaWeight | null;
  /** Seed of the shuffle that breaks label ties, or a generator to draw from. */
  seed?: RandomSource;
}

/**
 * `_list_mle_loss` (Xia et al. 2008): the negative log-likelihood of the
 * label order under the Plackett-Luce model of the logits,
 * sum_i [log sum_{k >= i} exp(s_k) - s_i] over the items sorted by label.
 * Ties between labels are broken by a seeded shuffle of the valid items
 * (invalid items go last, with label 0 and logit log(1e-10)). Weights are
 * listwise.
 */
export function listMleLoss(labels: MatrixLike, logits: MatrixLike, opts: ListMleLossOptions = {}): Tensor {
  return tf.tidy(() => {
    const lab = toMatrix(labels, 'labels');
    const lg0 = toTensor2d(logits, 'logits');
    sameShape(lab, lg0.arraySync() as number[][], 'labels and logits');
    const [batch] = lg0.shape;
    const weights = listwiseWeights(opts.weights, batch, 'list_mle_loss');
    const valid = lab.map((row) => row.map(isValidLabel));
    const cleaned = lab.map((row) => row.map((l) => (isValidLabel(l) ? l : 0)));
    const lg = tf.where(tf.tensor2d(valid, undefined, 'bool'), lg0, tf.fill(lg0.shape, f32(Math.log(RANKING_EPSILON))));
    // Shuffle (valid first), then a stable sort by label: one permutation per list.
    const shuffled = organizeValidOrder(valid, { shuffle: true, seed: opts.seed });
    const order = shuffled.map((perm, b) => {
      const shuffledLabels = perm.map((j) => cleaned[b]![j]!);
      return argsortDesc(shuffledLabels).map((k) => perm[k]!);
    });
    const sortedLabels = order.map((o, b) => o.map((j) => cleaned[b]![j]!));
    let sorted = gatherRows(lg as typeof lg0, order);
    sorted = tf.sub(sorted, tf.max(sorted, 1, true));
    let sums = tf.sub(tf.log(tf.cumsum(tf.exp(sorted), 1, false, true)), sorted);
    if (opts.lambdaWeight instanceof ListMLELambdaWeight) sums = tf.mul(sums, tf.tensor2d(opts.lambdaWeight.individualWeightValues(sortedLabels)));
    const nll = tf.sum(sums, 1);
    return computeWeightedLoss(nll, tf.tensor1d(weights), opts.reduction ?? Reduction.SUM_BY_NONZERO_WEIGHTS);
  });
}
