import type { Combiner } from '../model/model-spec.js';

/**
 * Pooling of looked-up embeddings per row (Monolith's embedding combiners),
 * done on plain arrays outside autodiff, and its exact inverse for gradients.
 *
 * `emb` holds one `dim`-wide row per id of a ragged column whose row `r` owns
 * ids `splits[r] .. splits[r+1]-1`.
 */
export interface PoolingShape {
  rows: number;
  dim: number;
  combiner: Combiner;
  /** first_n only: embeddings kept per row (zero padded). */
  maxSeqLength?: number;
}

export const pooledWidth = (s: PoolingShape): number => (s.combiner === 'first_n' ? s.dim * (s.maxSeqLength ?? 1) : s.dim);

/** [rows, pooledWidth] from [ids, dim]. Empty rows pool to zeros. */
export function poolEmbeddings(emb: Float32Array, splits: Int32Array, s: PoolingShape, out = new Float32Array(s.rows * pooledWidth(s))): Float32Array {
  const { rows, dim, combiner } = s;
  const width = pooledWidth(s);
  out.fill(0);
  for (let r = 0; r < rows; r++) {
    const from = splits[r]!;
    const to = splits[r + 1]!;
    const o = r * width;
    if (combiner === 'first_n') {
      const n = Math.min(to - from, s.maxSeqLength ?? 1);
      for (let k = 0; k < n; k++) {
        const e = (from + k) * dim;
        for (let j = 0; j < dim; j++) out[o + k * dim + j] = emb[e + j]!;
      }
      continue;
    }
    for (let i = from; i < to; i++) {
      const e = i * dim;
      for (let j = 0; j < dim; j++) out[o + j] += emb[e + j]!;
    }
    if (combiner === 'reduce_mean' && to - from > 1) {
      const inv = 1 / (to - from);
      for (let j = 0; j < dim; j++) out[o + j] *= inv;
    }
  }
  return out;
}

/**
 * Gradient of each id's embedding ([ids, dim]) from the gradient of the pooled
 * rows ([rows, pooledWidth]): reduce_sum copies the row's gradient to each of
 * its ids, reduce_mean divides it by the row's length, first_n hands slice k
 * to the row's k-th id (ids beyond maxSeqLength get zeros; `selectFirstN`
 * drops them before lookup so they are never updated).
 */
export function scatterPooledGradient(grad: Float32Array, splits: Int32Array, s: PoolingShape, out = new Float32Array(splits[s.rows]! * s.dim)): Float32Array {
  const { rows, dim, combiner } = s;
  const width = pooledWidth(s);
  for (let r = 0; r < rows; r++) {
    const from = splits[r]!;
    const to = splits[r + 1]!;
    const g = r * width;
    const scale = combiner === 'reduce_mean' && to > from ? 1 / (to - from) : 1;
    for (let i = from; i < to; i++) {
      const e = i * dim;
      if (combiner === 'first_n') {
        const k = i - from;
        if (k >= (s.maxSeqLength ?? 1)) out.fill(0, e, e + dim);
        else for (let j = 0; j < dim; j++) out[e + j] = grad[g + k * dim + j]!;
      } else if (scale === 1) {
        for (let j = 0; j < dim; j++) out[e + j] = grad[g + j]!;
      } else {
        for (let j = 0; j < dim; j++) out[e + j] = grad[g + j]! * scale;
      }
    }
  }
  return out;
}

/**
 * For first_n: the ids (as (lo, hi) words) and row splits keeping only the
 * first `maxSeqLength` ids of each row, so ids that never reach the model are
 * neither inserted nor updated. Returns the input unchanged when no row is longer.
 */
export function selectFirstN(fids: Uint32Array, splits: Int32Array, rows: number, maxSeqLength: number): { fids: Uint32Array; splits: Int32Array } {
  let kept = 0;
  for (let r = 0; r < rows; r++) kept += Math.min(splits[r + 1]! - splits[r]!, maxSeqLength);
  if (kept === splits[rows]!) return { fids, splits };
  const outFids = new Uint32Array(2 * kept);
  const outSplits = new Int32Array(rows + 1);
  let k = 0;
  for (let r = 0; r < rows; r++) {
    const from = splits[r]!;
    const n = Math.min(splits[r + 1]! - from, maxSeqLength);
    outFids.set(fids.subarray(2 * from, 2 * (from + n)), 2 * k);
    k += n;
    outSplits[r + 1] = k;
  }
  return { fids: outFids, splits: outSplits };
}
