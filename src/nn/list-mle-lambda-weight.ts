import { LambdaWeight } from './lambda-weight.js';
import type { Matrix } from './matrix.js';
import type { RankDiscountFn } from './inverse-max-dcg.js';

/** `ListMLELambdaWeight`: per-position weights rank_discount_fn(rank) for ListMLE (Position-Aware ListMLE, Lan et al.). */
export class ListMLELambdaWeight extends LambdaWeight {
  constructor(readonly rankDiscountFn: RankDiscountFn) {
    super();
  }

  /** Passes the sorted labels through, as TF-Ranking does. */
  pairWeightValues(sortedLabels: Matrix): Matrix {
    return sortedLabels;
  }

  override individualWeightValues(sortedLabels: Matrix): Matrix {
    return sortedLabels.map((row) => row.map((_, r) => this.rankDiscountFn(r + 1)));
  }
}

/** `create_p_list_mle_lambda_weight`: discount 2^(list_size - rank) - 1. */
export function createPListMleLambdaWeight(listSize: number): ListMLELambdaWeight {
  return new ListMLELambdaWeight((rank) => Math.pow(2, listSize - rank) - 1);
}
