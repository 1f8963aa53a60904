import { ConfigError } from '../errors.js';

/** Dense optimizer settings (ModelSpec.denseOptimizer) with tfjs's defaults for the rest. */
export interface DenseOptimizerConfig {
  name: 'sgd' | 'adagrad' | 'adam';
  learningRate: number;
  /** adagrad (tfjs default 0.1). */
  initialAccumulatorValue?: number;
  /** adam (tfjs defaults 0.9 / 0.999). */
  beta1?: number;
  beta2?: number;
  /** tfjs's float32 backend epsilon. */
  epsilon?: number;
}

export const DEFAULT_DENSE_OPTIMIZER: DenseOptimizerConfig = { name: 'adagrad', learningRate: 0.01 };

/** Optimizer state arrays per weight. */
export function slotCount(c: DenseOptimizerConfig): number {
  switch (c.name) {
    case 'sgd': return 0;
    case 'adagrad': return 1;
    case 'adam': return 2;
    default: throw new ConfigError(`dense optimizer: unknown name ${String((c as { name: unknown }).name)} (sgd, adagrad or adam)`);
  }
}

export function validateDenseOptimizer(c: DenseOptimizerConfig): DenseOptimizerConfig {
  slotCount(c);
  if (!(c.learningRate > 0)) throw new ConfigError(`dense optimizer ${c.name}: learningRate must be > 0, got ${c.learningRate}`);
  return c;
}

/** Fills fresh optimizer slots (adagrad's accumulator starts at initialAccumulatorValue). */
export function initSlots(c: DenseOptimizerConfig, slots: Float32Array[]): void {
  if (c.name === 'adagrad') slots[0]!.fill(c.initialAccumulatorValue ?? 0.1);
  else for (const s of slots) s.fill(0);
}

/**
 * One update of `w` by gradient `g`, with tfjs's formulas (so a model trained
 * here matches one trained by tf.train.sgd / adagrad / adam). `t` is the
 * 1-based update count (adam's bias correction).
 */
export function applyDenseUpdate(c: DenseOptimizerConfig, w: Float32Array, g: Float32Array, slots: Float32Array[], t: number): void {
  const lr = c.learningRate;
  const eps = c.epsilon ?? 1e-7;
  const n = w.length;
  switch (c.name) {
    case 'sgd':
      for (let i = 0; i < n; i++) w[i] -= lr * g[i]!;
      return;
    case 'adagrad': {
      const acc = slots[0]!;
      for (let i = 0; i < n; i++) {
        const a = acc[i]! + g[i]! * g[i]!;
        acc[i] = a;
        w[i] -= (lr * g[i]!) / Math.sqrt(a + eps);
      }
      return;
    }
    case 'adam': {
      const b1 = c.beta1 ?? 0.9;
      const b2 = c.beta2 ?? 0.999;
      const m = slots[0]!;
      const v = slots[1]!;
      const c1 = 1 - b1 ** t;
      const c2 = 1 - b2 ** t;
      for (let i = 0; i < n; i++) {
        const gi = g[i]!;
        const mi = b1 * m[i]! + (1 - b1) * gi;
        const vi = b2 * v[i]! + (1 - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] -= (lr * (mi / c1)) / (Math.sqrt(vi / c2) + eps);
      }
      return;
    }
  }
}
