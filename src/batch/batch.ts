/**
 * The training batch: columnar and ragged, like TorchRec's KeyedJaggedTensor.
 *
 * Every stage of the runtime (parsers, workers, hash tables, models, hooks)
 * speaks this type. `toSharedBatch` lays one out in a single SharedArrayBuffer
 * (described by the flatbuffers header in schemas/batch.fbs) and
 * `fromSharedBatch` rebuilds it as views over that buffer in another thread,
 * without copying.
 */

/**
 * One sparse feature (slot): for row `r` its fids are ids
 * `rowSplits[r] .. rowSplits[r+1]-1`, stored as interleaved little-endian
 * (lo, hi) uint32 words, the same bytes as a BigUint64Array and the id format
 * the hash tables take.
 */
export interface SparseColumn {
  name: string;
  slot: number;
  /** 2 words per fid: `[lo0, hi0, lo1, hi1, ...]`. */
  fids: Uint32Array;
  /** `rows + 1` offsets into the fid list (in fids, not words). */
  rowSplits: Int32Array;
}

/** A dense feature with `width` float32 values per row (row-major). */
export interface DenseColumn {
  name: string;
  width: number;
  values: Float32Array;
}

/** Typed arrays a LineId column may hold. uid is uint64, req_time int64, sample_rate float32. */
export type LineIdValues = Float32Array | Float64Array | Int32Array | BigInt64Array | BigUint64Array;

export interface LineIdColumn {
  name: string;
  values: LineIdValues;
}

export interface Batch {
  rows: number;
  sparse: SparseColumn[];
  dense: DenseColumn[];
  /** `rows * labelWidth` float32 labels, row-major (one column per head). */
  labels: Float32Array;
  labelWidth: number;
  /** Instance weights, one per row (absent means 1). */
  weights?: Float32Array;
  /** LineId fields (uid, req_time, sample_rate, ...), one value per row. */
  lineId: LineIdColumn[];
}

/** Number of fids in a sparse column. */
export const fidCount = (c: SparseColumn): number => c.fids.length >>> 1;

/** The sparse column for `name` (or slot number), or undefined. */
export function sparseColumn(batch: Batch, key: string | number): SparseColumn | undefined {
  return batch.sparse.find((c) => (typeof key === 'number' ? c.slot === key : c.name === key));
}

export function denseColumn(batch: Batch, name: string): DenseColumn | undefined {
  return batch.dense.find((c) => c.name === name);
}

export function lineIdColumn(batch: Batch, name: string): LineIdValues | undefined {
  return batch.lineId.find((c) => c.name === name)?.values;
}

/**
 * What sources emit: a batch plus, for sources with at-least-once delivery
 * (Kafka), `ack` — the graph calls it once the batch's step has been applied,
 * and only then may the source commit the batch's offsets.
 */
export interface SourceBatch {
  batch: Batch;
  ack?: () => void;
  /**
   * The pass over the training data this batch belongs to (1, 2, … when the same rows are read again).
   * A training pipeline's step for this batch multiplies the tables' L2 regularization (FTRL L2, weight
   * decay) by it; without one the factor is 1.
   */
  pass?: number;
}
