import { opt, type SegmentOptimizer } from './segment-optimizer.js';
import type { monolith } from '../../proto.js';

/**
 * Group AdaGrad (group lasso on the whole segment) as in Monolith: one state
 * float, grad_square_sum += max_i g_i'^2; lr_t = lr / (beta + sqrt(sum));
 * z = g' - w / lr_t; w = 0 if |z| < l2 else -lr_t * (|z| - l2) / |z| * z.
 */
export function groupAdagradOptimizer(c: monolith.hash_table.GroupAdaGradOptimizerConfig.$Properties, dim: number): SegmentOptimizer {
  const init = opt(c.initialAccumulatorValue, 0.1);
  const beta = opt(c.beta, 0);
  const l2 = opt(c.l2RegularizationStrength, 0);
  const wd = opt(c.weightDecayFactor, 0);
  const z = new Float64Array(dim);
  return {
    kind: 'groupAdagrad',
    dim,
    stateWords: 1,
    learningRate: opt(c.learningRate, 0.01),
    init(r, s) {
      r[s] = init;
    },
    apply(r, w, s, g, gAt, lr0, _step, reg = 1) {
      const wdr = wd * reg;
      let maxSq = 0;
      for (let i = 0; i < dim; i++) {
        const gi = g[gAt + i]! + wdr * r[w + i]!;
        if (gi * gi > maxSq) maxSq = gi * gi;
        z[i] = gi;
      }
      const sum = (r[s] = r[s]! + maxSq);
      const lr = lr0 / (beta + Math.sqrt(sum));
      let norm = 0;
      for (let i = 0; i < dim; i++) {
        z[i] = z[i]! - r[w + i]! / lr;
        norm += z[i]! * z[i]!;
      }
      norm = Math.sqrt(norm);
      if (norm < l2 || norm === 0) {
        r.fill(0, w, w + dim);
        return;
      }
      const k = (-lr * (norm - l2)) / norm;
      for (let i = 0; i < dim; i++) r[w + i] = k * z[i]!;
    },
    dump: (r, s) => ({ groupAdagrad: { gradSquareSum: r[s]! } }),
    restore(r, s, d) {
      if (!d?.groupAdagrad) return false;
      r[s] = opt(d.groupAdagrad.gradSquareSum, init);
      return true;
    },
  };
}
