import { initializers, layers, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { OptimizerConfig } from '../../hashtable/optimizers/index.js';
import { FmInteraction, ReduceSum } from '../layers/embedding-layers.js';
import type { Mode } from '../mode.js';
import type { ModelSpec } from '../model-spec.js';
import { MonolithModel, type ModelFnOutput } from '../monolith-model.js';
import { monolithModelParams, withOverrides, type MonolithModelParams, type ParamsOverrides } from '../params.js';

export interface DeepFmOptions {
  /** Sparse slots 1..n, features `fc_slot_<s>` (default 26, as Criteo). */
  sparseSlots?: number;
  /** Width of the FM / MLP embedding slice (default 8). */
  embeddingDim?: number;
  /** Width of the `dense` input (default 13; 0 for none). */
  denseFeatures?: number;
  /** MLP hidden widths (default [128, 64]). */
  hidden?: number[];
  /** Seed of the dense layers' initializers (default 0). */
  seed?: number;
  /** Optimizer of the embedding slices (default Adagrad, Monolith's default vec optimizer). */
  vecOptimizer?: OptimizerConfig;
  /** Optimizer of the first-order (bias) slice (default FTRL as Monolith's bias). */
  biasOptimizer?: OptimizerConfig;
  denseOptimizer?: ModelSpec['denseOptimizer'];
  params?: ParamsOverrides<MonolithModelParams>;
}

/**
 * A DeepFM CTR model: per sparse slot a 1-wide bias slice (first order) and an
 * `embeddingDim` slice shared by the FM second-order term and the MLP;
 * logit = Σ bias + w·dense + FM(vecs) + MLP([vecs, dense]).
 */
export class DeepFMModel extends MonolithModel {
  readonly options: Required<Omit<DeepFmOptions, 'params' | 'denseOptimizer' | 'vecOptimizer' | 'biasOptimizer'>> & DeepFmOptions;

  constructor(options: DeepFmOptions = {}) {
    super(withOverrides(monolithModelParams(), { name: 'deepfm', ...options.params }));
    this.options = { sparseSlots: 26, embeddingDim: 8, denseFeatures: 13, hidden: [128, 64], seed: 0, ...options };
  }

  override modelFn(_mode: Mode): ModelFnOutput {
    const o = this.options;
    let seed = o.seed;
    const init = () => initializers.glorotUniform({ seed: seed++ });
    const slots = Array.from({ length: o.sparseSlots }, (_, k) => k + 1);
    for (const s of slots) this.createEmbeddingFeatureColumn(s);
    const bias = this.lookupEmbeddingSlice(slots, 'bias', {
      sliceDim: 1,
      initializer: { zeros: {} },
      optimizer: o.biasOptimizer ?? { ftrl: { initialAccumulatorValue: 1e-6, beta: 1.0 } },
      outType: 'concat',
    }) as SymbolicTensor;
    const vecs = this.lookupEmbeddingSlice(slots, 'vec', {
      sliceDim: o.embeddingDim,
      ...(o.vecOptimizer ? { optimizer: o.vecOptimizer } : {}),
      outType: 'stack',
    }) as SymbolicTensor;
    const parts: SymbolicTensor[] = [new ReduceSum({ axis: 1 }).apply(bias) as SymbolicTensor, new FmInteraction({}).apply(vecs) as SymbolicTensor];
    let deep = layers.flatten().apply(vecs) as SymbolicTensor;
    if (o.denseFeatures > 0) {
      const dense = this.denseInput('dense', o.denseFeatures);
      parts.push(layers.dense({ units: 1, kernelInitializer: init() }).apply(dense) as SymbolicTensor);
      deep = layers.concatenate({ axis: 1 }).apply([deep, dense]) as SymbolicTensor;
    }
    for (const units of o.hidden) deep = layers.dense({ units, activation: 'relu', kernelInitializer: init() }).apply(deep) as SymbolicTensor;
    parts.push(layers.dense({ units: 1, kernelInitializer: init() }).apply(deep) as SymbolicTensor);
    const logit = layers.add().apply(parts) as SymbolicTensor;
    const out: ModelFnOutput = { heads: [{ name: 'ctr_head', logit }] };
    if (o.denseOptimizer) out.denseOptimizer = o.denseOptimizer;
    return out;
  }
}

/** ModelModule entry: `createModel(options)` with DeepFmOptions as JSON. */
export function createModel(options: Record<string, unknown> = {}): ModelSpec {
  return new DeepFMModel(options as DeepFmOptions).toModelSpec();
}
