import { FLOAT32_TINY } from './gumbel-keys.js';
import { tf, type Tensor } from './tf.js';

/**
 * `continuous_topk`: a relaxed k-hot mask of the largest entries of `w`
 * along the last axis (Xie & Ermon 2019): k rounds of softmax(w / t), each
 * round first pushing down what earlier rounds picked (w += log max(1 - p, tiny)).
 * Returns the sum of the k soft one-hots, or each of them with `separate`.
 */
export function continuousTopk(w: Tensor, k: number, t: number, separate?: false): Tensor;
export function continuousTopk(w: Tensor, k: number, t: number, separate: true): Tensor[];
export function continuousTopk(w: Tensor, k: number, t: number, separate = false): Tensor | Tensor[] {
  return tf.tidy(() => {
    const khot: Tensor[] = [];
    let onehot: Tensor = tf.zerosLike(w);
    let x = w;
    for (let i = 0; i < k; i++) {
      const mask = tf.maximum(tf.sub(1, onehot), FLOAT32_TINY);
      x = tf.add(x, tf.log(mask));
      onehot = tf.softmax(tf.div(x, t), -1);
      khot.push(onehot);
    }
    if (separate) return khot;
    return khot.length === 0 ? tf.zerosLike(w) : tf.addN(khot);
  });
}
