import type { Batch, SparseColumn } from '../../batch/batch.js';
import { Rng } from '../../util/random.js';

export interface CtrBatchOptions {
  seed?: number;
  rows: number;
  /** Sparse slots 1..n, columns `fc_slot_<s>` (default 26). */
  sparseSlots?: number;
  /** Ids per slot are drawn from 0..vocab-1 (default 1000). */
  vocab?: number;
  /** Width of the `dense` column (default 13). */
  denseFeatures?: number;
  /** Ids per row and slot: 1..maxIds (default 1). */
  maxIds?: number;
}

/**
 * Synthetic CTR batches with a planted signal, for the DeepFM demo, tests and
 * benchmarks: every (slot, id) and dense feature has a hidden weight drawn
 * from the seed, and the label is Bernoulli(sigmoid(Σ weights)).
 */
export function* ctrBatches(opts: CtrBatchOptions): Generator<Batch> {
  const rng = new Rng(opts.seed ?? 0);
  const nSlots = opts.sparseSlots ?? 26;
  const vocab = opts.vocab ?? 1000;
  const nDense = opts.denseFeatures ?? 13;
  const maxIds = opts.maxIds ?? 1;
  const idWeight = Array.from({ length: nSlots }, () => Float32Array.from({ length: vocab }, () => rng.normal(0, 0.5)));
  const denseWeight = Float32Array.from({ length: nDense }, () => rng.normal(0, 0.5));
  for (;;) {
    const rows = opts.rows;
    const logit = new Float64Array(rows);
    const sparse: SparseColumn[] = [];
    for (let s = 0; s < nSlots; s++) {
      const splits = new Int32Array(rows + 1);
      const ids: number[] = [];
      for (let r = 0; r < rows; r++) {
        const n = rng.int(1, maxIds);
        for (let k = 0; k < n; k++) {
          const id = Math.min(vocab - 1, Math.floor(vocab * rng.float() ** 2)); // skewed, like real id frequencies
          ids.push(id);
          logit[r] += idWeight[s]![id]! / n;
        }
        splits[r + 1] = ids.length;
      }
      const fids = new Uint32Array(ids.length * 2);
      ids.forEach((id, k) => {
        fids[2 * k] = id;
        fids[2 * k + 1] = (s + 1) << 16;
      });
      sparse.push({ name: `fc_slot_${s + 1}`, slot: s + 1, fids, rowSplits: splits });
    }
    const values = new Float32Array(rows * nDense);
    for (let r = 0; r < rows; r++) {
      for (let d = 0; d < nDense; d++) {
        const v = rng.normal();
        values[r * nDense + d] = v;
        logit[r] += denseWeight[d]! * v;
      }
    }
    const labels = Float32Array.from(logit, (z) => (rng.float() < 1 / (1 + Math.exp(-z)) ? 1 : 0));
    yield { rows, sparse, dense: nDense > 0 ? [{ name: 'dense', width: nDense, values }] : [], labels, labelWidth: 1, lineId: [] };
  }
}
