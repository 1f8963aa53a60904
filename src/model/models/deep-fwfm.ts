import type { ModelSpec } from '../model-spec.js';
import { DeepFMModel, type DeepFmOptions } from './deepfm.js';

/**
 * DeepFwFM: DeepFM whose second-order term is a field-weighted FM — one
 * learnt weight per slot pair (FieldWeightedFm) — so the pairs that interact
 * are found among all C(slots, 2) candidates instead of all being weighted
 * equally. Options as DeepFM's (`interaction` is fixed to 'fwfm').
 *
 * Its pair term is field-aware by default (`fieldAwarePairs`): each id holds
 * an 8-wide vector per partner slot, so a slot that interacts with two others
 * learns each pair in its own vectors, and every pair starts at weight 0.5.
 * With one vector per id (`fieldAwarePairs: false`), the layer's 0.1 start: the
 * pairs that do not interact would then pull the shared vectors at full
 * strength from the first batch (docs/model.md gives the figures).
 */
export class DeepFwFMModel extends DeepFMModel {
  constructor(options: Omit<DeepFmOptions, 'interaction'> = {}) {
    const fieldAwarePairs = options.fieldAwarePairs ?? true;
    super({ interactionPooling: 'mean', pairEmbeddingDim: 8, ...(fieldAwarePairs ? { initialPairWeight: 0.5 } : {}), ...options, fieldAwarePairs, interaction: 'fwfm', params: { name: 'deep_fwfm', ...options.params } });
  }
}

/** ModelModule entry: `createModel(options)` with DeepFmOptions as JSON. */
export function createModel(options: Record<string, unknown> = {}): ModelSpec {
  return new DeepFwFMModel(options as DeepFmOptions).toModelSpec();
}
