import * as tfl from '@tensorflow/tfjs-layers';
import type { EmbeddingFeatureSpec, ModelSpec } from '../src/model/model-spec.js';

export interface BenchModelOptions {
  /** Sparse slots 1..n (default 8). */
  features?: number;
  /** Embedding dim (default 16, reduce_sum). */
  dim?: number;
  /** Hidden layer widths of the MLP, ReLU (default [256, 128]); one logit on top. */
  hidden?: number[];
  /** Width of the `dense` input (default 13). */
  denseWidth?: number;
}

/**
 * The benchmarks' CTR model: `features` sparse slots (dim 16, reduce_sum, one
 * Adagrad table) + a 13-wide dense input → MLP → one logit, Adagrad.
 * `{ features: 26, dim: 16, hidden: [400, 400, 400] }` is the Criteo-sized model.
 */
export function createModel(o: BenchModelOptions = {}): ModelSpec {
  const nf = o.features ?? 8;
  const dim = o.dim ?? 16;
  const hidden = o.hidden ?? [256, 128];
  const denseWidth = o.denseWidth ?? 13;
  const features: EmbeddingFeatureSpec[] = Array.from({ length: nf }, (_, i) => ({ name: `s${i + 1}`, slot: i + 1, dim, combiner: 'reduce_sum', table: 'emb' }));
  const entry = { segments: [{ dimSize: dim, optConfig: { adagrad: { learningRate: 0.01 } }, initConfig: { randomUniform: { minval: -0.01, maxval: 0.01 } }, compConfig: { fp32: {} } }] };
  return {
    name: `bench-ctr-${nf}x${dim}-${hidden.join('-')}`,
    features,
    tables: { emb: { entry, shards: 8, initialCapacity: 1 << 16 } },
    denseInputs: [{ name: 'dense', width: denseWidth }],
    heads: [{ name: 'ctr', kind: 'classification', labelIndex: 0 }],
    denseOptimizer: { name: 'adagrad', learningRate: 0.01 },
    buildDense() {
      const inputs = [...features.map((f) => tfl.input({ shape: [f.dim], name: `in_${f.name}` })), tfl.input({ shape: [denseWidth], name: 'in_dense' })];
      let h = tfl.layers.concatenate().apply(inputs) as tfl.SymbolicTensor;
      hidden.forEach((units, k) => {
        h = tfl.layers.dense({ units, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: k + 1 }) }).apply(h) as tfl.SymbolicTensor;
      });
      const out = tfl.layers.dense({ units: 1, kernelInitializer: tfl.initializers.glorotUniform({ seed: hidden.length + 1 }) }).apply(h) as tfl.SymbolicTensor;
      return tfl.model({ inputs, outputs: out });
    },
  };
}
