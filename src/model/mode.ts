/** Estimator modes with TensorFlow's ModeKeys strings. */
export const ModeKeys = { TRAIN: 'train', EVAL: 'eval', PREDICT: 'infer' } as const;
export type Mode = (typeof ModeKeys)[keyof typeof ModeKeys];

export function isMode(m: unknown): m is Mode {
  return m === 'train' || m === 'eval' || m === 'infer';
}
