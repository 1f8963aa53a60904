import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's node bundle registers no gradients; tfjs-layers' bundle registers all of them.
import '@tensorflow/tfjs-layers';
import { ConfigError } from '../errors.js';
import { sigmoidCrossEntropyWithLogits } from './default-loss.js';
import { ModeKeys, type Mode } from './mode.js';

/** log(sigmoid(x)) computed without overflow: −(relu(x) − x + log1p(e^(−|x|))). */
export function safeLogSigmoid(logits: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.neg(tf.add(tf.sub(tf.relu(logits), logits), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))))));
}

/**
 * Monolith's LogitCorrection: `logits − log(sample_rate)`, on log-sigmoid
 * logits when `sampleBias` is set; with no sample rate, only the latter.
 */
export function correctLogits(logits: tf.Tensor, sampleRate: tf.Tensor | null, sampleBias: boolean): tf.Tensor {
  return tf.tidy(() => {
    if (sampleRate === null) return sampleBias ? safeLogSigmoid(logits) : logits;
    const base = sampleBias ? safeLogSigmoid(logits) : logits;
    return tf.sub(base, tf.log(sampleRate));
  });
}

export interface SigmoidLossOptions {
  name?: string;
  logits: tf.Tensor;
  label: tf.Tensor;
  /** Ignored: the batch size is always taken from the logits (as Monolith does). */
  batchSize?: number;
  /** A number for every row, null for 1, or one rate per row. Default 1. */
  sampleRate?: number | tf.Tensor | null;
  sampleBias?: boolean;
  mode?: Mode;
  instanceWeight?: tf.Tensor | null;
  /** Rows with a false/0 mask do not count in the loss. */
  mask?: tf.Tensor | null;
  /** p in (0, 1): corrected logits are clipped to ±log((1 − p) / p). */
  logitClipThreshold?: number | null;
  /** Predict from the raw logits (default) or from the corrected ones. */
  predictBeforeCorrection?: boolean;
}

/**
 * Binary loss and prediction from logits, with sample-rate correction:
 * loss = Σ w · sigmoid_xent(label, clip(correct(logits))) over unmasked rows;
 * pred = sigmoid(logits) (or of the corrected logits). PREDICT gives no loss
 * and the plain sigmoid.
 */
export function getSigmoidLossAndPred(o: SigmoidLossOptions): { loss: tf.Scalar | null; pred: tf.Tensor1D } {
  const t = o.logitClipThreshold;
  if (t != null && !(t > 0 && t < 1)) throw new ConfigError(`${o.name ?? 'sigmoid'}: logit_clip_threshold must be in (0, 1), got ${t}`);
  const r = tf.tidy(() => {
    const logits = tf.reshape(o.logits, [-1]) as tf.Tensor1D;
    const batchSize = logits.shape[0]!;
    if ((o.mode ?? ModeKeys.TRAIN) === ModeKeys.PREDICT) return { pred: tf.sigmoid(logits) };
    let rate: tf.Tensor;
    const sr = o.sampleRate === undefined ? 1 : o.sampleRate;
    if (sr === null) rate = tf.fill([batchSize], 1);
    else if (typeof sr === 'number') rate = tf.fill([batchSize], sr);
    else rate = tf.reshape(sr, [-1]);
    let biased = correctLogits(logits, rate, o.sampleBias ?? false);
    const pred = (o.predictBeforeCorrection ?? true) ? tf.sigmoid(logits) : tf.sigmoid(biased);
    if (t != null) {
      const threshold = Math.log((1 - t) / t);
      biased = tf.clipByValue(biased, -threshold, threshold);
    }
    let losses = sigmoidCrossEntropyWithLogits(tf.reshape(tf.cast(o.label, 'float32'), [-1]), biased);
    if (o.instanceWeight) losses = tf.mul(losses, tf.reshape(o.instanceWeight, [-1]));
    if (o.mask) {
      // boolean_mask then reduce_sum equals zeroing the masked rows (tfjs has only an async boolean mask).
      const keep = tf.cast(tf.reshape(o.mask, [-1]), 'bool');
      losses = tf.where(keep, losses, tf.zerosLike(losses));
    }
    return { loss: tf.sum(losses), pred };
  }) as { loss?: tf.Scalar; pred: tf.Tensor1D };
  return { loss: r.loss ?? null, pred: r.pred };
}

/**
 * Multi-class: pred = argmax(softmax(logits)), loss = per-row softmax
 * cross-entropy against one-hot (or soft) `label` [rows, classes]; no loss in PREDICT.
 */
export function getSoftmaxLossAndPred(o: { name?: string; logits: tf.Tensor; label: tf.Tensor; mode?: Mode }): { loss: tf.Tensor1D | null; pred: tf.Tensor1D } {
  const r = tf.tidy(() => {
    const pred = tf.argMax(tf.softmax(o.logits), 1);
    if ((o.mode ?? ModeKeys.TRAIN) === ModeKeys.PREDICT) return { pred };
    const loss = tf.neg(tf.sum(tf.mul(tf.cast(o.label, 'float32'), tf.logSoftmax(o.logits)), -1));
    return { loss, pred };
  }) as { loss?: tf.Tensor1D; pred: tf.Tensor1D };
  return { loss: r.loss ?? null, pred: r.pred };
}
