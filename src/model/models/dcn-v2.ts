import type { ModelSpec } from '../model-spec.js';
import { DeepFMModel, type DeepFmOptions } from './deepfm.js';

/**
 * DCN-v2 (Wang et al. 2021, parallel form) with DeepFM's first-order part:
 * logit = Σ bias + w·dense + cross([vecs, dense]) + MLP([vecs, dense]), where
 * the cross network (`crossLayers` CrossLayers, default 2) learns a weight for
 * every pair of input coordinates, so it finds which slots interact. Options
 * as DeepFM's (`interaction` is fixed to 'cross').
 */
export class DcnV2Model extends DeepFMModel {
  constructor(options: Omit<DeepFmOptions, 'interaction'> = {}) {
    super({ ...options, interaction: 'cross', params: { name: 'dcn_v2', ...options.params } });
  }
}

/** ModelModule entry: `createModel(options)` with DeepFmOptions as JSON. */
export function createModel(options: Record<string, unknown> = {}): ModelSpec {
  return new DcnV2Model(options as DeepFmOptions).toModelSpec();
}
