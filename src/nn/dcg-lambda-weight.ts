import { ConfigError } from '../errors.js';
import { inverseMaxDcgValues, type GainFn, type RankDiscountFn } from './inverse-max-dcg.js';
import { cleanLabels, LambdaWeight, validPairsAndCleanLabels, type Cube } from './lambda-weight.js';
import type { Matrix } from './matrix.js';

export interface DcgLambdaWeightOptions {
  /** The DCG cutoff (default: none). */
  topn?: number | null;
  /** Default: the label itself. */
  gainFn?: GainFn;
  /** Default: 1 / rank. */
  rankDiscountFn?: RankDiscountFn;
  /** Divide gains by the list's max DCG (default false). */
  normalized?: boolean;
  /** Weight in [0, 1] of LambdaMART's absolute-rank discount against LambdaLoss' relative one (default 0). */
  smoothFraction?: number;
}

/**
 * `DCGLambdaWeight`. With 1-based ranks i, j and D the rank discount:
 * u = |D(|i-j|) - D(|i-j|+1)| (LambdaLoss; ranks capped at topn+1),
 * v = |D(i) - D(j)| (LambdaMART; 0 beyond topn), and the pair weight is
 * |gain_i - gain_j| * ((1 - smooth) * u + smooth * v), zero for pairs with an
 * invalid item and, with topn, for pairs with neither item in the top n.
 */
export class DCGLambdaWeight extends LambdaWeight {
  readonly topn: number | null;
  readonly gainFn: GainFn;
  readonly rankDiscountFn: RankDiscountFn;
  readonly normalized: boolean;
  readonly smoothFraction: number;

  constructor(opts: DcgLambdaWeightOptions = {}) {
    super();
    this.topn = opts.topn ?? null;
    this.gainFn = opts.gainFn ?? ((label) => label);
    this.rankDiscountFn = opts.rankDiscountFn ?? ((rank) => 1 / rank);
    this.normalized = opts.normalized ?? false;
    this.smoothFraction = opts.smoothFraction ?? 0;
    if (!(this.smoothFraction >= 0 && this.smoothFraction <= 1)) {
      throw new ConfigError(`smooth_fraction ${this.smoothFraction} should be in range [0, 1].`);
    }
  }

  private gains(labels: Matrix): Matrix {
    const inv = this.normalized
      ? inverseMaxDcgValues(labels, { gainFn: this.gainFn, rankDiscountFn: this.rankDiscountFn, topn: this.topn })
      : undefined;
    return labels.map((row, b) => row.map((l) => this.gainFn(l) * (inv ? inv[b]! : 1)));
  }

  pairWeightValues(sortedLabels: Matrix): Cube {
    const { validPairs, labels } = validPairsAndCleanLabels(sortedLabels);
    const gain = this.gains(labels);
    const listSize = labels[0]?.length ?? 0;
    // Python's `topn or list_size`: 0 and null both mean the whole list here.
    const topn = this.topn || listSize;
    const d = this.rankDiscountFn;
    const s = this.smoothFraction;
    const capped = (r: number) => (r > topn ? topn + 1 : r);
    const absDiscount = (r: number) => (r > topn ? 0 : d(r));
    const discount: number[][] = [];
    for (let i = 1; i <= listSize; i++) {
      const rowD: number[] = [];
      for (let j = 1; j <= listSize; j++) {
        const diff = Math.abs(capped(i) - capped(j));
        const u = diff > 0 ? Math.abs(d(diff) - d(diff + 1)) : 0;
        const v = Math.abs(absDiscount(i) - absDiscount(j));
        const inTop = this.topn === null || i <= this.topn || j <= this.topn;
        rowD.push(inTop ? (1 - s) * u + s * v : 0);
      }
      discount.push(rowD);
    }
    return gain.map((g, b) => g.map((gi, i) => g.map((gj, j) => (validPairs[b]![i]![j] ? Math.abs(gi - gj) * discount[i]![j]! : 0))));
  }

  /** gain(label) (normalized if configured) * D(rank), with labels < 0 as 0. */
  override individualWeightValues(sortedLabels: Matrix): Matrix {
    const gain = this.gains(cleanLabels(sortedLabels));
    return gain.map((row) => row.map((g, r) => g * this.rankDiscountFn(r + 1)));
  }
}

export interface MetricLambdaWeightOptions {
  topn?: number | null;
  smoothFraction?: number;
}

/** `create_ndcg_lambda_weight`: gain 2^label - 1, discount 1 / ln(1 + rank), normalized. */
export function createNdcgLambdaWeight(opts: MetricLambdaWeightOptions = {}): DCGLambdaWeight {
  return new DCGLambdaWeight({
    topn: opts.topn,
    gainFn: (label) => Math.pow(2, label) - 1,
    rankDiscountFn: (rank) => 1 / Math.log1p(rank),
    normalized: true,
    smoothFraction: opts.smoothFraction ?? 0,
  });
}

/** `create_reciprocal_rank_lambda_weight`: gain = label, discount 1 / rank, normalized. */
export function createReciprocalRankLambdaWeight(opts: MetricLambdaWeightOptions = {}): DCGLambdaWeight {
  return new DCGLambdaWeight({
    topn: opts.topn,
    gainFn: (label) => label,
    rankDiscountFn: (rank) => 1 / rank,
    normalized: true,
    smoothFraction: opts.smoothFraction ?? 0,
  });
}
