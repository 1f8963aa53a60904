import { continuousTopk } from './continuous-topk.js';
import { gumbelKeys, type RandomSource } from './gumbel-keys.js';
import type { Tensor } from './tf.js';

/**
 * `sample_subset`: a differentiable sample of k elements (Gumbel top-k
 * relaxation): `w` are log-probabilities, `t` the softmax temperature
 * (default 0.1). Seeded through `random`.
 */
export function sampleSubset(w: Tensor, k: number, t = 0.1, random?: RandomSource): Tensor {
  return continuousTopk(gumbelKeys(w, random), k, t);
}
