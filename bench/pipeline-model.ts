import * as tfl from '@tensorflow/tfjs-layers';
import type { EmbeddingFeatureSpec, ModelSpec } from '../src/model/model-spec.js';

/** The benchmark's CTR model: `features` sparse slots (dim 16, reduce_sum) + 13 dense features → MLP 256-128-1. */
export function createModel(o: { features?: number; dim?: number } = {}): ModelSpec {
  const nf = o.features ?? 8;
  const dim = o.dim ?? 16;
  const features: EmbeddingFeatureSpec[] = Array.from({ length: nf }, (_, i) => ({ name: `s${i + 1}`, slot: i + 1, dim, combiner: 'reduce_sum', table: 'emb' }));
  const entry = { segments: [{ dimSize: dim, optConfig: { adagrad: { learningRate: 0.01 } }, initConfig: { randomUniform: { minval: -0.01, maxval: 0.01 } }, compConfig: { fp32: {} } }] };
  return {
    name: 'bench-ctr',
    features,
    tables: { emb: { entry, shards: 8, initialCapacity: 1 << 16 } },
    denseInputs: [{ name: 'dense', width: 13 }],
    heads: [{ name: 'ctr', kind: 'classification', labelIndex: 0 }],
    denseOptimizer: { name: 'adagrad', learningRate: 0.01 },
    buildDense() {
      const inputs = [...features.map((f) => tfl.input({ shape: [f.dim], name: `in_${f.name}` })), tfl.input({ shape: [13], name: 'in_dense' })];
      let h = tfl.layers.concatenate().apply(inputs) as tfl.SymbolicTensor;
      h = tfl.layers.dense({ units: 256, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }).apply(h) as tfl.SymbolicTensor;
      h = tfl.layers.dense({ units: 128, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }).apply(h) as tfl.SymbolicTensor;
      const out = tfl.layers.dense({ units: 1, kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }).apply(h) as tfl.SymbolicTensor;
      return tfl.model({ inputs, outputs: out });
    },
  };
}
