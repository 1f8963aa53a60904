import { isValidLabel } from './label-valid.js';
import { toMatrix, type Matrix, type MatrixLike } from './matrix.js';
import { tf, type Tensor } from './tf.js';

/** [batch_size, list_size, list_size] of plain numbers. */
export type Cube = number[][][];

/**
 * `_LambdaWeight` (LambdaLoss framework, Wang et al. 2018): weights for item
 * pairs and for single items of lists sorted by logits. Labels < 0 are
 * invalid. The weights depend on labels only, so they are computed on the
 * host and never carry gradients (TF-Ranking stops their gradient).
 */
export abstract class LambdaWeight {
  /** Pair weights of sorted labels: [B, L, L], or something that broadcasts to it (a number; [B, L] broadcasts numpy-style). */
  abstract pairWeightValues(sortedLabels: Matrix): Cube | Matrix | number;

  /** Individual weights of sorted labels, [B, L]; the default passes the labels through. */
  individualWeightValues(sortedLabels: Matrix): Matrix {
    return sortedLabels;
  }

  /** `pair_weights` as a tensor. */
  pairWeights(sortedLabels: MatrixLike): Tensor {
    const v = this.pairWeightValues(toMatrix(sortedLabels, 'sorted_labels'));
    return typeof v === 'number' ? tf.scalar(v) : tf.tensor(v);
  }

  /** `individual_weights` as a [B, L] tensor. */
  individualWeights(sortedLabels: MatrixLike): Tensor {
    const m = toMatrix(sortedLabels, 'sorted_labels');
    return tf.tensor2d(this.individualWeightValues(m), [m.length, m[0]?.length ?? 0]);
  }
}

/** `_get_valid_pairs_and_clean_labels`: valid[b][i][j] = both labels >= 0; labels < 0 become 0. */
export function validPairsAndCleanLabels(sortedLabels: Matrix): { validPairs: boolean[][][]; labels: Matrix } {
  const validPairs = sortedLabels.map((row) => row.map((li) => row.map((lj) => isValidLabel(li) && isValidLabel(lj))));
  return { validPairs, labels: cleanLabels(sortedLabels) };
}

export const cleanLabels = (labels: Matrix): Matrix => labels.map((row) => row.map((l) => (isValidLabel(l) ? l : 0)));

/** Weight 1 for every pair. */
export class IdentityLambdaWeight extends LambdaWeight {
  pairWeightValues(): number {
    return 1;
  }
}
