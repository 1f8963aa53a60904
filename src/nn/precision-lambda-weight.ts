import { LambdaWeight, validPairsAndCleanLabels, type Cube } from './lambda-weight.js';
import type { Matrix } from './matrix.js';

/**
 * `PrecisionLambdaWeight` (Precision@topn): a pair weighs 1 when exactly one
 * of its items is positive and exactly one of them is in the top n, else 0.
 */
export class PrecisionLambdaWeight extends LambdaWeight {
  constructor(
    readonly topn: number,
    readonly positiveFn: (label: number) => boolean = (label) => label >= 1,
  ) {
    super();
  }

  pairWeightValues(sortedLabels: Matrix): Cube {
    const { validPairs, labels } = validPairsAndCleanLabels(sortedLabels);
    return labels.map((row, b) => {
      const pos = row.map((l) => (this.positiveFn(l) ? 1 : 0));
      return pos.map((pi, i) =>
        pos.map((pj, j) => (validPairs[b]![i]![j] && i + 1 <= this.topn !== j + 1 <= this.topn ? Math.abs(pi - pj) : 0)),
      );
    });
  }
}
