import { opt, type SegmentOptimizer } from './segment-optimizer.js';
import type { monolith } from '../../proto.js';

/** w -= lr * g. No state; dumps as an empty SgdOptimizerDump. Default learning_rate 0.01. */
export function sgdOptimizer(c: monolith.hash_table.SgdOptimizerConfig.$Properties, dim: number): SegmentOptimizer {
  return {
    kind: 'sgd',
    dim,
    stateWords: 0,
    learningRate: opt(c.learningRate, 0.01),
    init() {},
    apply(r, w, _s, g, gAt, lr) {
      for (let i = 0; i < dim; i++) r[w + i] -= lr * g[gAt + i]!;
    },
    applyRows(r, stride, rowIds, count, w, _s, g, gOff, lr) {
      for (let u = 0; u < count; u++) {
        const wb = rowIds[u]! * stride + w;
        const gb = gOff[u]! + w;
        for (let i = 0; i < dim; i++) r[wb + i] -= lr * g[gb + i]!;
      }
    },
    dump: () => ({ sgd: {} }),
    restore: (_r, _s, d) => !!d?.sgd,
  };
}
