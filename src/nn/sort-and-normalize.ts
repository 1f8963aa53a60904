import { ConfigError } from '../errors.js';
import { isValidLabel } from './label-valid.js';
import { f32, gatherRows, sameShape, toMatrix, toTensor2d, type Matrix, type MatrixLike } from './matrix.js';
import { broadcastWeights, type RankingWeights } from './ranking-weights.js';
import { sortIndices } from './sort-by-scores.js';
import type { Tensor2D } from './tf.js';

export interface SortedLists {
  labels: Matrix;
  /** Differentiable. */
  logits: Tensor2D;
  weights: Matrix;
  /** The per-row column order applied. */
  order: number[][];
}

/**
 * `_sort_and_normalize`: sorts labels, logits and (broadcast) weights by the
 * logits, with items whose label is < 0 scored min(row logits) - 1e-6 (in
 * float32, as TF) so they sort last.
 */
export function sortAndNormalize(labels: MatrixLike, logits: MatrixLike, weights?: RankingWeights): SortedLists {
  const lab = toMatrix(labels, 'labels');
  const lg = toTensor2d(logits, 'logits');
  const lgv = lg.arraySync() as Matrix;
  sameShape(lab, lgv, 'labels and logits');
  const [batch, list] = lg.shape;
  if (list === 0) throw new ConfigError('logits: lists must not be empty');
  const w = broadcastWeights(weights, batch, list);
  const scores = lgv.map((row, b) => {
    const floor = f32(f32(-1e-6) + Math.min(...row));
    return row.map((s, i) => (isValidLabel(lab[b]![i]!) ? s : floor));
  });
  const order = sortIndices(scores, list);
  return {
    labels: order.map((o, b) => o.map((j) => lab[b]![j]!)),
    logits: gatherRows(lg, order),
    weights: order.map((o, b) => o.map((j) => w[b]![j]!)),
    order,
  };
}
