import { ConfigError } from '../errors.js';
import { tf, type Scalar, type Tensor } from './tf.js';

export interface InbatchAucLossOptions {
  /** Scales the gradient that reaches negatives; in (0, 1] (default 1). */
  negWeight?: number;
}

type Values = ArrayLike<number>;

function positivesAndNegatives(label: Values): { pos: number[]; neg: number[] } {
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < label.length; i++) {
    // As Monolith's kernel: label > 0 is positive; labels <= -10000 take no part.
    if (label[i]! > 0) pos.push(i);
    else if (label[i]! > -10000) neg.push(i);
  }
  return { pos, neg };
}

function check(label: Values, logit: Values, negWeight: number): void {
  if (!(negWeight > 0 && negWeight <= 1)) throw new ConfigError(`inbatch_auc_loss: neg_weight must be in (0, 1], got ${negWeight}`);
  if (label.length !== logit.length) throw new ConfigError(`the label and logit not match: ${label.length} labels, ${logit.length} logits`);
}

/** The loss value of Monolith's InbatchAucLoss kernel: sum over (pos, neg) pairs of log sigmoid(logit_pos - logit_neg). */
export function inbatchAucLossValue(label: Values, logit: Values): number {
  const { pos, neg } = positivesAndNegatives(label);
  let loss = 0;
  for (const i of pos) {
    for (const j of neg) {
      const diff = Math.fround(logit[i]! - logit[j]!);
      // The kernel accumulates in float32.
      if (diff > -87 && diff < 88) loss = Math.fround(loss + (diff - Math.log(1 + Math.exp(diff))));
      else if (diff <= -87) loss = Math.fround(loss + diff);
    }
  }
  return loss;
}

/**
 * Monolith's InbatchAucLossGrad kernel: d loss / d logit times `grad`; each
 * pair adds g = 1 - sigmoid(diff) to the positive and -neg_weight * g to the negative.
 */
export function inbatchAucLossGrad(label: Values, logit: Values, grad: number, negWeight = 1): Float32Array {
  check(label, logit, negWeight);
  const { pos, neg } = positivesAndNegatives(label);
  const out = new Float32Array(logit.length);
  for (const i of pos) {
    for (const j of neg) {
      const diff = Math.fround(logit[i]! - logit[j]!);
      const g = diff > -87 && diff < 88 ? 1 - 1 / (1 + Math.exp(-diff)) : diff <= -87 ? 1 : 0;
      out[i] += g;
      out[j] -= negWeight * g;
    }
  }
  if (grad !== 1) for (let k = 0; k < out.length; k++) out[k] *= grad;
  return out;
}

/**
 * `inbatch_auc_loss`: a differentiable scalar (custom gradient, as Monolith
 * registers for its op). The labels get no gradient.
 */
export function inbatchAucLoss(label: Tensor | ArrayLike<number>, logit: Tensor, opts: InbatchAucLossOptions = {}): Scalar {
  const negWeight = opts.negWeight ?? 1;
  const labels = label instanceof tf.Tensor ? (label.dataSync() as Float32Array) : Float32Array.from(label);
  check(labels, { length: logit.size }, negWeight);
  const f = tf.customGrad((...args: (Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as Tensor;
    (args[1] as tf.GradSaveFunc)([x]);
    return {
      value: tf.scalar(inbatchAucLossValue(labels, x.dataSync() as Float32Array)),
      gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
        const g = inbatchAucLossGrad(labels, saved[0]!.dataSync() as Float32Array, ((dy as Tensor).dataSync() as Float32Array)[0]!, negWeight);
        return tf.tensor(g, saved[0]!.shape);
      },
    };
  });
  return f(logit) as Scalar;
}
