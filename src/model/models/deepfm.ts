import { initializers, layers, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { ConfigError } from '../../errors.js';
import type { OptimizerConfig } from '../../hashtable/optimizers/index.js';
import type { InitializerConfig } from '../../hashtable/initializers.js';
import { FmInteraction, MeanOverIds, ReduceSum } from '../layers/embedding-layers.js';
import { CrossLayer, FieldWeightedFm } from '../layers/interaction-layers.js';
import { LEARNING_DEFAULTS } from './learning-defaults.js';
import type { SliceVocabularyRegularization } from '../feature-slot.js';
import type { Mode } from '../mode.js';
import type { ModelSpec } from '../model-spec.js';
import { MonolithModel, type ModelFnOutput } from '../monolith-model.js';
import { monolithModelParams, withOverrides, type MonolithModelParams, type ParamsOverrides } from '../params.js';

export interface DeepFmOptions {
  /** Sparse slots 1..n, features `fc_slot_<s>` (default 26, as Criteo). */
  sparseSlots?: number;
  /** Width of the FM / MLP embedding slice (default 8). */
  embeddingDim?: number;
  /** Width of the `dense` input (default 13; 0 for none). Ignored when `denseFeatureNames` is given. */
  denseFeatures?: number;
  /** Dense features as separate 1-wide inputs with these names (e.g. `dense_0..dense_12`). */
  denseFeatureNames?: string[];
  /**
   * Interaction term: 'fm' (every slot pair weighted 1), 'fwfm' (a learnt weight per slot pair), 'cross'
   * (a DCN-v2 cross network of `crossLayers` CrossLayers over [embeddings, dense], read out by a 1-unit dense
   * layer, in parallel to the MLP) or 'none'. Default 'fm'.
   */
  interaction?: 'fm' | 'fwfm' | 'cross' | 'none';
  /**
   * How the 'fm' / 'fwfm' term sees a slot with several ids in a row: 'sum' of their vectors (default for
   * DeepFM) or their 'mean' (default for DeepFwFM; the model then keeps a frozen 1-wide `count` slice of
   * ones, whose sum is the row's number of ids). The MLP always sees the sum.
   */
  interactionPooling?: 'sum' | 'mean';
  /**
   * Width of a separate embedding slice (`pair`) for the 'fm' / 'fwfm' term; 0 (DeepFM's default) shares the `vec`
   * slice with the MLP. DeepFwFM's default is 8: the MLP's gradients would otherwise drown the pair term's.
   */
  pairEmbeddingDim?: number;
  /**
   * 'fwfm' only: the `pair` slice holds one `pairEmbeddingDim`-wide vector per partner slot (field-aware, as FFM),
   * so each slot pair has its own factors. The slice is then sparseSlots × pairEmbeddingDim wide. Default false
   * (DeepFwFM's: true).
   */
  fieldAwarePairs?: boolean;
  /** 'fwfm' only: the starting weight of every slot pair (default 0.1, FieldWeightedFm's; DeepFwFM's with field-aware pairs: 0.5). */
  initialPairWeight?: number;
  /** Optimizer of the `pair` slice (default LEARNING_DEFAULTS.pairOptimizer). */
  pairOptimizer?: OptimizerConfig;
  /** Per-slot scaling of the `pair` slice's weight decay with the slot's vocabulary (default LEARNING_DEFAULTS.pairVocabularyRegularization). */
  pairVocabularyRegularization?: SliceVocabularyRegularization | null;
  /** Start the output bias at the logit of the first training batch's positive rate (default LEARNING_DEFAULTS.warmStartOutputBias). */
  warmStartOutputBias?: boolean;
  /** Cross layers of the 'cross' interaction (default 2). */
  crossLayers?: number;
  /** Starting kernel of the cross layers (default LEARNING_DEFAULTS.crossKernelInitializer). */
  crossKernelInitializer?: 'glorotUniform' | 'zeros';
  /** How fast the dense optimizer moves the cross kernels, relative to other weights (default LEARNING_DEFAULTS.crossKernelScale). */
  crossKernelScale?: number;
  /** Ids seen fewer times than this get no embedding (they read as zeros). Default LEARNING_DEFAULTS.occurrenceThreshold. */
  occurrenceThreshold?: number;
  /** Initializer of the embedding slices (default LEARNING_DEFAULTS.vecInitializer). */
  vecInitializer?: InitializerConfig;
  /** MLP hidden widths (default [128, 64]). */
  hidden?: number[];
  /** Seed of the dense layers' initializers (default 0). */
  seed?: number;
  /** Optimizer of the embedding slices (default LEARNING_DEFAULTS.vecOptimizer). */
  vecOptimizer?: OptimizerConfig;
  /** Optimizer of the first-order (bias) slice (default LEARNING_DEFAULTS.biasOptimizer: FTRL with Newton steps; with `warmStartOutputBias: false`, LEARNING_DEFAULTS.biasOptimizerWithoutWarmStart). */
  biasOptimizer?: OptimizerConfig;
  /**
   * Per-slot scaling of the first-order optimizer's regularization with the slot's vocabulary (counted from the
   * ids its table holds, or given per slot in `vocabularies`). Default LEARNING_DEFAULTS.biasVocabularyRegularization;
   * null turns it off.
   */
  biasVocabularyRegularization?: SliceVocabularyRegularization | null;
  /** The same for the embedding slices (scales the vec optimizer's L2: Adagrad weight decay, FTRL L2). Default LEARNING_DEFAULTS.vecVocabularyRegularization. */
  vecVocabularyRegularization?: SliceVocabularyRegularization | null;
  /** Default LEARNING_DEFAULTS.denseOptimizer. */
  denseOptimizer?: ModelSpec['denseOptimizer'];
  params?: ParamsOverrides<MonolithModelParams>;
}

/**
 * A DeepFM CTR model: per sparse slot a 1-wide bias slice (first order) and an
 * `embeddingDim` slice shared by the FM second-order term and the MLP;
 * logit = Σ bias + w·dense + FM(vecs) + MLP([vecs, dense]).
 */
export class DeepFMModel extends MonolithModel {
  readonly options: Required<Omit<DeepFmOptions, 'params' | 'pairOptimizer' | 'pairVocabularyRegularization' | 'warmStartOutputBias' | 'interactionPooling' | 'fieldAwarePairs' | 'initialPairWeight' | 'crossKernelInitializer' | 'crossKernelScale' | 'denseOptimizer' | 'vecOptimizer' | 'biasOptimizer' | 'biasVocabularyRegularization' | 'vecVocabularyRegularization' | 'vecInitializer' | 'denseFeatureNames'>> & DeepFmOptions;

  constructor(options: DeepFmOptions = {}) {
    super(withOverrides(monolithModelParams(), { name: 'deepfm', ...options.params }));
    this.options = { sparseSlots: 26, embeddingDim: 8, denseFeatures: 13, hidden: [128, 64], seed: 0, interaction: 'fm', interactionPooling: 'sum', pairEmbeddingDim: 0, crossLayers: 2, occurrenceThreshold: LEARNING_DEFAULTS.occurrenceThreshold, ...options };
  }

  override modelFn(_mode: Mode): ModelFnOutput {
    const o = this.options;
    let seed = o.seed;
    const init = () => initializers.glorotUniform({ seed: seed++ });
    const slots = Array.from({ length: o.sparseSlots }, (_, k) => k + 1);
    for (const s of slots) this.createEmbeddingFeatureColumn(s, o.occurrenceThreshold > 0 ? { occurrenceThreshold: o.occurrenceThreshold } : {});
    const warm = o.warmStartOutputBias ?? LEARNING_DEFAULTS.warmStartOutputBias;
    const bias = this.lookupEmbeddingSlice(slots, 'bias', {
      sliceDim: 1,
      initializer: { zeros: {} },
      optimizer: o.biasOptimizer ?? (warm ? LEARNING_DEFAULTS.biasOptimizer : LEARNING_DEFAULTS.biasOptimizerWithoutWarmStart),
      vocabularyRegularization: o.biasVocabularyRegularization === undefined ? LEARNING_DEFAULTS.biasVocabularyRegularization : o.biasVocabularyRegularization,
      outType: 'concat',
    }) as SymbolicTensor;
    // Stacked [rows, slots, dim] embeddings from the same initializer: `vec` (MLP, and the pair term unless it has its own) and `pair`.
    const fields = (name: string, sliceDim: number, optimizer: OptimizerConfig, vocabularyRegularization: SliceVocabularyRegularization | null) =>
      this.lookupEmbeddingSlice(slots, name, { sliceDim, initializer: o.vecInitializer ?? LEARNING_DEFAULTS.vecInitializer, optimizer, vocabularyRegularization, outType: 'stack' }) as SymbolicTensor;
    const vecs = fields('vec', o.embeddingDim, o.vecOptimizer ?? LEARNING_DEFAULTS.vecOptimizer, o.vecVocabularyRegularization === undefined ? LEARNING_DEFAULTS.vecVocabularyRegularization : o.vecVocabularyRegularization);
    const parts: SymbolicTensor[] = [new ReduceSum({ axis: 1 }).apply(bias) as SymbolicTensor];
    if (!(Number.isInteger(o.pairEmbeddingDim) && o.pairEmbeddingDim >= 0)) throw new ConfigError(`DeepFM: pairEmbeddingDim must be an integer >= 0, got ${o.pairEmbeddingDim}`);
    const pairTerm = o.interaction === 'fm' || o.interaction === 'fwfm';
    const fieldAware = o.fieldAwarePairs ?? false;
    if (fieldAware && !(o.interaction === 'fwfm' && o.pairEmbeddingDim > 0)) throw new ConfigError(`DeepFM: fieldAwarePairs needs interaction 'fwfm' and pairEmbeddingDim > 0, got '${o.interaction}' and ${o.pairEmbeddingDim}`);
    let pairVecs = vecs;
    if (pairTerm && o.pairEmbeddingDim > 0) {
      pairVecs = fields('pair', o.pairEmbeddingDim * (fieldAware ? o.sparseSlots : 1), o.pairOptimizer ?? LEARNING_DEFAULTS.pairOptimizer, o.pairVocabularyRegularization === undefined ? LEARNING_DEFAULTS.pairVocabularyRegularization : o.pairVocabularyRegularization);
    }
    if (pairTerm && o.interactionPooling === 'mean') {
      // Learning rate 0: the slice stays 1 per id, so its sum-pooled value is the row's count of ids.
      const counts = this.lookupEmbeddingSlice(slots, 'count', { sliceDim: 1, initializer: { ones: {} }, optimizer: { sgd: { learningRate: 0 } }, outType: 'concat' }) as SymbolicTensor;
      pairVecs = new MeanOverIds({}).apply([pairVecs, counts]) as SymbolicTensor;
    }
    if (o.interaction === 'fm') parts.push(new FmInteraction({}).apply(pairVecs) as SymbolicTensor);
    if (o.interaction === 'fwfm') parts.push(new FieldWeightedFm({ fieldAware, initialPairWeight: o.initialPairWeight }).apply(pairVecs) as SymbolicTensor);
    let deep = layers.flatten().apply(vecs) as SymbolicTensor;
    const denseInputs = o.denseFeatureNames ? o.denseFeatureNames.map((n) => this.denseInput(n, 1)) : o.denseFeatures > 0 ? [this.denseInput('dense', o.denseFeatures)] : [];
    if (denseInputs.length > 0) {
      const dense = denseInputs.length === 1 ? denseInputs[0]! : (layers.concatenate({ axis: 1 }).apply(denseInputs) as SymbolicTensor);
      parts.push(layers.dense({ units: 1, kernelInitializer: init() }).apply(dense) as SymbolicTensor);
      deep = layers.concatenate({ axis: 1 }).apply([deep, dense]) as SymbolicTensor;
    }
    if (o.interaction === 'cross') {
      // The first layer takes x0 alone (x0 ⊙ (W·x0 + b) + x0): the same tensor twice in one apply is disposed after its first use.
      let x = deep;
      for (let l = 0; l < o.crossLayers; l++) x = new CrossLayer({ seed: seed++, kernelInitializer: o.crossKernelInitializer ?? LEARNING_DEFAULTS.crossKernelInitializer, kernelScale: o.crossKernelScale ?? LEARNING_DEFAULTS.crossKernelScale }).apply(l === 0 ? deep : [deep, x]) as SymbolicTensor;
      parts.push(layers.dense({ units: 1, kernelInitializer: init() }).apply(x) as SymbolicTensor);
    }
    for (const units of o.hidden) deep = layers.dense({ units, activation: 'relu', kernelInitializer: init() }).apply(deep) as SymbolicTensor;
    parts.push(layers.dense({ units: 1, kernelInitializer: init(), name: 'output_logit' }).apply(deep) as SymbolicTensor);
    const logit = layers.add().apply(parts) as SymbolicTensor;
    const out: ModelFnOutput = { heads: [{ name: 'ctr_head', logit, ...(warm ? { warmStartBias: 'output_logit/bias' } : {}) }] };
    out.denseOptimizer = o.denseOptimizer ?? LEARNING_DEFAULTS.denseOptimizer;
    return out;
  }
}

/** ModelModule entry: `createModel(options)` with DeepFmOptions as JSON. */
export function createModel(options: Record<string, unknown> = {}): ModelSpec {
  return new DeepFMModel(options as DeepFmOptions).toModelSpec();
}
