import type { Batch, LineIdValues } from '../../batch/batch.js';
import { ConfigError } from '../../errors.js';

/** Rows `[start, end)` of `batch` as a new batch (copies). */
export function sliceBatch(batch: Batch, start: number, end: number): Batch {
  if (!(start >= 0 && start <= end && end <= batch.rows)) throw new RangeError(`slice [${start}, ${end}) of a ${batch.rows}-row batch`);
  return {
    rows: end - start,
    sparse: batch.sparse.map((c) => {
      const a = c.rowSplits[start]!;
      const splits = c.rowSplits.slice(start, end + 1);
      for (let i = 0; i < splits.length; i++) splits[i]! -= a;
      return { name: c.name, slot: c.slot, fids: c.fids.slice(a * 2, c.rowSplits[end]! * 2), rowSplits: splits };
    }),
    dense: batch.dense.map((c) => ({ name: c.name, width: c.width, values: c.values.slice(start * c.width, end * c.width) })),
    labels: batch.labels.slice(start * batch.labelWidth, end * batch.labelWidth),
    labelWidth: batch.labelWidth,
    ...(batch.weights ? { weights: batch.weights.slice(start, end) } : {}),
    lineId: batch.lineId.map((c) => ({ name: c.name, values: c.values.slice(start, end) as LineIdValues })),
  };
}

function concatArrays<T extends Uint32Array | Int32Array | Float32Array | LineIdValues>(parts: T[]): T {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new (parts[0]!.constructor as new (n: number) => T)(n);
  let at = 0;
  for (const p of parts) {
    (out as unknown as { set(a: T, at: number): void }).set(p, at);
    at += p.length;
  }
  return out;
}

/** The rows of `batches` one after another; all must have the same columns. */
export function concatBatches(batches: Batch[]): Batch {
  if (batches.length === 0) throw new ConfigError('concatBatches needs at least one batch');
  if (batches.length === 1) return batches[0]!;
  const first = batches[0]!;
  for (const b of batches) {
    const same =
      b.labelWidth === first.labelWidth &&
      b.sparse.length === first.sparse.length &&
      b.sparse.every((c, i) => c.name === first.sparse[i]!.name) &&
      b.dense.length === first.dense.length &&
      b.dense.every((c, i) => c.name === first.dense[i]!.name && c.width === first.dense[i]!.width) &&
      b.lineId.length === first.lineId.length &&
      !!b.weights === !!first.weights;
    if (!same) throw new ConfigError('concatBatches: batches have different columns');
  }
  return {
    rows: batches.reduce((s, b) => s + b.rows, 0),
    sparse: first.sparse.map((c, i) => {
      const splits = new Int32Array(batches.reduce((s, b) => s + b.rows, 0) + 1);
      let row = 0;
      let base = 0;
      for (const b of batches) {
        const s = b.sparse[i]!.rowSplits;
        for (let r = 1; r <= b.rows; r++) splits[row + r] = base + s[r]!;
        row += b.rows;
        base += s[b.rows]!;
      }
      return { name: c.name, slot: c.slot, fids: concatArrays(batches.map((b) => b.sparse[i]!.fids)), rowSplits: splits };
    }),
    dense: first.dense.map((c, i) => ({ name: c.name, width: c.width, values: concatArrays(batches.map((b) => b.dense[i]!.values)) })),
    labels: concatArrays(batches.map((b) => b.labels)),
    labelWidth: first.labelWidth,
    ...(first.weights ? { weights: concatArrays(batches.map((b) => b.weights!)) } : {}),
    lineId: first.lineId.map((c, i) => ({ name: c.name, values: concatArrays(batches.map((b) => b.lineId[i]!.values)) })),
  };
}
