import { loadFloats, opt, readFloats, type SegmentOptimizer } from './segment-optimizer.js';
import type { monolith } from '../../proto.js';

/** Adadelta (averaging_ratio 0.9, epsilon 0.01); state accum then accum_update, both 0. */
export function adadeltaOptimizer(c: monolith.hash_table.AdadeltaOptimizerConfig.$Properties, dim: number): SegmentOptimizer {
  const rho = opt(c.averagingRatio, 0.9);
  const eps = opt(c.epsilon, 0.01);
  const wd = opt(c.weightDecayFactor, 0);
  return {
    kind: 'adadelta',
    dim,
    stateWords: 2 * dim,
    learningRate: opt(c.learningRate, 0.01),
    init(r, s) {
      r.fill(0, s, s + 2 * dim);
    },
    apply(r, w, s, g, gAt, lr, _step, reg = 1) {
      const wdr = wd * reg;
      const u = s + dim;
      for (let i = 0; i < dim; i++) {
        const gi = g[gAt + i]! + wdr * r[w + i]!;
        const acc = (r[s + i] = r[s + i]! * rho + gi * gi * (1 - rho));
        const upd = (Math.sqrt(r[u + i]! + eps) / Math.sqrt(acc + eps)) * gi;
        r[w + i] -= upd * lr;
        r[u + i] = r[u + i]! * rho + upd * upd * (1 - rho);
      }
    },
    dump: (r, s) => ({ adadelta: { accum: readFloats(r, s, dim), accumUpdate: readFloats(r, s + dim, dim) } }),
    restore: (r, s, d) => !!d?.adadelta && loadFloats(r, s, d.adadelta.accum, dim) && loadFloats(r, s + dim, d.adadelta.accumUpdate, dim),
  };
}
