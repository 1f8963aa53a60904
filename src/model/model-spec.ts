import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Scalar, Tensor } from '@tensorflow/tfjs-core';
import type { EmbeddingHashTableConfig } from '../hashtable/embedding-hash-table.js';
import type { LearningRate } from '../hashtable/learning-rate.js';
import type { LearningRateFunction } from '../nn/learning-rate-function.js';
import type { ServingDense } from './extra-outputs.js';

/**
 * The contract between a model definition and the runtime (workers, export,
 * serving). A model is plain data plus two builders, so a worker thread can
 * rebuild it from `(module, options)` and a serving process can run its export
 * without the training code:
 *
 * - sparse features are looked up and pooled by the hash tables *outside*
 *   autodiff into one [rows, outputDim] float32 input per feature;
 * - the dense part is a tfjs-layers `LayersModel` whose inputs are, in order,
 *   one per entry of `features` then one per entry of `denseInputs`, and whose
 *   outputs are one logit tensor [rows, 1] per entry of `heads`;
 * - the runtime differentiates the loss with respect to the dense weights and
 *   the pooled embeddings, scatters the latter back to the ids and lets each
 *   table's own optimizer apply them.
 */
export type Combiner = 'reduce_sum' | 'reduce_mean' | 'first_n';

export interface EmbeddingFeatureSpec {
  /** Name of the sparse column in the batch (and of the feature column). */
  name: string;
  slot: number;
  /** Width of one embedding row. */
  dim: number;
  combiner: Combiner;
  /** first_n only: rows keep the first `maxSeqLength` embeddings, zero-padded, so outputDim = dim * maxSeqLength. */
  maxSeqLength?: number;
  /** Name of the hash table (key of `ModelSpec.tables`); features may share one. */
  table: string;
}

export interface DenseInputSpec {
  name: string;
  width: number;
}

export interface HeadSpec {
  name: string;
  kind: 'classification' | 'regression';
  /** Column of `Batch.labels` this head is trained on. */
  labelIndex: number;
  /** Dense weight ([1]) set to the logit of the first training batch's positive rate (HeadOutput.warmStartBias). */
  warmStartBias?: string;
}

/** What the loss function receives: one logit tensor per head, labels [rows, labelWidth], weights [rows]. */
export interface LossInputs {
  logits: Tensor[];
  labels: Tensor;
  weights?: Tensor;
}

export interface ModelSpec {
  name: string;
  features: EmbeddingFeatureSpec[];
  tables: Record<string, EmbeddingHashTableConfig>;
  denseInputs: DenseInputSpec[];
  heads: HeadSpec[];
  /** Builds the dense part (fresh weights, seeded). */
  buildDense(): LayersModel;
  /**
   * The dense model an export serves, from the trained one: its outputs plus
   * the extra outputs the model declares (MonolithModel's `addExtraOutput`),
   * each extra signature served from the same records as serving_default.
   * Absent: the trained model as it is.
   */
  servingDense?(trained: LayersModel): ServingDense;
  /** Scalar training loss; when absent: mean sigmoid cross-entropy per classification head, MSE per regression head, summed. */
  loss?(inputs: LossInputs): Scalar;
  /** Dense optimizer settings (default adagrad, lr 0.01); the rate may follow the global step (PolynomialDecay). */
  denseOptimizer?: { name: 'sgd' | 'adagrad' | 'adam'; learningRate: number | LearningRate | LearningRateFunction };
  /** How a train step treats its gradients before the optimizers run (default: as computed). */
  gradients?: GradientSettings;
  /** How the default loss reduces rows: 'mean' (default) or 'sum' (Monolith's get_sigmoid_loss_and_pred). */
  lossReduction?: 'mean' | 'sum';
}

/** Monolith's apply_gradients_with_var_optimizer settings (MonolithBaseModel params clip_norm, dense_weight_decay, sparse_norm_warmup_steps). */
export interface GradientSettings {
  /**
   * Clip by global norm: when the norm of the gradients exceeds this, they
   * are scaled by clipNorm / norm. Without sparse warmup the norm is taken
   * over the dense gradients and the embedding gradients (one per unique id
   * of each feature, duplicates summed) together. Absent or <= 0: no clipping.
   */
  clipNorm?: number;
  /** Added to each dense gradient as decay * weight (after clipping). Default 0. */
  denseWeightDecay?: number;
  /**
   * With a positive value, the dense and the embedding gradients are clipped
   * separately: dense by clipNorm, embeddings by clipNorm * min(1, step / warmup)
   * (step = global step before this update, so the first step leaves the embeddings unchanged).
   */
  sparseNormWarmupSteps?: number | null;
}

/**
 * A module that defines a model for the worker pool exports
 * `createModel(options)`; workers import it by URL and call it with the
 * same JSON options, so every thread builds the same spec.
 */
export interface ModelModule {
  createModel(options: Record<string, unknown>): ModelSpec | Promise<ModelSpec>;
}

/** Width of a feature's pooled output. */
export const outputDim = (f: EmbeddingFeatureSpec): number => (f.combiner === 'first_n' ? f.dim * (f.maxSeqLength ?? 1) : f.dim);
