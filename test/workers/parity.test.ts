import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import type { Batch } from '../../src/batch/batch.js';
import { Rng } from '../../src/util/random.js';
import { initBackend } from '../../src/workers/tf-backend.js';
import { createModelTables } from '../../src/workers/model-tables.js';
import { createSharedDenseParams, TrainStep } from '../../src/workers/train-step.js';
import { defaultLoss } from '../../src/model/default-loss.js';
import { createModel } from './fixtures/tiny-model.js';
import { tinyBatch } from './fixtures/tiny-batches.js';

/**
 * Issue 5 item 7, in the spirit of Monolith's model_comp_test: the same model
 * trained (a) through the hash tables by TrainStep and (b) by plain tfjs with
 * dense embedding variables, gather + segment sum and autodiff through them,
 * both with SGD, from the same initial values: after N steps the embeddings,
 * the dense weights and every step's loss agree within 1e-5.
 */
test.before(async () => {
  await initBackend('cpu');
});

const VOCAB = 30;
const STEPS = 25;
const SPARSE_LR = 0.1;
const DENSE_LR = 0.05;

const fidOf = (slot: number, id: number) => (BigInt(slot) << 48n) | BigInt(id);

for (const combiners of [['reduce_sum', 'reduce_mean'], ['reduce_sum', 'first_n']] as const) {
  test(`hash-table training equals dense tfjs embeddings + segment sum (${combiners.join(', ')})`, (t) => {
    const opts = { seed: 3, dim: 4, hidden: 6, combiners: [...combiners], maxSeqLength: 2, sparseLr: SPARSE_LR, denseLr: DENSE_LR, denseOptimizer: 'sgd' as const, tableInit: 'uniform' as const };
    const spec = createModel(opts);
    const tables = createModelTables(spec);
    const dense = createSharedDenseParams(spec);
    const step = new TrainStep({ spec, tables, dense });

    // Reference: one [VOCAB, dim] variable per feature (each feature has its own slot), initialised
    // with the values the tables' initializer gives those ids (it depends only on seed and id).
    const refTables = createModelTables(spec);
    const embVars = spec.features.map((f) => {
      const ids = Array.from({ length: VOCAB }, (_, i) => fidOf(f.slot, i));
      return tf.variable(tf.tensor2d(refTables[f.table]!.lookup(ids), [VOCAB, f.dim]));
    });
    const refModel = spec.buildDense();
    refModel.setWeights(dense.weights.map((w, i) => tf.tensor(w.slice(), dense.params[i]!.shape)));
    const denseVars = refModel.trainableWeights.map((w) => w.read() as tf.Variable);
    const sgd = tf.train.sgd(1); // learning rates applied by hand per group

    const refPooled = (f: (typeof spec.features)[number], v: tf.Variable, b: Batch): tf.Tensor => {
      const col = b.sparse.find((c) => c.slot === f.slot)!;
      const n = col.rowSplits[b.rows]!;
      const idx = Int32Array.from({ length: n }, (_, i) => col.fids[2 * i]!);
      const seg = new Int32Array(n);
      for (let r = 0; r < b.rows; r++) for (let i = col.rowSplits[r]!; i < col.rowSplits[r + 1]!; i++) seg[i] = r;
      if (f.combiner === 'first_n') {
        const L = f.maxSeqLength!;
        const pos = new Int32Array(b.rows * L);
        const mask = new Float32Array(b.rows * L);
        for (let r = 0; r < b.rows; r++) {
          for (let k = 0; k < L && col.rowSplits[r]! + k < col.rowSplits[r + 1]!; k++) {
            pos[r * L + k] = idx[col.rowSplits[r]! + k]!;
            mask[r * L + k] = 1;
          }
        }
        const g = tf.mul(tf.gather(v, tf.tensor1d(pos, 'int32')), tf.tensor2d(mask, [b.rows * L, 1]));
        return tf.reshape(g, [b.rows, L * f.dim]);
      }
      const summed = tf.unsortedSegmentSum(tf.gather(v, tf.tensor1d(idx, 'int32')), tf.tensor1d(seg, 'int32'), b.rows);
      if (f.combiner === 'reduce_sum') return summed;
      const counts = Float32Array.from({ length: b.rows }, (_, r) => Math.max(1, col.rowSplits[r + 1]! - col.rowSplits[r]!));
      return tf.div(summed, tf.tensor2d(counts, [b.rows, 1]));
    };

    const rng = new Rng(17);
    let maxLossDiff = 0;
    for (let s = 0; s < STEPS; s++) {
      const b = tinyBatch(rng, 16, { features: 2, vocab: VOCAB, maxLen: 4 });
      const got = step.run(b, 'train');
      const { value, grads } = tf.variableGrads(() => {
        const inputs = [...spec.features.map((f, k) => refPooled(f, embVars[k]!, b)), tf.tensor2d(b.dense[0]!.values, [b.rows, 2])];
        const logits = refModel.apply(inputs, { training: true }) as tf.Tensor;
        return defaultLoss(spec.heads, { logits: [logits], labels: tf.tensor2d(b.labels, [b.rows, 1]) });
      }, [...embVars, ...denseVars]);
      const scaled: Record<string, tf.Tensor> = {};
      for (const v of embVars) scaled[v.name] = tf.mul(grads[v.name]!, SPARSE_LR);
      for (const v of denseVars) scaled[v.name] = tf.mul(grads[v.name]!, DENSE_LR);
      sgd.applyGradients(scaled);
      maxLossDiff = Math.max(maxLossDiff, Math.abs(value.dataSync()[0]! - got.loss!));
      tf.dispose([value, ...Object.values(grads), ...Object.values(scaled)]);
    }
    t.true(maxLossDiff < 1e-5, `max loss difference ${maxLossDiff}`);

    let maxEmbDiff = 0;
    let compared = 0;
    spec.features.forEach((f, k) => {
      const ids = Array.from({ length: VOCAB }, (_, i) => fidOf(f.slot, i));
      const mine = tables[f.table]!.lookupOnly(ids);
      const ref = embVars[k]!.dataSync();
      for (let i = 0; i < VOCAB; i++) {
        const row = mine.slice(i * f.dim, (i + 1) * f.dim);
        // An id the tables never saw (lookupOnly gives zeros) has no entry to compare.
        if (row.every((x) => x === 0)) continue;
        compared++;
        for (let j = 0; j < f.dim; j++) maxEmbDiff = Math.max(maxEmbDiff, Math.abs(row[j]! - ref[i * f.dim + j]!));
      }
    });
    t.true(compared > VOCAB, `compared ${compared} entries`);
    t.true(maxEmbDiff < 1e-5, `max embedding difference ${maxEmbDiff}`);
    // The embeddings did move: the comparison is not between two untouched tables.
    const moved = spec.features.some((f, k) => {
      const init = refTables[f.table]!.lookupOnly(Array.from({ length: VOCAB }, (_, i) => fidOf(f.slot, i)));
      const ref = embVars[k]!.dataSync();
      return init.some((x, i) => Math.abs(x - ref[i]!) > 1e-3);
    });
    t.true(moved);

    let maxDenseDiff = 0;
    denseVars.forEach((v, i) => {
      const ref = v.dataSync();
      const mine = dense.weights[i]!;
      for (let j = 0; j < ref.length; j++) maxDenseDiff = Math.max(maxDenseDiff, Math.abs(ref[j]! - mine[j]!));
    });
    t.true(maxDenseDiff < 1e-5, `max dense difference ${maxDenseDiff}`);
    t.is(dense.globalStep, STEPS);
  });
}
