import { learningRateAt, polynomialDecay, type PolynomialDecay as PolynomialDecayConfig } from '../hashtable/learning-rate.js';
import { LearningRateFunction } from './learning-rate-function.js';

export interface PolynomialDecayOptions {
  initialLearningRate: number;
  /** > 0. */
  decaySteps: number;
  /** Default 0.0001. */
  endLearningRate?: number;
  /** Default 1. */
  power?: number;
  /** Restart the decay every decaySteps (TF's `cycle`; default false). */
  cycle?: boolean;
  name?: string | null;
}

/**
 * `PolynomialDecay`: TF's `polynomial_decay` of an explicit global step,
 * (init - end) * (1 - min(step, decay_steps) / decay_steps)^power + end, or
 * with `cycle` decay_steps * ceil(step / decay_steps) as the horizon. The
 * formula is the hash tables' (src/hashtable/learning-rate.ts), so a dense
 * optimizer and a table fed the same step use the same rate.
 */
export class PolynomialDecay extends LearningRateFunction {
  readonly config: PolynomialDecayConfig;

  constructor(opts: PolynomialDecayOptions) {
    super();
    const { name, ...rest } = opts;
    this.config = polynomialDecay(name === null || name === undefined ? rest : { ...rest, name });
  }

  /** From a hash table's plain-data config. */
  static fromConfig(c: PolynomialDecayConfig): PolynomialDecay {
    const { kind, ...rest } = c;
    void kind;
    return new PolynomialDecay(rest);
  }

  get initialLearningRate(): number {
    return this.config.initialLearningRate;
  }
  get decaySteps(): number {
    return this.config.decaySteps;
  }
  get endLearningRate(): number {
    return this.config.endLearningRate ?? 0.0001;
  }
  get power(): number {
    return this.config.power ?? 1;
  }
  get cycle(): boolean {
    return this.config.cycle ?? false;
  }
  get name(): string | null {
    return this.config.name ?? null;
  }

  valueAt(globalStep: number): number {
    return learningRateAt(this.config, globalStep);
  }

  override toTableLearningRate(): PolynomialDecayConfig {
    return { ...this.config };
  }

  protected params() {
    return {
      initial_learning_rate: { value: this.initialLearningRate, float: true },
      decay_steps: { value: this.decaySteps },
      end_learning_rate: { value: this.endLearningRate, float: true },
      power: { value: this.power, float: true },
      cycle: { value: this.cycle },
      name: { value: this.name },
    };
  }
}
