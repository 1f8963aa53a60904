import { ConfigError } from '../errors.js';
import type { GradientSettings } from '../model/model-spec.js';

/** The gradients of one train step, before the optimizers run. */
export interface StepGradients {
  /** One per dense weight, in the order of the shared dense params. */
  dense: Float32Array[];
  /** The dense weights the gradients belong to (for weight decay). */
  denseWeights: readonly Float32Array[];
  /** One per feature: the gradient of each id occurrence, `dim` values each. */
  sparse: { fids: Uint32Array; grads: Float32Array; dim: number }[];
}

export function validateGradientSettings(s: GradientSettings | undefined, where: string): void {
  if (!s) return;
  const bad = (field: string, v: unknown, want: string) => new ConfigError(`${where}: gradients.${field} must be ${want}, got ${String(v)}`);
  if (s.clipNorm !== undefined && !Number.isFinite(s.clipNorm)) throw bad('clipNorm', s.clipNorm, 'a finite number');
  if (s.denseWeightDecay !== undefined && !(Number.isFinite(s.denseWeightDecay) && s.denseWeightDecay >= 0)) throw bad('denseWeightDecay', s.denseWeightDecay, 'a number >= 0');
  const w = s.sparseNormWarmupSteps;
  if (w !== undefined && w !== null && !(Number.isInteger(w) && w >= 0)) throw bad('sparseNormWarmupSteps', w, 'a non-negative integer or null');
}

const sumSquares = (a: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return s;
};

/**
 * Sum of squares of a feature's gradient per unique id (duplicates summed
 * first, as the table receives them): the embedding gradient's share of
 * the global norm.
 */
export function uniqueIdSumSquares(fids: Uint32Array, grads: Float32Array, dim: number): number {
  const byId = new Map<number, Map<number, Float64Array>>();
  const n = fids.length / 2;
  for (let i = 0; i < n; i++) {
    const lo = fids[2 * i]!;
    const hi = fids[2 * i + 1]!;
    let inner = byId.get(hi);
    if (!inner) byId.set(hi, (inner = new Map()));
    let acc = inner.get(lo);
    if (!acc) inner.set(lo, (acc = new Float64Array(dim)));
    for (let j = 0; j < dim; j++) acc[j] += grads[i * dim + j]!;
  }
  let s = 0;
  for (const inner of byId.values()) for (const acc of inner.values()) s += sumSquares(acc);
  return s;
}

/** TF's clip_by_global_norm factor: clipNorm / max(norm, clipNorm); a clip norm of 0 zeroes the gradients. */
export function clipFactor(norm: number, clipNorm: number): number {
  if (clipNorm <= 0) return 0;
  return clipNorm / Math.max(norm, clipNorm);
}

const scale = (arrays: Float32Array[], k: number): void => {
  if (k === 1) return;
  for (const a of arrays) for (let i = 0; i < a.length; i++) a[i] *= k;
};

/** What the settings did to one step (for tests and summaries). */
export interface AppliedSettings {
  globalNorm?: number;
  denseScale: number;
  sparseScale: number;
}

/**
 * Applies Monolith's gradient settings in place, at `globalStep` (the step
 * before this update):
 * - clip by global norm: without sparse warmup, one norm over the dense and
 *   the per-unique-id embedding gradients, both scaled by one factor; with a
 *   positive `sparseNormWarmupSteps`, dense clipped by `clipNorm` on its own
 *   norm and the embeddings by `clipNorm * min(1, step / warmup)` on theirs;
 * - dense weight decay: `g += decay * w` after clipping.
 */
export function applyGradientSettings(s: GradientSettings | undefined, g: StepGradients, globalStep: number): AppliedSettings {
  const out: AppliedSettings = { denseScale: 1, sparseScale: 1 };
  if (!s) return out;
  const clip = s.clipNorm ?? 0;
  if (clip > 0) {
    const dense2 = g.dense.reduce((a, d) => a + sumSquares(d), 0);
    const sparse2 = g.sparse.reduce((a, f) => a + uniqueIdSumSquares(f.fids, f.grads, f.dim), 0);
    const warmup = s.sparseNormWarmupSteps ?? 0;
    if (warmup > 0) {
      out.denseScale = clipFactor(Math.sqrt(dense2), clip);
      out.sparseScale = clipFactor(Math.sqrt(sparse2), clip * Math.min(1, globalStep / warmup));
      out.globalNorm = Math.sqrt(dense2 + sparse2);
    } else {
      out.globalNorm = Math.sqrt(dense2 + sparse2);
      out.denseScale = out.sparseScale = clipFactor(out.globalNorm, clip);
    }
    scale(g.dense, out.denseScale);
    scale(g.sparse.map((f) => f.grads), out.sparseScale);
  }
  const decay = s.denseWeightDecay ?? 0;
  if (decay > 0) {
    g.dense.forEach((d, i) => {
      const w = g.denseWeights[i]!;
      for (let j = 0; j < d.length; j++) d[j] += decay * w[j]!;
    });
  }
  return out;
}
