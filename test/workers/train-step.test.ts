import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Batch } from '../../src/batch/batch.js';
import type { ModelSpec } from '../../src/model/model-spec.js';
import { initBackend } from '../../src/workers/tf-backend.js';
import { createModelTables } from '../../src/workers/model-tables.js';
import { createSharedDenseParams, TrainStep } from '../../src/workers/train-step.js';
import { defaultLoss } from '../../src/model/default-loss.js';

test.before(async () => {
  await initBackend('cpu');
});

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** One feature (dim 2, `combiner`) into a bias-free linear logit with kernel [0.5, -1]; SGD everywhere. */
function linearSpec(combiner: 'reduce_sum' | 'reduce_mean'): ModelSpec {
  const entry = { segments: [{ dimSize: 2, optConfig: { sgd: { learningRate: 0.5 } }, initConfig: { constants: { constant: 0.25 } }, compConfig: { fp32: {} } }] };
  return {
    name: 'linear',
    features: [{ name: 'f', slot: 1, dim: 2, combiner, table: 't' }],
    tables: { t: { entry } },
    denseInputs: [],
    heads: [{ name: 'ctr', kind: 'classification', labelIndex: 0 }],
    denseOptimizer: { name: 'sgd', learningRate: 0.1 },
    buildDense() {
      const x = tfl.input({ shape: [2] });
      const y = tfl.layers.dense({ units: 1, useBias: false, kernelInitializer: tfl.initializers.constant({ value: 0 }) }).apply(x) as tfl.SymbolicTensor;
      const m = tfl.model({ inputs: x, outputs: y });
      m.setWeights([tf.tensor2d([[0.5], [-1]])]);
      return m;
    },
  };
}

// Row 0: ids 7, 7, 9; row 1: id 9. Labels 1, 0.
const batch = (): Batch => ({
  rows: 2,
  sparse: [{ name: 'f', slot: 1, fids: Uint32Array.from([7, 65536, 7, 65536, 9, 65536, 9, 65536]), rowSplits: Int32Array.from([0, 3, 4]) }],
  dense: [],
  labels: Float32Array.from([1, 0]),
  labelWidth: 1,
  lineId: [],
});

for (const combiner of ['reduce_sum', 'reduce_mean'] as const) {
  test(`one train step (${combiner}) matches hand-computed loss, predictions and updates`, (t) => {
    const spec = linearSpec(combiner);
    const tables = createModelTables(spec);
    const dense = createSharedDenseParams(spec);
    const step = new TrainStep({ spec, tables, dense });
    const k = [0.5, -1];
    const e = [0.25, 0.25];
    const counts = [3, 1];
    const scale = (n: number) => (combiner === 'reduce_mean' ? 1 / n : 1);
    // pooled rows: row0 = 3e (sum) or e (mean); row1 = e.
    const pooled = counts.map((n) => e.map((v) => v * n * scale(n)));
    const logits = pooled.map((p) => p[0]! * k[0]! + p[1]! * k[1]!);
    const labels = [1, 0];
    const expLoss = logits.reduce((a, x, r) => a + (Math.max(x, 0) - x * labels[r]! + Math.log1p(Math.exp(-Math.abs(x)))), 0) / 2;
    const dLogit = logits.map((x, r) => (sigmoid(x) - labels[r]!) / 2);
    const res = step.run(batch(), 'train');
    t.true(Math.abs(res.loss! - expLoss) < 1e-6);
    t.deepEqual(Array.from(res.predictions!.ctr!).map((p) => +p.toFixed(6)), logits.map((x) => +sigmoid(x).toFixed(6)));
    t.is(res.step, 1);
    t.is(dense.globalStep, 1);
    // id 7 appears twice in row 0 (its gradients are summed), id 9 once in each row.
    const gRow = (r: number) => k.map((kv) => dLogit[r]! * kv * scale(counts[r]!));
    const g7 = gRow(0).map((v) => 2 * v);
    const g9 = gRow(0).map((v, j) => v + gRow(1)[j]!);
    const got = tables.t!.lookupOnly([65536n << 32n | 7n, 65536n << 32n | 9n]);
    const exp = [...g7.map((g) => 0.25 - 0.5 * g), ...g9.map((g) => 0.25 - 0.5 * g)];
    for (let i = 0; i < 4; i++) t.true(Math.abs(got[i]! - exp[i]!) < 1e-6, `embedding ${i}: ${got[i]} vs ${exp[i]}`);
    // dense kernel: dk_j = sum_r dLogit_r * pooled_r[j]
    const dk = k.map((_, j) => dLogit[0]! * pooled[0]![j]! + dLogit[1]! * pooled[1]![j]!);
    const w = dense.weights[0]!;
    for (let j = 0; j < 2; j++) t.true(Math.abs(w[j]! - (k[j]! - 0.1 * dk[j]!)) < 1e-6);
    t.true(res.timings!.lookup! >= 0 && res.timings!.dense! >= 0 && res.timings!.apply! >= 0);
  });
}

test('eval and predict never insert into the tables nor change weights', (t) => {
  const spec = linearSpec('reduce_sum');
  const tables = createModelTables(spec);
  const dense = createSharedDenseParams(spec);
  const step = new TrainStep({ spec, tables, dense });
  const before = Array.from(dense.flatState);
  const ev = step.run(batch(), 'eval', { batchIndex: 4 });
  t.is(ev.step, 4);
  t.true(ev.loss! > 0);
  // Unknown ids look up as zeros: logit 0, prediction 0.5.
  t.deepEqual(Array.from(ev.predictions!.ctr!), [0.5, 0.5]);
  const pr = step.run(batch(), 'predict');
  t.is(pr.loss, undefined);
  t.is(tables.t!.size, 0);
  t.deepEqual(Array.from(dense.flatState), before);
  t.is(dense.globalStep, 0);
});

test('default loss: weighted mean sigmoid cross-entropy plus MSE, summed over heads', (t) => {
  const v = tf.tidy(() =>
    defaultLoss(
      [{ name: 'a', kind: 'classification', labelIndex: 0 }, { name: 'b', kind: 'regression', labelIndex: 1 }],
      { logits: [tf.tensor2d([[0], [2]]), tf.tensor2d([[1], [3]])], labels: tf.tensor2d([[1, 0], [0, 1]]), weights: tf.tensor1d([1, 0.5]) },
    ).dataSync()[0]!,
  );
  const ce = (x: number, z: number) => Math.max(x, 0) - x * z + Math.log1p(Math.exp(-Math.abs(x)));
  const exp = (ce(0, 1) * 1 + ce(2, 0) * 0.5) / 2 + ((1 - 0) ** 2 * 1 + (3 - 1) ** 2 * 0.5) / 2;
  t.true(Math.abs(v - exp) < 1e-6);
});

test('a feature whose table dim differs is a ConfigError naming both', (t) => {
  const spec = linearSpec('reduce_sum');
  spec.features[0]!.dim = 3;
  const tables = createModelTables(linearSpec('reduce_sum'));
  const err = t.throws(() => new TrainStep({ spec, tables, dense: createSharedDenseParams(linearSpec('reduce_sum')) }));
  t.regex(err!.message, /feature f has dim 3, its table t has entries of dim 2/);
});
