import * as tf from '@tensorflow/tfjs-core';
import { layers, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { Batch } from '../../batch/batch.js';
import { labelColumn } from '../default-loss.js';
import { FeatureColumn, type FeatureSlot } from '../feature-slot.js';
import { FfmDot, ReduceSum } from '../layers/embedding-layers.js';
import type { Mode } from '../mode.js';
import type { LossInputs, ModelSpec } from '../model-spec.js';
import { MonolithModel, type ModelFnOutput } from '../monolith-model.js';
import { monolithModelParams, withOverrides, type MonolithModelParams, type ParamsOverrides } from '../params.js';
import type { ServingInputReceiver } from '../serving-input.js';
import { LEARNING_DEFAULTS } from './learning-defaults.js';
import { ffmBatches, ffmFidSlot, FFM_NUM_SLOTS, parseFfmExamples, slotToKey } from './ffm-examples.js';

/** (user slot, item slot, dim) of each FFM dot product (Monolith's _FFM_SLOT). */
export const FFM_SLOT: readonly (readonly [number, number, number])[] = [
  [0, 3, 16],
  [0, 4, 16],
  [1, 5, 16],
  [2, 3, 16],
  [2, 5, 16],
];

/** Slots with a bias: `i <= NUM_SLOTS // 2` in Monolith (slots 0..3). */
export const ffmHasBias = (i: number): boolean => i <= Math.floor(FFM_NUM_SLOTS / 2);

const EPSILON = 1e-7;

/** Keras' binary_crossentropy on probabilities (clipped to [ε, 1 − ε]), averaged over the rows. */
export function binaryCrossentropy(labels: tf.Tensor, probs: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const p = tf.clipByValue(probs, EPSILON, 1 - EPSILON);
    const ll = tf.add(tf.mul(labels, tf.log(tf.add(p, EPSILON))), tf.mul(tf.sub(1, labels), tf.log(tf.add(tf.sub(1, p), EPSILON))));
    return tf.neg(tf.mean(ll)) as tf.Scalar;
  });
}

/**
 * Monolith's TestFFMModel: six slots of vocabulary 5; bias on slots 0..3; one
 * 16-wide slice per side of each FFM pair; logit = Σ ⟨user_vec, item_vec⟩ +
 * Σ bias; pred = sigmoid; loss = binary cross-entropy of the prediction.
 * Optimizers and initializer are LEARNING_DEFAULTS (regularized FTRL biases —
 * `biasOptimizerWithoutWarmStart`, as the model has no output bias to warm-start —,
 * Adagrad slices from small vectors), not Monolith's FTRL 0.1 / SGD 0.1,
 * which give every new id a full step and do not learn on large vocabularies.
 */
export class TestFFMModel extends MonolithModel {
  constructor(params?: ParamsOverrides<MonolithModelParams>) {
    super(withOverrides(monolithModelParams(), { name: 'test_ffm', train: { perReplicaBatchSize: 64 }, ...params }));
  }

  override modelFn(_mode: Mode): ModelFnOutput {
    const slots: FeatureSlot[] = [];
    const fcs: FeatureColumn[] = [];
    const biases: SymbolicTensor[] = [];
    for (let i = 0; i < FFM_NUM_SLOTS; i++) {
      const slot = this.ctx.createFeatureSlot({
        name: String(i),
        slotId: ffmFidSlot(i),
        hasBias: ffmHasBias(i),
        biasOptimizer: LEARNING_DEFAULTS.biasOptimizerWithoutWarmStart,
        biasVocabularyRegularization: LEARNING_DEFAULTS.biasVocabularyRegularization,
        defaultVecOptimizer: LEARNING_DEFAULTS.vecOptimizer,
        defaultVecInitializer: LEARNING_DEFAULTS.vecInitializer,
      });
      slots.push(slot);
      fcs.push(new FeatureColumn(slot, slotToKey(i)));
      if (ffmHasBias(i)) biases.push(fcs[i]!.embeddingLookup(slot.getBiasSlice()));
    }
    const biasInput = layers.concatenate({ axis: 1 }).apply(biases) as SymbolicTensor;
    const sumBias = new ReduceSum({ axis: 1 }).apply(biasInput) as SymbolicTensor;
    const pairs: SymbolicTensor[] = [];
    for (const [user, item, dim] of FFM_SLOT) {
      pairs.push(fcs[user]!.embeddingLookup(slots[user]!.addFeatureSlice(dim)));
      pairs.push(fcs[item]!.embeddingLookup(slots[item]!.addFeatureSlice(dim)));
    }
    const dots = new FfmDot({}).apply(pairs) as SymbolicTensor;
    const logit = layers.add().apply([dots, sumBias]) as SymbolicTensor;
    return {
      heads: [{ name: 'ctr_head', logit }],
      denseOptimizer: LEARNING_DEFAULTS.denseOptimizer,
      loss: ({ logits, labels }: LossInputs) => binaryCrossentropy(labelColumn(labels, 0), tf.sigmoid(tf.reshape(logits[0]!, [-1]))),
    };
  }

  override inputFn(_mode: Mode): Iterable<Batch> {
    return ffmBatches({ seed: 0, batchSize: this.p.train.perReplicaBatchSize ?? 64 });
  }

  /** Serialized tf.Examples in `instances` → the label and the six ragged slot features. */
  override createServingInputReceiverFn(): () => ServingInputReceiver<{ instances: Uint8Array[] }> {
    return () => ({
      receiverTensors: { instances: { dtype: 'string', shape: [null] } },
      features: {
        label: { dtype: 'float32', shape: [null] },
        ...Object.fromEntries(Array.from({ length: FFM_NUM_SLOTS }, (_, i) => [slotToKey(i), { dtype: 'int64' as const, ragged: true }])),
      },
      parse: ({ instances }) => parseFfmExamples(instances),
    });
  }
}

/** ModelModule entry: `createModel({})` → the FFM ModelSpec (options override params). */
export function createModel(options: Record<string, unknown> = {}): ModelSpec {
  return new TestFFMModel(options as ParamsOverrides<MonolithModelParams>).toModelSpec();
}
