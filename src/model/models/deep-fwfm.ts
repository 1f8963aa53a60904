import type { ModelSpec } from '../model-spec.js';
import { DeepFMModel, type DeepFmOptions } from './deepfm.js';

/**
 * DeepFwFM: DeepFM whose second-order term is a field-weighted FM — one
 * learnt weight per slot pair (FieldWeightedFm) — so the pairs that interact
 * are found among all C(slots, 2) candidates instead of all being weighted
 * equally. Options as DeepFM's (`interaction` is fixed to 'fwfm').
 */
export class DeepFwFMModel extends DeepFMModel {
  constructor(options: Omit<DeepFmOptions, 'interaction'> = {}) {
    super({ interactionPooling: 'mean', pairEmbeddingDim: 8, ...options, interaction: 'fwfm', params: { name: 'deep_fwfm', ...options.params } });
  }
}

/** ModelModule entry: `createModel(options)` with DeepFmOptions as JSON. */
export function createModel(options: Record<string, unknown> = {}): ModelSpec {
  return new DeepFwFMModel(options as DeepFmOptions).toModelSpec();
}
