import type { EmbeddingHashTable } from '../hashtable/embedding-hash-table.js';
import { outputDim, type EmbeddingFeatureSpec } from '../model/model-spec.js';

/**
 * Looks up a feature's fids (one batched lookup, no inserts) and pools them
 * per row by its combiner: reduce_sum, reduce_mean (zeros for an empty row),
 * or first_n (the first maxSeqLength embeddings side by side, zero-padded).
 * Returns rows x outputDim floats.
 */
export function lookupAndPool(table: Pick<EmbeddingHashTable, 'dim' | 'lookupOnly'>, f: EmbeddingFeatureSpec, fids: Uint32Array, rowSplits: Int32Array): Float32Array {
  const rows = rowSplits.length - 1;
  const dim = table.dim;
  const width = outputDim(f);
  const out = new Float32Array(rows * width);
  if (fids.length === 0) return out;
  const emb = table.lookupOnly(fids);
  for (let r = 0; r < rows; r++) {
    const from = rowSplits[r]!;
    const to = rowSplits[r + 1]!;
    const o = r * width;
    if (f.combiner === 'first_n') {
      const n = Math.min(to - from, f.maxSeqLength ?? 1);
      for (let k = 0; k < n; k++) out.set(emb.subarray((from + k) * dim, (from + k + 1) * dim), o + k * dim);
      continue;
    }
    for (let k = from; k < to; k++) {
      const e = k * dim;
      for (let j = 0; j < dim; j++) out[o + j] += emb[e + j]!;
    }
    if (f.combiner === 'reduce_mean' && to > from) {
      const inv = 1 / (to - from);
      for (let j = 0; j < dim; j++) out[o + j] *= inv;
    }
  }
  return out;
}
