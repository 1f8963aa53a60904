/** `RankingLossKey`: the loss names `makeLossFn` accepts (TF-Ranking's strings). */
export const RankingLossKey = {
  PAIRWISE_HINGE_LOSS: 'pairwise_hinge_loss',
  PAIRWISE_LOGISTIC_LOSS: 'pairwise_logistic_loss',
  PAIRWISE_SOFT_ZERO_ONE_LOSS: 'pairwise_soft_zero_one_loss',
  SOFTMAX_LOSS: 'softmax_loss',
  SIGMOID_CROSS_ENTROPY_LOSS: 'sigmoid_cross_entropy_loss',
  MEAN_SQUARED_LOSS: 'mean_squared_loss',
  LIST_MLE_LOSS: 'list_mle_loss',
  APPROX_NDCG_LOSS: 'approx_ndcg_loss',
} as const;
export type RankingLossKey = (typeof RankingLossKey)[keyof typeof RankingLossKey];

const KEYS = new Set<string>(Object.values(RankingLossKey));
export const isRankingLossKey = (k: unknown): k is RankingLossKey => typeof k === 'string' && KEYS.has(k);
