import test from 'ava';
import { layers, initializers, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { Batch } from '../../src/batch/batch.js';
import type { MonolithModelParams, ParamsOverrides } from '../../src/model/params.js';
import { createModelTables } from '../../src/workers/model-tables.js';
import { createSharedDenseParams, TrainStep } from '../../src/workers/train-step.js';
import { FnModel } from './helpers.js';
import { useCpu } from './tf-setup.js';

test.before(useCpu);

const LR = 0.1;

/** Slot 1 (dim 2) into a seeded dense(1); SGD on the dense part, so an update is −lr·g. */
const model = (params: ParamsOverrides<MonolithModelParams>) =>
  new FnModel((m) => {
    m.createEmbeddingFeatureColumn(1);
    const e = m.lookupEmbeddingSlice([1], 'vec', { sliceDim: 2 }) as SymbolicTensor[];
    const logit = layers.dense({ units: 1, kernelInitializer: initializers.constant({ value: 0.7 }), biasInitializer: initializers.constant({ value: 0.2 }) }).apply(e[0]!) as SymbolicTensor;
    return { heads: [{ name: 'ctr', logit }], denseOptimizer: { name: 'sgd', learningRate: LR } };
  }, params);

const batch = (): Batch => ({
  rows: 3,
  sparse: [{ name: 'slot_1', slot: 1, fids: Uint32Array.from([1, 65536, 2, 65536, 3, 65536]), rowSplits: Int32Array.from([0, 1, 2, 3]) }],
  dense: [],
  labels: Float32Array.from([1, 0, 1]),
  labelWidth: 1,
  lineId: [],
});
const IDS = [1n, 2n, 3n].map((id) => (65536n << 32n) | id);

/** One TRAIN step of the model built from `params`: the dense update (w0 − w1) and the embeddings after. */
function oneStep(params: ParamsOverrides<MonolithModelParams>) {
  const spec = model(params).toModelSpec();
  const tables = createModelTables(spec);
  const dense = createSharedDenseParams(spec);
  const w0 = Float32Array.from(dense.flatWeights);
  new TrainStep({ spec, tables, dense }).run(batch(), 'train');
  const table = Object.values(tables)[0]!;
  return { w0, update: Array.from(dense.flatWeights, (v, i) => w0[i]! - v), emb: Array.from(table.lookupOnly(IDS)) };
}
const norm = (a: number[]) => Math.sqrt(a.reduce((s, v) => s + v * v, 0));

test('params.clip_norm clips the step: a tiny clip norm leaves a tiny update', (t) => {
  const free = oneStep({});
  const clipped = oneStep({ clipNorm: 1e-4 });
  t.true(norm(free.update) > 1e-3, `default update ${norm(free.update)}`);
  t.true(norm(clipped.update) <= LR * 1e-4 + 1e-9, `clipped update ${norm(clipped.update)}`);
});

test('params.dense_weight_decay adds lr · decay · w to the dense update', (t) => {
  const free = oneStep({});
  const decayed = oneStep({ denseWeightDecay: 0.5 });
  free.update.forEach((u, i) => t.true(Math.abs(decayed.update[i]! - (u + LR * 0.5 * free.w0[i]!)) < 1e-6, `weight ${i}`));
});

test('params.sparse_norm_warmup_steps: the first step leaves the embeddings as initialised', (t) => {
  const free = oneStep({});
  const warm = oneStep({ sparseNormWarmupSteps: 10 });
  const fresh = oneStep({ sparseNormWarmupSteps: 10, clipNorm: 0 }); // no clipping at all: the embeddings move
  t.notDeepEqual(free.emb, warm.emb);
  t.deepEqual(fresh.emb, free.emb);
  t.true(warm.update.some((u) => u !== 0), 'the dense part still trains');
});
