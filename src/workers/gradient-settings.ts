import { ConfigError } from '../errors.js';
import type { GradientSettings } from '../model/model-spec.js';

/** The gradients of one train step, before the optimizers run. */
export interface StepGradients {
  /** One per dense weight, in the order of the shared dense params. */
  dense: Float32Array[];
  /** The dense weights the gradients belong to (for weight decay). */
  denseWeights: readonly Float32Array[];
  /**
   * One per feature: the gradient with respect to the pooled embedding input of the dense model
   * (Monolith's layout tensors, `[rows, width]`); these, not the per-id rows, enter the global norm.
   */
  pooled: Float32Array[];
  /** One per feature: the gradient of each id occurrence, `dim` values each (scattered from `pooled`). */
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
 * before this update), as its `apply_gradients_with_var_optimizer` does:
 * - clip by global norm: one norm over the dense gradients and the gradients
 *   of the pooled embedding inputs; the dense gradients are clipped to
 *   `clipNorm`, the embedding gradients to `clipNorm` too or, with
 *   `sparseNormWarmupSteps`, to `clipNorm * min(1, step / warmup)` (same norm);
 * - dense weight decay: `g += decay * w` after clipping.
 */
export function applyGradientSettings(s: GradientSettings | undefined, g: StepGradients, globalStep: number): AppliedSettings {
  const out: AppliedSettings = { denseScale: 1, sparseScale: 1 };
  if (!s) return out;
  const clip = s.clipNorm ?? 0;
  if (clip > 0) {
    const sq = (arrays: Float32Array[]) => arrays.reduce((a, d) => a + sumSquares(d), 0);
    out.globalNorm = Math.sqrt(sq(g.dense) + sq(g.pooled));
    const warmup = s.sparseNormWarmupSteps ?? 0;
    const sparseClip = warmup > 0 && globalStep < warmup ? (clip * globalStep) / warmup : clip;
    out.denseScale = clipFactor(out.globalNorm, clip);
    out.sparseScale = clipFactor(out.globalNorm, sparseClip);
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
