import { loadFloats, opt, readFloats, type SegmentOptimizer } from './segment-optimizer.js';
import type { monolith } from '../../proto.js';

/** Momentum (default 0.9), optional Nesterov and weight decay; state n starts at 0. */
export function momentumOptimizer(c: monolith.hash_table.MomentumOptimizerConfig.$Properties, dim: number): SegmentOptimizer {
  const mu = opt(c.momentum, 0.9);
  const wd = opt(c.weightDecayFactor, 0);
  const nesterov = c.useNesterov === true;
  return {
    kind: 'momentum',
    dim,
    stateWords: dim,
    learningRate: opt(c.learningRate, 0.01),
    init(r, s) {
      r.fill(0, s, s + dim);
    },
    apply(r, w, s, g, gAt, lr, _step, reg = 1) {
      const wdr = wd * reg;
      for (let i = 0; i < dim; i++) {
        const dx = lr * (g[gAt + i]! + wdr * r[w + i]!);
        const prev = r[s + i]!;
        const n = (r[s + i] = mu * prev - dx);
        r[w + i] += nesterov ? -mu * prev + (1 + mu) * n : n;
      }
    },
    dump: (r, s) => ({ momentum: { n: readFloats(r, s, dim) } }),
    restore: (r, s, d) => !!d?.momentum && loadFloats(r, s, d.momentum.n, dim),
  };
}
