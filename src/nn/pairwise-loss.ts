import { ConfigError } from '../errors.js';
import { isValidLabel } from './label-valid.js';
import type { Cube, LambdaWeight } from './lambda-weight.js';
import type { Matrix, MatrixLike } from './matrix.js';
import { computeWeightedLoss, Reduction } from './reduction.js';
import type { RankingWeights } from './ranking-weights.js';
import { sortAndNormalize } from './sort-and-normalize.js';
import { tf, type Tensor, type Tensor2D, type Tensor3D } from './tf.js';

export interface RankingLossOptions {
  /** Scalar, listwise [batch_size, 1] or itemwise [batch_size, list_size]. */
  weights?: RankingWeights;
  reduction?: Reduction;
  /** Only named TF ops; accepted for parity. */
  name?: string | null;
}

export interface PairwiseLossOptions extends RankingLossOptions {
  lambdaWeight?: LambdaWeight | null;
  /** With a lambda weight, multiply the pair weights by list_size (default true). */
  lambdaScale?: boolean;
}

/** Reads a lambda weight's pair weights at (b, i, j), broadcasting numbers and [B, L] / [L, L] matrices like numpy. */
function pairWeightAt(w: Cube | Matrix | number, b: number, i: number, j: number): number {
  if (typeof w === 'number') return w;
  const first = w[0];
  if (first !== undefined && Array.isArray(first[0])) {
    const cube = w as Cube;
    return cube[cube.length === 1 ? 0 : b]![i]![j]!;
  }
  const m = w as Matrix;
  return m[m.length === 1 ? 0 : i]![m[0]!.length === 1 ? 0 : j]!;
}

/**
 * `_pairwise_comparison` on sorted lists: pairwise logits s_i - s_j
 * (differentiable, [B, L, L]) and constant pair weights
 * 1{l_i > l_j} * 1{both valid} * w_i * (lambda pair weight, or |l_i - l_j|).
 */
export function pairwiseComparison(sortedLabels: Matrix, sortedLogits: Tensor2D, sortedWeights: Matrix, lambdaWeight?: LambdaWeight | null): { pairwiseLogits: Tensor3D; pairwiseWeights: Cube } {
  const lambda = lambdaWeight ? lambdaWeight.pairWeightValues(sortedLabels) : undefined;
  if (lambda !== undefined && typeof lambda !== 'number') {
    const l = sortedLabels[0]?.length ?? 0;
    const first = lambda[0];
    const ok = Array.isArray(first?.[0])
      ? (lambda.length === 1 || lambda.length === sortedLabels.length) && (lambda as Cube).every((m) => m.length === l && m.every((r) => r.length === l))
      : (lambda.length === 1 || lambda.length === l) && (lambda as Matrix).every((r) => r.length === 1 || r.length === l);
    if (!ok) throw new ConfigError('lambda_weight: pair weights do not broadcast to [batch_size, list_size, list_size]');
  }
  const pairwiseWeights = sortedLabels.map((row, b) =>
    row.map((li, i) =>
      row.map((lj, j) => {
        if (!(li > lj) || !isValidLabel(li) || !isValidLabel(lj)) return 0;
        const w = sortedWeights[b]![i]!;
        return w * (lambda === undefined ? Math.abs(li - lj) : pairWeightAt(lambda, b, i, j));
      }),
    ),
  );
  const pairwiseLogits = tf.sub(tf.expandDims(sortedLogits, 2), tf.expandDims(sortedLogits, 1)) as Tensor3D;
  return { pairwiseLogits, pairwiseWeights };
}

/** `_pairwise_loss`: the template of the pairwise losses; `pairLoss` maps pairwise logits (l_i > l_j) to losses. */
export function pairwiseLoss(pairLoss: (pairwiseLogits: Tensor3D) => Tensor, labels: MatrixLike, logits: MatrixLike, opts: PairwiseLossOptions = {}): Tensor {
  return tf.tidy(() => {
    const sorted = sortAndNormalize(labels, logits, opts.weights);
    const { pairwiseLogits, pairwiseWeights } = pairwiseComparison(sorted.labels, sorted.logits, sorted.weights, opts.lambdaWeight);
    let weights = tf.tensor3d(pairwiseWeights, [sorted.labels.length, sorted.labels[0]!.length, sorted.labels[0]!.length]);
    // LambdaLoss weights shrink the loss; TF-Ranking scales them back by list_size.
    if (opts.lambdaWeight && (opts.lambdaScale ?? true)) weights = tf.mul(weights, sorted.labels[0]!.length);
    return computeWeightedLoss(pairLoss(pairwiseLogits), weights, opts.reduction ?? Reduction.SUM_BY_NONZERO_WEIGHTS);
  });
}
