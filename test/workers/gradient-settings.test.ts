import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { createModelTables, createSharedDenseParams, nn, polynomialDecay, train, TrainStep, type Batch, type ModelSpec } from 'monolith-ts';
import { initBackend } from '../../src/workers/tf-backend.js';
import { Rng } from '../../src/util/random.js';
import { tinyBatch } from './fixtures/tiny-batches.js';

test.before(async () => {
  await initBackend('cpu');
});

const DENSE_LR = 0.1;
const TABLE_LR = 0.5;
const IDS = [7n, 9n, 11n].map((id) => (65536n << 32n) | id);

/** One feature (dim 2, reduce_sum) and a dense input into a bias-free linear logit; SGD everywhere, so an update is −lr·g. */
function spec(extra: Partial<ModelSpec> = {}): ModelSpec {
  const entry = { segments: [{ dimSize: 2, optConfig: { sgd: { learningRate: TABLE_LR } }, initConfig: { constants: { constant: 0.25 } }, compConfig: { fp32: {} } }] };
  return {
    name: 'linear',
    features: [{ name: 'f', slot: 1, dim: 2, combiner: 'reduce_sum', table: 't' }],
    tables: { t: { entry } },
    denseInputs: [{ name: 'd', width: 2 }],
    heads: [{ name: 'ctr', kind: 'classification', labelIndex: 0 }],
    denseOptimizer: { name: 'sgd', learningRate: DENSE_LR },
    buildDense() {
      const e = tfl.input({ shape: [2] });
      const d = tfl.input({ shape: [2] });
      const x = tfl.layers.concatenate().apply([e, d]) as tfl.SymbolicTensor;
      const y = tfl.layers.dense({ units: 1, useBias: false }).apply(x) as tfl.SymbolicTensor;
      const m = tfl.model({ inputs: [e, d], outputs: y });
      m.setWeights([tf.tensor2d([[0.5], [-1], [2], [0.75]])]);
      return m;
    },
    ...extra,
  };
}

// Row 0: ids 7, 7, 9; row 1: id 9; row 2: id 11. Labels 1, 0, 1.
const batch = (): Batch => ({
  rows: 3,
  sparse: [{ name: 'f', slot: 1, fids: Uint32Array.from([7, 65536, 7, 65536, 9, 65536, 9, 65536, 11, 65536]), rowSplits: Int32Array.from([0, 3, 4, 5]) }],
  dense: [{ name: 'd', width: 2, values: Float32Array.from([1, -2, 0.5, 3, -1, 1]) }],
  labels: Float32Array.from([1, 0, 1]),
  labelWidth: 1,
  lineId: [],
});

/** Runs one train step at `globalStep`; returns the gradients the optimizers received (−update / lr) and the loss. */
function stepGradients(s: ModelSpec, globalStep = 0): { dense: number[]; sparse: number[]; w0: number[]; loss: number } {
  const tables = createModelTables(s);
  const dense = createSharedDenseParams(s);
  dense.globalStep = globalStep;
  const w0 = Array.from(dense.weights[0]!);
  const e0 = IDS.flatMap(() => [0.25, 0.25]); // the ids are inserted by the step, at the constant initializer
  const res = new TrainStep({ spec: s, tables, dense }).run(batch(), 'train');
  const w1 = Array.from(dense.weights[0]!);
  const e1 = Array.from(tables.t!.lookupOnly(IDS));
  return { dense: w1.map((v, i) => (w0[i]! - v) / DENSE_LR), sparse: e1.map((v, i) => (e0[i]! - v) / TABLE_LR), w0, loss: res.loss! };
}

const norm = (a: number[]) => Math.sqrt(a.reduce((s, v) => s + v * v, 0));
const close = (t: { true: (c: boolean, m?: string) => void }, got: number[], exp: number[], what: string, tol = 1e-5) =>
  got.forEach((g, i) => t.true(Math.abs(g - exp[i]!) < tol, `${what}[${i}]: ${g} vs ${exp[i]}`));

/** The gradients of the pooled input rows (Monolith's layout tensors), from the per-id ones: g7 = 2·p0, g9 = p0 + p1, g11 = p2. */
function pooledOf(sparse: number[]): number[] {
  const p0 = sparse.slice(0, 2).map((v) => v / 2);
  const p1 = sparse.slice(2, 4).map((v, j) => v - p0[j]!);
  return [...p0, ...p1, ...sparse.slice(4, 6)];
}

test('clip by global norm: one norm over the dense gradients and those of the pooled embedding inputs scales both', (t) => {
  const base = stepGradients(spec());
  const nd = norm(base.dense);
  const all = Math.hypot(nd, norm(pooledOf(base.sparse)));
  t.true(nd > 0 && norm(base.sparse) > 0);
  const clipNorm = all / 4;
  const got = stepGradients(spec({ gradients: { clipNorm } }));
  // Had the norm been the dense one only, or taken over the per-id rows, the factor would not be 1/4.
  t.true(Math.abs(clipNorm / nd - 0.25) > 0.01);
  t.true(Math.abs(clipNorm / Math.hypot(nd, norm(base.sparse)) - 0.25) > 1e-4); // well above the 1e-5 tolerance below
  close(t, got.dense, base.dense.map((g) => g / 4), 'dense');
  close(t, got.sparse, base.sparse.map((g) => g / 4), 'sparse');
  // Below the clip norm nothing changes.
  close(t, stepGradients(spec({ gradients: { clipNorm: all * 2 } })).dense, base.dense, 'unclipped dense');
});

test('sparse norm warmup: the same global norm, the embeddings clipped to clipNorm · step / warmup until the warmup ends', (t) => {
  const base = stepGradients(spec());
  const all = Math.hypot(norm(base.dense), norm(pooledOf(base.sparse)));
  const clipNorm = all / 2;
  const gradients = { clipNorm, sparseNormWarmupSteps: 4 };
  const atStart = stepGradients(spec({ gradients }), 0);
  close(t, atStart.sparse, [0, 0, 0, 0, 0, 0], 'embeddings at step 0');
  close(t, atStart.dense, base.dense.map((g) => g / 2), 'dense at step 0 (clipNorm on the global norm)');
  const half = stepGradients(spec({ gradients }), 2);
  close(t, half.sparse, base.sparse.map((g) => g / 4), 'embeddings at step 2 of 4');
  close(t, half.dense, base.dense.map((g) => g / 2), 'dense at step 2 of 4');
  const after = stepGradients(spec({ gradients }), 10);
  close(t, after.sparse, base.sparse.map((g) => g / 2), 'embeddings after warmup');
});

test('dense weight decay adds decay · weight to each dense gradient, not to the embeddings', (t) => {
  const base = stepGradients(spec());
  const got = stepGradients(spec({ gradients: { denseWeightDecay: 0.3 } }));
  close(t, got.dense, base.dense.map((g, i) => g + 0.3 * base.w0[i]!), 'dense');
  close(t, got.sparse, base.sparse, 'sparse');
});

test('a PolynomialDecay (plain or LearningRateFunction) drives the dense rate by the global step', (t) => {
  const base = stepGradients(spec(), 5);
  const decay = { initialLearningRate: DENSE_LR, decaySteps: 10, endLearningRate: 0 };
  // lr(5) = 0.1 · (1 − 5/10) = 0.05: the update is half the constant-rate one (read back with lr 0.1).
  for (const learningRate of [polynomialDecay(decay), new nn.PolynomialDecay(decay)]) {
    const got = stepGradients(spec({ denseOptimizer: { name: 'sgd', learningRate } }), 5);
    close(t, got.dense, base.dense.map((g) => g / 2), 'dense');
  }
});

test("lossReduction 'sum' (Monolith's reduce_sum) sums the rows: loss and gradients are rows × the mean's", (t) => {
  const mean = stepGradients(spec());
  const sum = stepGradients(spec({ lossReduction: 'sum' }));
  t.true(Math.abs(sum.loss - 3 * mean.loss) < 1e-5);
  close(t, sum.dense, mean.dense.map((g) => 3 * g), 'dense');
  close(t, sum.sparse, mean.sparse.map((g) => 3 * g), 'sparse');
});

test('bad gradient settings are a ConfigError naming the field', (t) => {
  const s = spec({ gradients: { sparseNormWarmupSteps: -1 } });
  const err = t.throws(() => new TrainStep({ spec: s, tables: createModelTables(s), dense: createSharedDenseParams(s) }));
  t.is(err?.name, 'ConfigError');
  t.regex(err!.message, /sparseNormWarmupSteps/);
});

test('settings act in the worker threads: train() with a tiny clip norm barely moves the dense weights', async (t) => {
  const rng = new Rng(3);
  const batches = Array.from({ length: 4 }, () => tinyBatch(rng, 16));
  const url = new URL('./fixtures/tiny-model.js', import.meta.url).href;
  const moved = async (clipNorm?: number) => {
    const { createModel } = await import(url);
    const s: ModelSpec = createModel({});
    const dense = createSharedDenseParams(s);
    const before = Float32Array.from(dense.flatWeights);
    await train({ model: { url, options: { clipNorm } }, source: batches, workers: 1, deterministic: true, dense });
    return norm(Array.from(dense.flatWeights, (v, i) => v - before[i]!));
  };
  const free = await moved();
  const clipped = await moved(1e-4);
  // SGD lr 0.05: each step moves the dense weights by at most 0.05 · 1e-4.
  t.true(clipped <= 4 * 0.05 * 1e-4 + 1e-7, `clipped run moved ${clipped}`);
  t.true(free > 100 * clipped, `unclipped ${free} vs clipped ${clipped}`);
});
