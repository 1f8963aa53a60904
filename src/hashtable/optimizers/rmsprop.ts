import { loadFloats, opt, readFloats, type SegmentOptimizer } from './segment-optimizer.js';
import type { monolith } from '../../proto.js';

/**
 * RMSProp as in Monolith: n = mu*n + (1-mu)*g'^2 (v2: n = mu*n + g'^2),
 * w -= lr / (sqrt(n) + 1) * g', with g' = g + wd*w; n starts at 0.
 */
function rmspropLike(kind: 'rmsprop' | 'rmspropv2', c: monolith.hash_table.RmspropOptimizerConfig.$Properties, dim: number): SegmentOptimizer {
  const mu = opt(c.momentum, 0.9);
  const wd = opt(c.weightDecayFactor, 0);
  const keep = kind === 'rmsprop' ? 1 - mu : 1;
  return {
    kind,
    dim,
    stateWords: dim,
    learningRate: opt(c.learningRate, 0.01),
    init(r, s) {
      r.fill(0, s, s + dim);
    },
    apply(r, w, s, g, gAt, lr, _step, reg = 1) {
      const wdr = wd * reg;
      for (let i = 0; i < dim; i++) {
        const dx = g[gAt + i]! + wdr * r[w + i]!;
        const n = (r[s + i] = mu * r[s + i]! + keep * dx * dx);
        r[w + i] -= (lr / (Math.sqrt(n) + 1)) * dx;
      }
    },
    dump: (r, s) => (kind === 'rmsprop' ? { rmsprop: { n: readFloats(r, s, dim) } } : { rmspropv2: { n: readFloats(r, s, dim) } }),
    restore(r, s, d) {
      const x = kind === 'rmsprop' ? d?.rmsprop : d?.rmspropv2;
      return !!x && loadFloats(r, s, x.n, dim);
    },
  };
}

export const rmspropOptimizer = (c: monolith.hash_table.RmspropOptimizerConfig.$Properties, dim: number) => rmspropLike('rmsprop', c, dim);
export const rmspropV2Optimizer = (c: monolith.hash_table.RmspropV2OptimizerConfig.$Properties, dim: number) => rmspropLike('rmspropv2', c, dim);
