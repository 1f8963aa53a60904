import { loadFloats, opt, readFloats, type SegmentOptimizer } from './segment-optimizer.js';
import type { monolith } from '../../proto.js';

/**
 * Group FTRL: per-coordinate FTRL accumulators (norm, zero) with a group-lasso
 * penalty on the whole segment: w = 0 when |z| <= l1 * sqrt(dim), else
 * w_i = -(1 - l1*sqrt(dim)/|z|) * z_i / ((beta + sqrt(n_i)) / lr + l2).
 * Monolith's C++ declares this optimizer but throws "not implemented"; this
 * is the standard formulation (docs/hashtable.md). Defaults: beta 1, init 0.
 */
export function groupFtrlOptimizer(c: monolith.hash_table.GroupFtrlOptimizerConfig.$Properties, dim: number): SegmentOptimizer {
  const init = opt(c.initialAccumulatorValue, 0);
  const beta = opt(c.beta, 1);
  const l1 = opt(c.l1RegularizationStrength, 0) * Math.sqrt(dim);
  const l2 = opt(c.l2RegularizationStrength, 0);
  return {
    kind: 'groupFtrl',
    dim,
    stateWords: 2 * dim,
    learningRate: opt(c.learningRate, 0.01),
    init(r, s) {
      r.fill(init, s, s + dim);
      r.fill(0, s + dim, s + 2 * dim);
    },
    apply(r, w, s, g, gAt, lr, _step, reg = 1) {
      const zAt = s + dim;
      const l2r = l2 * reg;
      let zNorm = 0;
      for (let i = 0; i < dim; i++) {
        const gi = g[gAt + i]!;
        const n = r[s + i]!;
        const nNew = n + gi * gi;
        const sigma = (Math.sqrt(nNew) - Math.sqrt(n)) / lr;
        const zi = (r[zAt + i] = r[zAt + i]! + gi - sigma * r[w + i]!);
        r[s + i] = nNew;
        zNorm += zi * zi;
      }
      zNorm = Math.sqrt(zNorm);
      if (zNorm <= l1) {
        r.fill(0, w, w + dim);
        return;
      }
      const shrink = 1 - l1 / zNorm;
      for (let i = 0; i < dim; i++) r[w + i] = (-shrink * r[zAt + i]!) / ((beta + Math.sqrt(r[s + i]!)) / lr + l2r);
    },
    dump: (r, s) => ({ groupFtrl: { zero: readFloats(r, s + dim, dim), norm: readFloats(r, s, dim) } }),
    restore: (r, s, d) => !!d?.groupFtrl && loadFloats(r, s, d.groupFtrl.norm, dim) && loadFloats(r, s + dim, d.groupFtrl.zero, dim),
  };
}
