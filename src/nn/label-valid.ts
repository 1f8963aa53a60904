import { tf, type Tensor } from './tf.js';
import type { MatrixLike } from './matrix.js';

/** An item takes part in a list when its label is >= 0; labels < 0 mark padding / invalid items. */
export const isValidLabel = (label: number): boolean => label >= 0;

/** `label_valid_fn`: a boolean tensor, true where labels >= 0 (any shape). */
export function labelValidFn(labels: Tensor | MatrixLike | number[]): Tensor {
  return tf.tidy(() => tf.greaterEqual(labels instanceof tf.Tensor ? labels : tf.tensor(labels as number[]), 0));
}
