import * as tfl from '@tensorflow/tfjs-layers';
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

/** A CTR spec for the dense benchmark: `features` sparse slots (dim `dim`, reduce_sum) + 13 dense features → MLP `hidden` → 1 logit. */
export function mlpSpec(o: { features: number; dim: number; hidden: number[] }): ModelSpec {
  const features = Array.from({ length: o.features }, (_, i) => ({ name: `s${i + 1}`, slot: i + 1, dim: o.dim, combiner: 'reduce_sum' as const, table: 'emb' }));
  const entry = { segments: [{ dimSize: o.dim, optConfig: { adagrad: { learningRate: 0.01 } }, initConfig: { randomUniform: { minval: -0.01, maxval: 0.01 } }, compConfig: { fp32: {} } }] };
  return {
    name: `mlp-${o.hidden.join('-')}`,
    features,
    tables: { emb: { entry, shards: 8, initialCapacity: 1 << 16 } },
    denseInputs: [{ name: 'dense', width: 13 }],
    heads: [{ name: 'ctr', kind: 'classification', labelIndex: 0 }],
    denseOptimizer: { name: 'adagrad', learningRate: 0.01 },
    buildDense() {
      const inputs = [...features.map((f) => tfl.input({ shape: [f.dim] })), tfl.input({ shape: [13] })];
      let h = tfl.layers.concatenate().apply(inputs) as tfl.SymbolicTensor;
      o.hidden.forEach((units, k) => (h = tfl.layers.dense({ units, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: k + 1 }) }).apply(h) as tfl.SymbolicTensor));
      const out = tfl.layers.dense({ units: 1, kernelInitializer: tfl.initializers.glorotUniform({ seed: 99 }) }).apply(h) as tfl.SymbolicTensor;
      return tfl.model({ inputs, outputs: out });
    },
  };
}
