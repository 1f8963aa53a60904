import { ConfigError } from '../errors.js';
import { learningRateAt, type LearningRate } from '../hashtable/learning-rate.js';
import { LearningRateFunction } from '../nn/learning-rate-function.js';

/** Dense optimizer settings (ModelSpec.denseOptimizer) with tfjs's defaults for the rest. */
export interface DenseOptimizerConfig {
  name: 'sgd' | 'adagrad' | 'adam';
  /** A constant, or a function of the global step as plain data (PolynomialDecay), evaluated at every update. */
  learningRate: LearningRate;
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
  const lr = c.learningRate;
  if (typeof lr === 'number' ? !(lr > 0) : lr?.kind !== 'polynomialDecay' || !(lr.initialLearningRate > 0) || !(lr.decaySteps > 0)) {
    throw new ConfigError(`dense optimizer ${c.name}: learningRate must be > 0 or a PolynomialDecay with initialLearningRate > 0 and decaySteps > 0, got ${JSON.stringify(lr)}`);
  }
  return c;
}

/** The plain-data config of a ModelSpec's dense optimizer: a LearningRateFunction becomes its table form (it crosses to worker threads). */
export function denseOptimizerConfig(o: { name: DenseOptimizerConfig['name']; learningRate: LearningRate | LearningRateFunction } | undefined): DenseOptimizerConfig {
  if (!o) return DEFAULT_DENSE_OPTIMIZER;
  const learningRate = o.learningRate instanceof LearningRateFunction ? o.learningRate.toTableLearningRate() : o.learningRate;
  return validateDenseOptimizer({ ...o, learningRate });
}

/** Fills fresh optimizer slots (adagrad's accumulator starts at initialAccumulatorValue). */
export function initSlots(c: DenseOptimizerConfig, slots: Float32Array[]): void {
  if (c.name === 'adagrad') slots[0]!.fill(c.initialAccumulatorValue ?? 0.1);
  else for (const s of slots) s.fill(0);
}

/**
 * One update of `w` by gradient `g`, with tfjs's formulas (so a model trained
 * here matches one trained by tf.train.sgd / adagrad / adam). `t` is the
 * 1-based update count (adam's bias correction); `globalStep` is where a
 * learning-rate function is evaluated.
 */
export function applyDenseUpdate(c: DenseOptimizerConfig, w: Float32Array, g: Float32Array, slots: Float32Array[], t: number, globalStep = 0): void {
  const lr = learningRateAt(c.learningRate, globalStep);
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
