import type { Batch } from '../batch/batch.js';

export type RunMode = 'train' | 'eval' | 'predict';

/** Milliseconds spent in each stage of one step. */
export interface StepTimings {
  parse?: number;
  lookup?: number;
  dense?: number;
  apply?: number;
}

/**
 * What one worker step emits downstream: the stream hooks, metric sinks and
 * checkpointing operate on. Plain data (crosses threads by structured clone;
 * large arrays are typed).
 */
export interface StepResult {
  mode: RunMode;
  /** Global step after this batch was applied (train), or the batch counter (eval / predict). */
  step: number;
  /** Rows in the batch. */
  examples: number;
  /** Mean training loss of the batch (absent in predict). */
  loss?: number;
  /** Per head: one prediction (probability for classification heads) per row. */
  predictions?: Record<string, Float32Array>;
  /** The batch's labels, rows * labelWidth. */
  labels?: Float32Array;
  labelWidth?: number;
  /** Custom scalar metrics the model reported for this step. */
  metrics?: Record<string, number>;
  timings?: StepTimings;
  /** Who computed the dense model: the wasm SIMD kernels or tfjs (see MONOLITH_DENSE_KERNEL). */
  denseKernel?: 'wasm' | 'tfjs';
  /** Index of the worker thread that ran the step. */
  worker?: number;
  /** The batch itself, when a downstream operator needs LineId fields (deep insight, prediction output). */
  batch?: Batch;
  /**
   * Train steps with a remote parameter store: per sparse feature, the ids and
   * the (clipped) gradients the step applied to its table, at `globalStep` and with `regularizationScale`.
   */
  sparseUpdates?: Array<{ table: string; fids: Uint32Array; grads: Float32Array; globalStep: number; regularizationScale: number }>;
}

/**
 * A StepResult with defaults (train mode, step 1, one example) and the given
 * fields: for tests of one's own hooks and callbacks (e.g. marble tests).
 */
export function stepResult(fields: Partial<StepResult> = {}): StepResult {
  return { mode: 'train', step: 1, examples: 1, ...fields };
}
