import { loadFloats, opt, readFloats, type SegmentOptimizer } from './segment-optimizer.js';
import type { monolith } from '../../proto.js';

/**
 * Adam as Monolith's table runs it: state m, v (0) and the running powers
 * beta1^t, beta2^t (start at beta1, beta2); bias correction folded into lr;
 * epsilon (default 0.01) added to sqrt(v); optional Nesterov and weight decay.
 * `amsgrad` keeps vhat = max(vhat, v) and divides by sqrt(vhat) instead.
 */
function adamLike(
  kind: 'adam' | 'amsgrad',
  c: monolith.hash_table.AdamOptimizerConfig.$Properties | monolith.hash_table.AmsgradOptimizerConfig.$Properties,
  dim: number,
): SegmentOptimizer {
  const b1 = opt(c.beta1, 0.9);
  const b2 = opt(c.beta2, 0.99);
  const wd = opt(c.weightDecayFactor, 0);
  const eps = opt(c.epsilon, 0.01);
  const nesterov = c.useNesterov === true;
  const ams = kind === 'amsgrad';
  const vecs = ams ? 3 : 2;
  const powers = vecs * dim; // offset of beta1_power; beta2_power follows
  return {
    kind,
    dim,
    stateWords: vecs * dim + 2,
    learningRate: opt(c.learningRate, 0.01),
    init(r, s) {
      r.fill(0, s, s + powers);
      r[s + powers] = b1;
      r[s + powers + 1] = b2;
    },
    apply(r, w, s, g, gAt, lr0, _step, reg = 1) {
      const wdr = wd * reg;
      const p1 = r[s + powers]!;
      const p2 = r[s + powers + 1]!;
      const lr = (lr0 * Math.sqrt(1 - p2)) / (1 - p1);
      const v = s + dim;
      const vh = s + 2 * dim;
      for (let i = 0; i < dim; i++) {
        const gi = g[gAt + i]! + wdr * r[w + i]!;
        const m = (r[s + i] = r[s + i]! + (gi - r[s + i]!) * (1 - b1));
        let vi = (r[v + i] = r[v + i]! + (gi * gi - r[v + i]!) * (1 - b2));
        if (ams) vi = r[vh + i] = Math.max(r[vh + i]!, vi);
        const step = nesterov ? gi * (1 - b1) + b1 * m : m;
        r[w + i] -= (step * lr) / (Math.sqrt(vi) + eps);
      }
      r[s + powers] = p1 * b1;
      r[s + powers + 1] = p2 * b2;
    },
    dump(r, s) {
      const m = readFloats(r, s, dim);
      const v = readFloats(r, s + dim, dim);
      const beta1Power = r[s + powers]!;
      const beta2Power = r[s + powers + 1]!;
      return ams
        ? { amsgrad: { m, v, vhat: readFloats(r, s + 2 * dim, dim), beta1Power, beta2Power } }
        : { adam: { m, v, beta1Power, beta2Power } };
    },
    restore(r, s, d) {
      const x = ams ? d?.amsgrad : d?.adam;
      if (!x || !loadFloats(r, s, x.m, dim) || !loadFloats(r, s + dim, x.v, dim)) return false;
      if (ams && !loadFloats(r, s + 2 * dim, (x as monolith.hash_table.AmsgradOptimizerDump.$Properties).vhat, dim)) return false;
      r[s + powers] = opt(x.beta1Power, b1);
      r[s + powers + 1] = opt(x.beta2Power, b2);
      return true;
    },
  };
}

export const adamOptimizer = (c: monolith.hash_table.AdamOptimizerConfig.$Properties, dim: number) => adamLike('adam', c, dim);
export const amsgradOptimizer = (c: monolith.hash_table.AmsgradOptimizerConfig.$Properties, dim: number) => adamLike('amsgrad', c, dim);
