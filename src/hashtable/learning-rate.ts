import { ConfigError } from '../errors.js';

/**
 * TensorFlow's `polynomial_decay` of the global step, as Monolith's
 * PolynomialDecay uses it. Plain data so it crosses to worker threads.
 */
export interface PolynomialDecay {
  kind: 'polynomialDecay';
  initialLearningRate: number;
  decaySteps: number;
  endLearningRate?: number; // default 0.0001
  power?: number; // default 1
  cycle?: boolean; // default false
  name?: string;
}

/** A table segment's learning rate: a constant or a function of the global step. */
export type LearningRate = number | PolynomialDecay;

export function polynomialDecay(opts: Omit<PolynomialDecay, 'kind'>): PolynomialDecay {
  if (!(opts.decaySteps > 0)) throw new ConfigError(`PolynomialDecay: decaySteps must be > 0, got ${opts.decaySteps}`);
  return { kind: 'polynomialDecay', endLearningRate: 0.0001, power: 1, cycle: false, ...opts };
}

/**
 * lr(step) = (init - end) * (1 - step/decay_steps)^power + end, with step
 * clamped to decay_steps; with `cycle`, decay_steps is instead stretched to the
 * next multiple of itself that is >= step (1 at step 0), as TF does.
 */
export function learningRateAt(lr: LearningRate, step: number): number {
  if (typeof lr === 'number') return lr;
  const end = lr.endLearningRate ?? 0.0001;
  const power = lr.power ?? 1;
  let decay = lr.decaySteps;
  let s = step;
  if (lr.cycle) {
    const mult = s === 0 ? 1 : Math.ceil(s / decay);
    decay *= mult;
  } else {
    s = Math.min(s, decay);
  }
  return (lr.initialLearningRate - end) * Math.pow(1 - s / decay, power) + end;
}

/** Monolith's `__str__`: class name and the sorted parameters (equal configs print equal). */
export function learningRateToString(lr: LearningRate): string {
  if (typeof lr === 'number') return String(lr);
  const p: Record<string, unknown> = {
    cycle: lr.cycle ?? false,
    decay_steps: lr.decaySteps,
    end_learning_rate: lr.endLearningRate ?? 0.0001,
    initial_learning_rate: lr.initialLearningRate,
    name: lr.name ?? null,
    power: lr.power ?? 1,
  };
  return `PolynomialDecay(${Object.keys(p)
    .sort()
    .map((k) => `${k}=${String(p[k])}`)
    .join(',')})`;
}

/**
 * The learning rate of each segment of an entry at `step` into `out`: the
 * explicit override, else the configured schedule, else the optimizer's own
 * rate, scaled down during the optimizer's warmup steps.
 */
export function segmentLearningRates(
  segments: ReadonlyArray<{ optimizer: { learningRate: number }; warmupSteps: number }>,
  configured: readonly LearningRate[] | undefined,
  step: number,
  explicit: readonly number[] | undefined,
  out: Float64Array,
): Float64Array {
  segments.forEach((seg, k) => {
    let lr = explicit?.[k] ?? learningRateAt(configured?.[k] ?? seg.optimizer.learningRate, step);
    if (seg.warmupSteps > 0) lr *= Math.min(1, (step + 1) / seg.warmupSteps);
    out[k] = lr;
  });
  return out;
}
