import { ConfigError } from '../errors.js';
import type { Matrix } from './matrix.js';
import { tf, type Tensor } from './tf.js';

/**
 * Ranking-loss weights: a number (the same for every item), [batch_size, 1]
 * or [batch_size] (listwise: one per list) or [batch_size, list_size]
 * (itemwise). Default: 1.
 */
export type RankingWeights = number | Tensor | number[] | number[][] | null | undefined;

/** The weights broadcast to [batch, list] (`ones_like(labels) * weights`). */
export function broadcastWeights(weights: RankingWeights, batch: number, list: number, what = 'weights'): Matrix {
  if (weights === null || weights === undefined) weights = 1;
  if (typeof weights === 'number') return Array.from({ length: batch }, () => new Array<number>(list).fill(weights as number));
  const w = (weights instanceof tf.Tensor ? weights.arraySync() : weights) as number | number[] | number[][];
  if (typeof w === 'number') return broadcastWeights(w, batch, list, what);
  if (w.length !== batch && !(w.length === 1 && batch !== 1)) {
    throw new ConfigError(`${what}: ${w.length} rows for a batch of ${batch} lists`);
  }
  return Array.from({ length: batch }, (_, b) => {
    const row = w.length === 1 ? w[0]! : w[b]!;
    if (typeof row === 'number') return new Array<number>(list).fill(row);
    if (row.length === 1) return new Array<number>(list).fill(row[0]!);
    if (row.length !== list) throw new ConfigError(`${what}: rows of ${row.length} weights for lists of ${list} items (use 1 per list or 1 per item)`);
    return [...row];
  });
}

/**
 * Listwise weights as one number per list, for the losses that weigh whole
 * lists (ListMLE, ApproxNDCG): TF-Ranking squeezes them to [batch_size];
 * itemwise weights cannot be broadcast to per-list losses and are refused.
 */
export function listwiseWeights(weights: RankingWeights, batch: number, what: string): number[] {
  if (weights === null || weights === undefined) return new Array<number>(batch).fill(1);
  if (typeof weights === 'number') return new Array<number>(batch).fill(weights);
  const w = (weights instanceof tf.Tensor ? weights.arraySync() : weights) as number | number[] | number[][];
  if (typeof w === 'number') return new Array<number>(batch).fill(w);
  const flat = w.map((row) => {
    if (typeof row === 'number') return row;
    if (row.length !== 1) throw new ConfigError(`${what}: weights must be listwise ([batch_size, 1] or [batch_size]); got rows of ${row.length}`);
    return row[0]!;
  });
  if (flat.length === 1) return new Array<number>(batch).fill(flat[0]!);
  if (flat.length !== batch) throw new ConfigError(`${what}: ${flat.length} weights for a batch of ${batch} lists`);
  return flat;
}
