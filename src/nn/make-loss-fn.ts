import { ConfigError } from '../errors.js';
import { approxNdcgLoss } from './approx-ndcg-loss.js';
import type { LambdaWeight } from './lambda-weight.js';
import { listMleLoss } from './list-mle-loss.js';
import type { MatrixLike } from './matrix.js';
import { meanSquaredLoss } from './mean-squared-loss.js';
import { pairwiseHingeLoss } from './pairwise-hinge-loss.js';
import { pairwiseLogisticLoss } from './pairwise-logistic-loss.js';
import { pairwiseSoftZeroOneLoss } from './pairwise-soft-zero-one-loss.js';
import { isRankingLossKey, RankingLossKey } from './ranking-loss-key.js';
import type { RankingWeights } from './ranking-weights.js';
import { isReduction, Reduction } from './reduction.js';
import { sigmoidCrossEntropyLoss } from './sigmoid-cross-entropy-loss.js';
import { rngOf } from './seeded-rng.js';
import { softmaxLoss } from './softmax-loss.js';
import { tf, type Scalar, type Tensor } from './tf.js';

/** Loss-specific arguments (TF-Ranking's `extra_args`), given to every loss that takes them. */
export interface RankingExtraArgs {
  /** ApproxNDCG's sigmoid steepness. */
  alpha?: number;
  /** Pairwise losses: scale lambda-weighted pair weights by list_size (default true). */
  lambdaScale?: boolean;
}

export interface MakeLossFnOptions {
  /** One weight per loss key (default 1 each). */
  lossWeights?: number[] | null;
  /** Name of the per-item / per-list weights in `features`. */
  weightsFeatureName?: string | null;
  /** Used by the pairwise, softmax and ListMLE losses. */
  lambdaWeight?: LambdaWeight | null;
  /** Any `Reduction` but NONE (default SUM_BY_NONZERO_WEIGHTS), for every loss. */
  reduction?: Reduction;
  name?: string | null;
  /** Seed of ListMLE's tie-breaking shuffle: one seeded stream per loss function, advanced by each call. */
  seed?: number | null;
  extraArgs?: RankingExtraArgs | null;
}

export type RankingFeatures = Record<string, RankingWeights | Tensor | unknown>;
export type RankingLossFn = (labels: MatrixLike, logits: MatrixLike, features?: RankingFeatures) => Scalar;

const EXTRA_ARGS: Record<keyof RankingExtraArgs, RankingLossKey[]> = {
  alpha: [RankingLossKey.APPROX_NDCG_LOSS],
  lambdaScale: [RankingLossKey.PAIRWISE_HINGE_LOSS, RankingLossKey.PAIRWISE_LOGISTIC_LOSS, RankingLossKey.PAIRWISE_SOFT_ZERO_ONE_LOSS],
};

/**
 * `make_loss_fn`: one ranking loss or a weighted sum of several, as a
 * function of (labels, logits, features). Errors (TF-Ranking's ValueErrors)
 * are ConfigErrors, raised when the function is made.
 */
export function makeLossFn(lossKeys: string | readonly string[] | null | undefined, opts: MakeLossFnOptions = {}): RankingLossFn {
  const reduction = opts.reduction ?? Reduction.SUM_BY_NONZERO_WEIGHTS;
  if (!isReduction(reduction) || reduction === Reduction.NONE) throw new ConfigError(`Invalid reduction: ${String(reduction)}`);
  if (!lossKeys || lossKeys.length === 0) throw new ConfigError('loss_keys cannot be None or empty.');
  const keys = typeof lossKeys === 'string' ? [lossKeys] : [...lossKeys];
  const lossWeights = opts.lossWeights && opts.lossWeights.length > 0 ? opts.lossWeights : null;
  if (lossWeights && lossWeights.length !== keys.length) throw new ConfigError('loss_keys and loss_weights must have the same size.');
  for (const k of keys) if (!isRankingLossKey(k)) throw new ConfigError(`Invalid loss_key: ${k}.`);
  const extra = opts.extraArgs ?? {};
  for (const [arg, value] of Object.entries(extra)) {
    if (value === undefined) continue;
    const takers = EXTRA_ARGS[arg as keyof RankingExtraArgs];
    if (!takers) throw new ConfigError(`extra_args: unknown argument '${arg}' (known: ${Object.keys(EXTRA_ARGS).join(', ')})`);
    if (!keys.some((k) => takers.includes(k as RankingLossKey))) {
      throw new ConfigError(`extra_args: '${arg}' is taken by none of the losses ${keys.join(', ')}`);
    }
  }
  const rng = opts.seed === null || opts.seed === undefined ? undefined : rngOf(opts.seed);
  const lambdaWeight = opts.lambdaWeight ?? null;

  return (labels, logits, features = {}) => {
    let weights: RankingWeights;
    if (opts.weightsFeatureName) {
      if (!(opts.weightsFeatureName in features)) throw new ConfigError(`features has no weights feature '${opts.weightsFeatureName}'`);
      weights = features[opts.weightsFeatureName] as RankingWeights;
    }
    return tf.tidy(() => {
      const base = { weights, reduction, name: opts.name };
      const pairwise = { ...base, lambdaWeight, lambdaScale: extra.lambdaScale };
      const losses = keys.map((k): Tensor => {
        switch (k as RankingLossKey) {
          case RankingLossKey.PAIRWISE_HINGE_LOSS: return pairwiseHingeLoss(labels, logits, pairwise);
          case RankingLossKey.PAIRWISE_LOGISTIC_LOSS: return pairwiseLogisticLoss(labels, logits, pairwise);
          case RankingLossKey.PAIRWISE_SOFT_ZERO_ONE_LOSS: return pairwiseSoftZeroOneLoss(labels, logits, pairwise);
          case RankingLossKey.SOFTMAX_LOSS: return softmaxLoss(labels, logits, { ...base, lambdaWeight });
          case RankingLossKey.SIGMOID_CROSS_ENTROPY_LOSS: return sigmoidCrossEntropyLoss(labels, logits, base);
          case RankingLossKey.MEAN_SQUARED_LOSS: return meanSquaredLoss(labels, logits, base);
          case RankingLossKey.LIST_MLE_LOSS: return listMleLoss(labels, logits, { ...base, lambdaWeight, seed: rng });
          case RankingLossKey.APPROX_NDCG_LOSS: return approxNdcgLoss(labels, logits, { ...base, alpha: extra.alpha });
        }
      });
      const weighted = lossWeights ? losses.map((l, i) => tf.mul(l, lossWeights[i]!)) : losses;
      return (weighted.length === 1 ? weighted[0]! : tf.addN(weighted)) as Scalar;
    });
  };
}
