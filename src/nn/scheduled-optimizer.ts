import type { LearningRateFunction } from './learning-rate-function.js';
import { tf, type Tensor } from './tf.js';

type NamedGradients = Record<string, Tensor> | { name: string; tensor: Tensor }[];

/**
 * A tfjs optimizer whose learning rate follows a LearningRateFunction of an
 * explicit global step, as Monolith passes a LearningRateFunction as a dense
 * optimizer's `learning_rate`. The rate is set before each update; the step
 * does not advance by itself (TF's `apply_gradients` without `global_step`
 * does not either): call `setGlobalStep` as training proceeds.
 */
export class ScheduledOptimizer {
  private step = 0;

  constructor(
    readonly optimizer: tf.Optimizer,
    readonly learningRate: LearningRateFunction,
  ) {}

  get globalStep(): number {
    return this.step;
  }

  setGlobalStep(step: number): void {
    this.step = step;
  }

  /** The rate the next update will use. */
  currentLearningRate(): number {
    return this.learningRate.valueAt(this.step);
  }

  private setRate(): void {
    const lr = this.currentLearningRate();
    const o = this.optimizer as unknown as { setLearningRate?: (lr: number) => void; learningRate: number };
    // SGD (and Momentum) cache the rate as a tensor and expose a setter; the others read the field.
    if (typeof o.setLearningRate === 'function') o.setLearningRate(lr);
    else o.learningRate = lr;
  }

  applyGradients(gradients: NamedGradients): void {
    this.setRate();
    this.optimizer.applyGradients(gradients);
  }

  /** `optimizer.minimize` at the scheduled rate. */
  minimize(f: () => tf.Scalar, returnCost = false, varList?: tf.Variable[]): tf.Scalar | null {
    this.setRate();
    return this.optimizer.minimize(f, returnCost, varList);
  }
}
