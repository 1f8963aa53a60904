/**
 * The dense compute of a model alone: forward + backward of its LayersModel on
 * one batch with the model's own loss, gradients for the weights and for the
 * pooled embedding inputs (as a training step needs them), no tables, no
 * pipeline, no weight copies. The baseline the pipeline benchmark divides by.
 */
import * as tf from '@tensorflow/tfjs-core';
import { defaultLoss } from '../src/model/default-loss.js';
import { outputDim, type ModelSpec } from '../src/model/model-spec.js';
import { Rng } from '../src/util/random.js';

/** A function running one forward + backward step of `spec`'s dense model on `rows` rows (reads the gradients back, as a step does). */
export function denseStepOf(spec: ModelSpec, rows: number, seed = 3): () => void {
  const model = spec.buildDense();
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const rng = new Rng(seed);
  const rand = (n: number) => Float32Array.from({ length: n }, () => rng.uniform(-0.1, 0.1));
  const pooled = spec.features.map((f) => tf.variable(tf.tensor2d(rand(rows * outputDim(f)), [rows, outputDim(f)]), true));
  const dense = spec.denseInputs.map((d) => tf.tensor2d(rand(rows * d.width), [rows, d.width]));
  const labels = tf.tensor2d(Float32Array.from({ length: rows * spec.heads.length }, () => (rng.float() < 0.2 ? 1 : 0)), [rows, spec.heads.length]);
  const inputs = [...pooled, ...dense];
  return () => {
    const { value, grads } = tf.variableGrads(() => {
      const out = model.apply(inputs.length === 1 ? inputs[0]! : inputs, { training: true }) as tf.Tensor | tf.Tensor[];
      const logits = Array.isArray(out) ? out : [out];
      return spec.loss ? spec.loss({ logits, labels }) : defaultLoss(spec.heads, { logits, labels }, spec.lossReduction);
    }, [...vars, ...pooled]);
    value.dataSync();
    for (const g of Object.values(grads)) g.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  };
}
