import { toMatrix, type Matrix, type MatrixLike } from './matrix.js';
import { sortIndices } from './sort-by-scores.js';
import { tf, type Tensor2D } from './tf.js';

/** A gain of a label (TF-Ranking's default: 2^label - 1). */
export type GainFn = (label: number) => number;
/** A discount of a 1-based rank (TF-Ranking's default: 1 / ln(1 + rank)). */
export type RankDiscountFn = (rank: number) => number;

export const defaultGainFn: GainFn = (label) => Math.pow(2, label) - 1;
export const defaultRankDiscountFn: RankDiscountFn = (rank) => 1 / Math.log1p(rank);

export interface InverseMaxDcgOptions {
  gainFn?: GainFn;
  rankDiscountFn?: RankDiscountFn;
  /** Only the first `topn` of the ideal order count (default: all). */
  topn?: number | null;
}

/** 1 / (the DCG of the ideal order) per row, 0 where that DCG is not > 0. Labels are used as given (no cleaning of labels < 0). */
export function inverseMaxDcgValues(labels: Matrix, opts: InverseMaxDcgOptions = {}): number[] {
  const gain = opts.gainFn ?? defaultGainFn;
  const discount = opts.rankDiscountFn ?? defaultRankDiscountFn;
  return sortIndices(labels, opts.topn).map((order, i) => {
    let dcg = 0;
    order.forEach((j, r) => (dcg += gain(labels[i]![j]!) * discount(r + 1)));
    return dcg > 0 ? 1 / dcg : 0;
  });
}

/** `inverse_max_dcg`: [batch_size, 1]. */
export function inverseMaxDcg(labels: MatrixLike, opts: InverseMaxDcgOptions = {}): Tensor2D {
  const v = inverseMaxDcgValues(toMatrix(labels, 'inverse_max_dcg labels'), opts);
  return tf.tensor2d(v, [v.length, 1], 'float32');
}
