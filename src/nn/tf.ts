/**
 * The tfjs entry point for src/nn. tfjs-core alone registers no gradients;
 * tfjs-layers' bundle registers all of them in tfjs' global registry, so the
 * losses here are differentiable with `tf.grad` / `optimizer.minimize`.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';

export { tf };
export type { Tensor, Tensor1D, Tensor2D, Tensor3D, Scalar, Rank } from '@tensorflow/tfjs-core';
