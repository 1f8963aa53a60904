import { ConfigError } from '../errors.js';
import type { LearningRate } from '../hashtable/learning-rate.js';

/** Python's str() of a parameter value, so equal configs print as Monolith prints them. */
export function pythonStr(v: unknown, float = false): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
    if (Number.isInteger(v) && Math.abs(v) < 1e16) return float ? `${v}.0` : String(v);
    const [mantissa, exp] = v.toExponential().split('e') as [string, string];
    const e = Number(exp);
    if (e < -4 || e >= 16) return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
    return String(v);
  }
  return String(v);
}

/**
 * `LearningRateFunction`: a learning rate that changes with the global step.
 * Usable as a dense optimizer's rate (`ScheduledOptimizer`) and as a hash
 * table segment's rate (`toTableLearningRate`). Monolith reads TF's global
 * step; here the step is explicit.
 */
export abstract class LearningRateFunction {
  /** The learning rate at `globalStep`. */
  abstract valueAt(globalStep: number): number;

  /** The parameters with Monolith's (Python) names; floats are flagged so they print as Python floats. */
  protected abstract params(): Record<string, { value: unknown; float?: boolean }>;

  /** The plain-data form a hash table config takes; throws when a table cannot evaluate this function. */
  toTableLearningRate(): LearningRate {
    throw new ConfigError(`${this.constructor.name} has no hash-table form`);
  }

  /** `LearningRateFunction("<Class>",Params:k=v,...)` with the keys sorted: equal configs give equal strings. */
  toString(): string {
    const p = this.params();
    return `LearningRateFunction("${this.constructor.name}",Params:${Object.keys(p)
      .sort()
      .map((k) => `${k}=${pythonStr(p[k]!.value, p[k]!.float)}`)
      .join(',')})`;
  }
}

/** A hash table's learning rate from a number or a LearningRateFunction. */
export function toTableLearningRate(lr: number | LearningRateFunction): LearningRate {
  return typeof lr === 'number' ? lr : lr.toTableLearningRate();
}
