import { ConfigError } from '../../errors.js';
import { loadFloats, opt, readFloats, type SegmentOptimizer } from './segment-optimizer.js';
import type { monolith } from '../../proto.js';

/**
 * FTRL-Proximal (McMahan et al. 2013) as Monolith computes it per coordinate:
 * state `norm` (init initial_accumulator_value, 0.1) then `zero` (init 0).
 *
 * `learningRatePower` (TensorFlow's learning_rate_power; a monolith-ts
 * extension field of the config) sets the per-coordinate step lr·n^power:
 * -0.5 (default) is Monolith's FTRL; -1 makes the step the inverse of the
 * accumulated squared gradients, a Newton step with n as the curvature (for
 * the logistic loss E[g²] = p(1−p), its Fisher information), and L2 then
 * acts as a prior precision; 0 is a fixed rate.
 */
/** The exponent p of the step's n^-p (0.5 unless `learningRatePower` says otherwise); a positive learningRatePower is a ConfigError naming `where`. */
export function ftrlStepExponent(c: monolith.hash_table.FtrlOptimizerConfig.$Properties, where = 'segment'): number {
  const power = -opt(c.learningRatePower, -0.5);
  if (!(power >= 0)) throw new ConfigError(`${where}: ftrl learningRatePower must be <= 0, got ${c.learningRatePower}`);
  return power;
}

export function ftrlOptimizer(c: monolith.hash_table.FtrlOptimizerConfig.$Properties, dim: number, where = 'segment'): SegmentOptimizer {
  const init = opt(c.initialAccumulatorValue, 0.1);
  const beta = opt(c.beta, 0);
  const l1 = opt(c.l1RegularizationStrength, 0);
  const l2 = opt(c.l2RegularizationStrength, 0);
  const power = ftrlStepExponent(c, where);
  const pow = power === 0.5 ? Math.sqrt : power === 1 ? (n: number) => n : (n: number) => Math.pow(n, power);
  return {
    kind: 'ftrl',
    dim,
    stateWords: 2 * dim,
    learningRate: opt(c.learningRate, 0.01),
    init(r, s) {
      r.fill(init, s, s + dim);
      r.fill(0, s + dim, s + 2 * dim);
    },
    apply(r, w, s, g, gAt, lr, _step, reg = 1) {
      const z = s + dim;
      const l2r = l2 * reg;
      for (let i = 0; i < dim; i++) {
        const gi = g[gAt + i]!;
        const n = r[s + i]!;
        const nNew = n + gi * gi;
        const stepNew = pow(nNew);
        const sigma = (stepNew - pow(n)) / lr;
        const zi = (r[z + i] = r[z + i]! + (gi - sigma * r[w + i]!));
        r[s + i] = nNew;
        const den = stepNew + beta + l2r * lr;
        r[w + i] = Math.abs(zi) > l1 && den > 0 ? (lr * (Math.sign(zi) * l1 - zi)) / den : 0;
      }
    },
    dump: (r, s) => ({ ftrl: { zero: readFloats(r, s + dim, dim), norm: readFloats(r, s, dim) } }),
    restore: (r, s, d) => !!d?.ftrl && loadFloats(r, s, d.ftrl.norm, dim) && loadFloats(r, s + dim, d.ftrl.zero, dim),
  };
}
