import type { Batch } from '../src/batch/batch.js';
import type { ModelSpec } from '../src/model/model-spec.js';

/** A seeded batch for `spec`: `idsPerRow` ids per sparse feature per row, uniform dense values, 0/1 labels. */
export function syntheticBatch(spec: ModelSpec, rows: number, seed = 1, idsPerRow = 1): Batch {
  let s = seed >>> 0 || 1;
  const rnd = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  const sparse = spec.features.map((f) => {
    const n = rows * idsPerRow;
    const fids = new Uint32Array(2 * n);
    for (let i = 0; i < n; i++) fids[2 * i] = 1 + Math.floor(rnd() * 100000);
    const rowSplits = Int32Array.from({ length: rows + 1 }, (_, r) => r * idsPerRow);
    return { name: f.name, slot: f.slot, fids, rowSplits };
  });
  const dense = spec.denseInputs.map((d) => ({ name: d.name, width: d.width, values: Float32Array.from({ length: rows * d.width }, () => rnd() * 2 - 1) }));
  const labels = Float32Array.from({ length: rows }, () => (rnd() < 0.3 ? 1 : 0));
  return { rows, sparse, dense, labels, labelWidth: 1, lineId: [] };
}
