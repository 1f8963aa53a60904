import { rngOf, type RandomSource } from './seeded-rng.js';
import { tf, type Tensor } from './tf.js';

/** The smallest positive normal float32 (`np.finfo(np.float32).tiny`). */
export const FLOAT32_TINY = 1.1754943508222875e-38;

const MAX_FLOAT32_BELOW_ONE = 1 - 2 ** -24;

export type { RandomSource };

/** `gumbel_keys`: w + Gumbel(0, 1) noise, -log(-log(u)) with u uniform in [tiny, 1). */
export function gumbelKeys(w: Tensor, random?: RandomSource): Tensor {
  const rng = rngOf(random);
  const u = new Float32Array(w.size);
  // Uniform in [tiny, 1) as float32 (rounding must not reach 1, where -log(-log(u)) is infinite).
  for (let i = 0; i < u.length; i++) u[i] = Math.min(Math.fround(FLOAT32_TINY + (1 - FLOAT32_TINY) * rng.float()), MAX_FLOAT32_BELOW_ONE);
  return tf.tidy(() => tf.add(w, tf.neg(tf.log(tf.neg(tf.log(tf.tensor(u, w.shape)))))));
}
