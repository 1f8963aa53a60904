import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import type { Batch, SparseColumn } from '../../src/batch/batch.js';
import { defaultLoss } from '../../src/model/default-loss.js';
import type { ModelModule, ModelSpec } from '../../src/model/model-spec.js';
import { SyntheticCtr } from '../../src/streams/sources/synthetic-ctr.js';
import { DeepFMModel } from '../../src/model/models/deepfm.js';
import { ffmBatches, generateFfmExample, parseFfmExamples } from '../../src/model/models/ffm-examples.js';
import { TestFFMModel } from '../../src/model/models/test-ffm-model.js';
import { LEARNING_DEFAULTS } from '../../src/model/models/learning-defaults.js';
import { tensorflow } from '../../src/proto.js';
import { Rng } from '../../src/util/random.js';
import { useCpu } from './tf-setup.js';

test.before(useCpu);

test('TestFFMModel: six features, bias (FTRL) on slots 0..3, one 16-wide slice per FFM pair side, LEARNING_DEFAULTS optimizers', (t) => {
  const spec = new TestFFMModel().toModelSpec();
  t.deepEqual(spec.features.map((f) => [f.name, f.slot, f.dim, f.table]), [
    ['feature_0', 1, 33, '0'],
    ['feature_1', 2, 17, '1'],
    ['feature_2', 3, 33, '2'],
    ['feature_3', 4, 33, '3'],
    ['feature_4', 5, 16, '4'],
    ['feature_5', 6, 32, '5'],
  ]);
  const t3 = spec.tables['3']!.entry.segments;
  t.deepEqual(t3[0], { dimSize: 1, initConfig: { zeros: {} }, optConfig: LEARNING_DEFAULTS.biasOptimizerWithoutWarmStart, compConfig: { fp32: {} }, vocabularyRegularization: LEARNING_DEFAULTS.biasVocabularyRegularization });
  t.deepEqual(t3.slice(1).map((s) => [s.dimSize, s.optConfig, s.initConfig]), [
    [16, LEARNING_DEFAULTS.vecOptimizer, LEARNING_DEFAULTS.vecInitializer],
    [16, LEARNING_DEFAULTS.vecOptimizer, LEARNING_DEFAULTS.vecInitializer],
  ]);
  t.is(spec.tables['4']!.entry.segments.length, 1, 'slot 4 has no bias');
  t.deepEqual(spec.heads, [{ name: 'ctr_head', kind: 'classification', labelIndex: 0 }]);
  t.is(new TestFFMModel().batchSize, 64);
});

test('FFM examples: seeded tf.Examples with ids of each slot in its own range, parsed to a Batch', (t) => {
  const a = generateFfmExample(new Rng(3));
  t.deepEqual(a, generateFfmExample(new Rng(3)));
  const ex = tensorflow.Example.decode(a);
  const f = ex.features!.feature!;
  t.true([0, 1].includes(f['label']!.floatList!.value![0]!));
  for (let i = 0; i < 6; i++) {
    const ids = f[`feature_${i}`]!.int64List!.value!.map(Number);
    t.true(ids.length >= 1 && ids.length <= 5);
    t.true(ids.every((id) => id >= 5 * i && id < 5 * i + 5));
  }
  const b = parseFfmExamples([a, generateFfmExample(new Rng(4))]);
  t.is(b.rows, 2);
  const c2 = b.sparse[2]!;
  t.is(c2.slot, 3);
  t.is(c2.fids[1]! >>> 16, 3, 'fid v2: slot in the high bits');
  t.deepEqual(Array.from({ length: c2.rowSplits[1]! }, (_, k) => c2.fids[2 * k]!), f['feature_2']!.int64List!.value!.map(Number));
  const receiver = new TestFFMModel().createServingInputReceiverFn()();
  t.deepEqual(receiver.receiverTensors, { instances: { dtype: 'string', shape: [null] } });
  t.deepEqual(receiver.features['feature_5'], { dtype: 'int64', ragged: true });
  t.deepEqual(receiver.parse({ instances: [a] }).sparse[0]!.fids, parseFfmExamples([a]).sparse[0]!.fids);
  const batches = [...ffmBatches({ batchSize: 24, epochs: 2 })];
  t.deepEqual(batches.map((x) => x.rows), [24, 24, 24, 24], '64 examples, remainder dropped, repeated');
  t.throws(() => parseFfmExamples([Uint8Array.from([0xff])]));
});

/** Dense [rows, vocab] id counts of one column: counts · table = the reduce_sum pooled embeddings. */
function countMatrix(col: SparseColumn, rows: number, offset: number, vocab: number): tf.Tensor2D {
  const m = new Float32Array(rows * vocab);
  for (let r = 0; r < rows; r++) for (let i = col.rowSplits[r]!; i < col.rowSplits[r + 1]!; i++) m[r * vocab + col.fids[2 * i]! - offset]++;
  return tf.tensor2d(m, [rows, vocab]);
}

/**
 * The runtime's step in miniature: pooled embeddings from fixed random
 * tables (as tf variables), the dense model, the spec's loss, SGD/Adam on
 * both. Returns the loss of each step.
 */
function train(spec: ModelSpec, batches: Batch[], vocab: (f: number) => [number, number], steps: number, lr: number): number[] {
  const dense = spec.buildDense();
  const tables = spec.features.map((f, k) => tf.variable(tf.randomUniform([vocab(k)[1], f.dim], -0.05, 0.05, 'float32', 11 + k)));
  const inputs = batches.map((b) => ({
    counts: spec.features.map((f, k) => countMatrix(b.sparse.find((c) => c.name === f.name || c.slot === f.slot)!, b.rows, vocab(k)[0], vocab(k)[1])),
    dense: spec.denseInputs.map((d) => tf.tensor2d(b.dense.find((c) => c.name === d.name)!.values, [b.rows, d.width])),
    labels: tf.tensor2d(b.labels, [b.rows, b.labelWidth]),
  }));
  const opt = tf.train.adam(lr);
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const x = inputs[s % inputs.length]!;
    const cost = opt.minimize(() => {
      const pooled = x.counts.map((c, k) => tf.matMul(c, tables[k]!));
      const out = dense.apply([...pooled, ...x.dense]) as tf.Tensor | tf.Tensor[];
      const logits = Array.isArray(out) ? out : [out];
      return spec.loss ? spec.loss({ logits, labels: x.labels }) : defaultLoss(spec.heads, { logits, labels: x.labels });
    }, true, [...tables, ...(dense.trainableWeights.map((w) => w.read()) as tf.Variable[])]);
    losses.push(cost!.dataSync()[0]!);
    cost!.dispose();
  }
  return losses;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

test('TestFFMModel trains: the binary cross-entropy falls', (t) => {
  const spec = new TestFFMModel().toModelSpec();
  const batches = [...ffmBatches({ batchSize: 32, epochs: 1, seed: 5 })];
  const losses = train(spec, batches, (k) => [5 * k, 5], 40, 0.05);
  t.log(mean(losses.slice(0, 10)), mean(losses.slice(-10)));
  t.true(mean(losses.slice(-10)) < 0.8 * mean(losses.slice(0, 10)), `${mean(losses.slice(0, 10))} → ${mean(losses.slice(-10))}`);
});

test('DeepFM trains on planted-signal CTR data: the loss falls', (t) => {
  const spec = new DeepFMModel({ sparseSlots: 4, denseFeatures: 3, embeddingDim: 4, hidden: [16], seed: 1 }).toModelSpec();
  const gen = new SyntheticCtr({ sparseSlots: 4, vocabSize: 20, denseFeatures: 3, seed: 2, idWeightScale: 1 });
  const batches = Array.from({ length: 4 }, () => gen.nextBatch(64));
  const losses = train(spec, batches, () => [0, 21], 60, 0.02); // ranks 1..20
  t.log(mean(losses.slice(0, 8)), mean(losses.slice(-8)));
  t.true(mean(losses.slice(-8)) < 0.8 * mean(losses.slice(0, 8)), `${mean(losses.slice(0, 8))} → ${mean(losses.slice(-8))}`);
});

test('DeepFM defaults: 26 sparse slots and 13 dense features; both models load as ModelModules by URL', async (t) => {
  const spec = new DeepFMModel().toModelSpec();
  t.is(spec.features.length, 26);
  t.deepEqual(spec.features[25], { name: 'fc_slot_26', slot: 26, dim: 9, combiner: 'reduce_sum', table: 'fc_slot_26' });
  t.deepEqual(spec.denseInputs, [{ name: 'dense', width: 13 }]);
  t.is(spec.buildDense().inputs.length, 27);
  const deepfm = (await import(new URL('../../src/model/models/deepfm.js', import.meta.url).href)) as ModelModule;
  const small = await deepfm.createModel({ sparseSlots: 2, denseFeatures: 0, hidden: [4] });
  t.deepEqual(small.features.map((f) => f.name), ['fc_slot_1', 'fc_slot_2']);
  t.deepEqual(small.denseInputs, []);
  const ffm = (await import(new URL('../../src/model/models/test-ffm-model.js', import.meta.url).href)) as ModelModule;
  t.is((await ffm.createModel({})).features.length, 6);
});
