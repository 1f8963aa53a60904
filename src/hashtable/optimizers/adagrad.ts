import { loadFloats, opt, readFloats, type SegmentOptimizer } from './segment-optimizer.js';
import type { monolith } from '../../proto.js';

/**
 * Monolith's Adagrad: g' = g + wd * w; norm += g'^2; w -= lr * g' / sqrt(norm).
 * (No epsilon: norm starts at initial_accumulator_value, default 0.1.)
 */
export function adagradOptimizer(c: monolith.hash_table.AdagradOptimizerConfig.$Properties, dim: number): SegmentOptimizer {
  const init = opt(c.initialAccumulatorValue, 0.1);
  const wd0 = opt(c.weightDecayFactor, 0);
  return {
    kind: 'adagrad',
    dim,
    stateWords: dim,
    learningRate: opt(c.learningRate, 0.001),
    init(r, s) {
      r.fill(init, s, s + dim);
    },
    apply(r, w, s, g, gAt, lr, _step, reg = 1) {
      const wd = wd0 * reg;
      if (wd === 0) {
        for (let i = 0; i < dim; i++) {
          const gi = g[gAt + i]!;
          const n = (r[s + i] += gi * gi);
          r[w + i] -= (lr * gi) / Math.sqrt(n);
        }
      } else {
        for (let i = 0; i < dim; i++) {
          const gi = g[gAt + i]! + wd * r[w + i]!;
          const n = (r[s + i] += gi * gi);
          r[w + i] -= (lr * gi) / Math.sqrt(n);
        }
      }
    },
    applyRows(r, stride, rowIds, count, w, s, g, gOff, lr, _step, reg = 1) {
      const wd = wd0 * reg;
      for (let u = 0; u < count; u++) {
        const base = rowIds[u]! * stride;
        const wb = base + w;
        const sb = base + s;
        const gb = gOff[u]! + w;
        if (wd === 0) {
          for (let i = 0; i < dim; i++) {
            const gi = g[gb + i]!;
            const n = (r[sb + i] += gi * gi);
            r[wb + i] -= (lr * gi) / Math.sqrt(n);
          }
        } else {
          for (let i = 0; i < dim; i++) {
            const gi = g[gb + i]! + wd * r[wb + i]!;
            const n = (r[sb + i] += gi * gi);
            r[wb + i] -= (lr * gi) / Math.sqrt(n);
          }
        }
      }
    },
    dump: (r, s) => ({ adagrad: { norm: readFloats(r, s, dim) } }),
    restore: (r, s, d) => !!d?.adagrad && loadFloats(r, s, d.adagrad.norm, dim),
  };
}
