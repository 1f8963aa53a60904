import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import { input, model as functionalModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { ConfigError, CrossLayer, DcnV2Model, DeepFwFMModel, FieldWeightedFm, FmInteraction, LEARNING_DEFAULTS } from '../../src/index.js';
import { Rng } from '../../src/util/random.js';
import { useCpu } from './tf-setup.js';

test.before(useCpu);

const randomFields = (rng: Rng, rows: number, fields: number, k: number) =>
  tf.tensor3d(Array.from({ length: rows }, () => Array.from({ length: fields }, () => Array.from({ length: k }, () => rng.normal()))));

test('FieldWeightedFm: Σ_{i<j} r_ij ⟨v_i, v_j⟩; with every r_ij = 1 it is the plain FM term', (t) => {
  const v = randomFields(new Rng(1), 3, 4, 2);
  const ones = new FieldWeightedFm({ initialPairWeight: 1 });
  const a = (ones.apply(v) as tf.Tensor).arraySync() as number[][];
  const b = (new FmInteraction({}).apply(v) as tf.Tensor).arraySync() as number[][];
  a.forEach((row, i) => t.true(Math.abs(row[0]! - b[i]![0]!) < 1e-4));
  const half = (new FieldWeightedFm({ initialPairWeight: 0.5 }).apply(v) as tf.Tensor).arraySync() as number[][];
  half.forEach((row, i) => t.true(Math.abs(row[0]! - 0.5 * b[i]![0]!) < 1e-4));
  t.throws(() => new FieldWeightedFm({}).apply(tf.zeros([2, 1, 3])), { instanceOf: ConfigError, message: /fields >= 2/ });
});

test('FieldWeightedFm learns which of the field pairs interact', (t) => {
  const rng = new Rng(7);
  const fields = 6;
  const v = randomFields(rng, 2000, fields, 4);
  const dot = (i: number, j: number) => tf.sum(tf.mul(tf.slice(v, [0, i, 0], [-1, 1, -1]), tf.slice(v, [0, j, 0], [-1, 1, -1])), [1, 2]);
  const y = tf.reshape(tf.add(dot(1, 3), tf.mul(-0.7, dot(2, 5))), [-1, 1]);
  const x = input({ shape: [fields, 4] });
  const layer = new FieldWeightedFm({});
  const m = functionalModel({ inputs: x, outputs: layer.apply(x) as SymbolicTensor });
  m.compile({ optimizer: tf.train.adam(0.05), loss: 'meanSquaredError' });
  return m.fit(v, y, { epochs: 30, batchSize: 200, verbose: 0, shuffle: false }).then(() => {
    const top = layer.pairStrengths();
    t.deepEqual(top.slice(0, 2).map((p) => [p.i, p.j]), [[1, 3], [2, 5]]);
    t.true(Math.abs(top[0]!.weight - 1) < 0.05 && Math.abs(top[1]!.weight + 0.7) < 0.05, JSON.stringify(top.slice(0, 3)));
    t.true(Math.abs(top[2]!.weight) < 0.05);
  });
});

/** Field-aware inputs [rows, fields, fields·k] and the term Σ_{i<j} r_ij ⟨v_i,j, v_j,i⟩ computed by hand. */
function fieldAwareCase(rng: Rng, rows: number, fields: number, k: number, r: (i: number, j: number) => number) {
  const v = Array.from({ length: rows }, () => Array.from({ length: fields }, () => Array.from({ length: fields * k }, () => rng.normal())));
  const term = v.map((row) => {
    let z = 0;
    for (let i = 0; i < fields; i++) for (let j = i + 1; j < fields; j++) for (let d = 0; d < k; d++) z += r(i, j) * row[i]![j * k + d]! * row[j]![i * k + d]!;
    return [z];
  });
  return { v: tf.tensor3d(v), term };
}

test('FieldWeightedFm fieldAware: Σ_{i<j} r_ij ⟨v_i,j, v_j,i⟩ — each field has its own vector per partner field', (t) => {
  const { v, term } = fieldAwareCase(new Rng(2), 3, 4, 2, () => 0.5);
  const out = (new FieldWeightedFm({ initialPairWeight: 0.5, fieldAware: true }).apply(v) as tf.Tensor).arraySync() as number[][];
  out.forEach((row, i) => t.true(Math.abs(row[0]! - term[i]![0]!) < 1e-4, `row ${i}: ${row[0]} vs ${term[i]![0]}`));
  t.throws(() => new FieldWeightedFm({ fieldAware: true }).apply(tf.zeros([2, 4, 6])), { instanceOf: ConfigError, message: /fields·k/ });
  const rebuilt = FieldWeightedFm.fromConfig(FieldWeightedFm, new FieldWeightedFm({ fieldAware: true }).getConfig()) as FieldWeightedFm;
  t.true(rebuilt.fieldAware);
});

test('FieldWeightedFm fieldAware learns the pair weights of a field-aware target, which a shared-vector FwFM cannot fit', async (t) => {
  const fields = 4;
  const planted = (i: number, j: number) => (i === 0 && j === 2 ? 1 : i === 1 && j === 3 ? -0.7 : 0);
  const { v, term } = fieldAwareCase(new Rng(5), 1000, fields, 2, planted);
  const y = tf.tensor2d(term);
  const fit = async (fieldAware: boolean) => {
    const x = input({ shape: [fields, fields * 2] });
    const layer = new FieldWeightedFm({ fieldAware });
    const m = functionalModel({ inputs: x, outputs: layer.apply(x) as SymbolicTensor });
    m.compile({ optimizer: tf.train.adam(0.05), loss: 'meanSquaredError' });
    const h = await m.fit(v, y, { epochs: 30, batchSize: 200, verbose: 0, shuffle: false });
    return { layer, loss: h.history.loss!.at(-1) as number };
  };
  const aware = await fit(true);
  const top = aware.layer.pairStrengths();
  t.deepEqual(top.slice(0, 2).map((p) => [p.i, p.j]), [[0, 2], [1, 3]]);
  t.true(Math.abs(top[0]!.weight - 1) < 0.05 && Math.abs(top[1]!.weight + 0.7) < 0.05, JSON.stringify(top.slice(0, 3)));
  const shared = await fit(false);
  t.log(`final loss: field-aware ${aware.loss.toExponential(2)}, shared vectors ${shared.loss.toFixed(3)}`);
  t.true(aware.loss < 1e-3 && shared.loss > 0.5, `field-aware ${aware.loss}, shared ${shared.loss}`);
});

test('CrossLayer: x0 ⊙ (W·xl + b) + xl', (t) => {
  const layer = new CrossLayer({ seed: 3 });
  const x0 = tf.tensor2d([[1, 2, 3]]);
  const xl = tf.tensor2d([[0.5, -1, 2]]);
  const out = (layer.apply([x0, xl]) as tf.Tensor).arraySync() as number[][];
  const w = layer.getWeights()[0]!.arraySync() as number[][];
  const want = [0, 1, 2].map((j) => [1, 2, 3][j]! * [0.5, -1, 2].reduce((a, xi, i) => a + xi * w[i]![j]!, 0) + [0.5, -1, 2][j]!);
  out[0]!.forEach((o, j) => t.true(Math.abs(o - want[j]!) < 1e-5));
});

test('DeepFwFM from the package: one learnt weight per slot pair in its dense parameters', (t) => {
  const spec = new DeepFwFMModel({ sparseSlots: 5, denseFeatureNames: ['a', 'b'], hidden: [4] }).toModelSpec();
  const dense = spec.buildDense();
  const pw = dense.trainableWeights.find((w) => w.name.includes('pair_weights'));
  t.truthy(pw);
  t.deepEqual(pw!.shape, [5, 5]);
  t.deepEqual(spec.denseInputs.map((d) => d.name).sort(), ['a', 'b']);
  t.is(spec.name, 'deep_fwfm');
});

test('DeepFwFM from the package pairs field-aware by default: slots × pairEmbeddingDim per id, pair weights from 0.5', (t) => {
  const spec = (opts: Record<string, unknown>) => new DeepFwFMModel({ sparseSlots: 5, denseFeatures: 0, hidden: [4], pairEmbeddingDim: 3, ...opts }).toModelSpec();
  const rowWidth = (opts: Record<string, unknown>) => spec(opts).features[0]!.dim;
  const pairStart = (opts: Record<string, unknown>) => (spec(opts).buildDense().trainableWeights.find((w) => w.name.includes('pair_weights'))!.read().dataSync() as Float32Array)[1];
  t.is(rowWidth({}) - rowWidth({ fieldAwarePairs: false }), 5 * 3 - 3);
  t.is(pairStart({}), 0.5);
  t.true(Math.abs(pairStart({ fieldAwarePairs: false })! - 0.1) < 1e-7);
  t.is(pairStart({ initialPairWeight: 2 }), 2);
  t.throws(() => new DeepFwFMModel({ fieldAwarePairs: true, pairEmbeddingDim: 0 }).toModelSpec(), { instanceOf: ConfigError, message: /fieldAwarePairs needs/ });
});

test("CrossLayer kernelInitializer 'zeros': the layer starts as x0 ⊙ b + xl, with no interaction", (t) => {
  const x0 = tf.tensor2d([[1, 2, 3]]);
  const xl = tf.tensor2d([[0.5, -1, 2]]);
  const layer = new CrossLayer({ kernelInitializer: 'zeros' });
  t.deepEqual((layer.apply([x0, xl]) as tf.Tensor).arraySync(), [[0.5, -1, 2]]);
  t.throws(() => new CrossLayer({ kernelInitializer: 'ones' as 'zeros' }), { instanceOf: ConfigError, message: /kernelInitializer/ });
  t.throws(() => new CrossLayer({ kernelScale: 0 }), { instanceOf: ConfigError, message: /kernelScale must be > 0/ });
});

/** The effective kernel W after `steps` Adam steps on a fixed regression target, from W = 0. */
function crossKernelAfterAdam(kernelScale: number, steps: number): number[][] {
  const rng = new Rng(11);
  const x = tf.tensor2d(Array.from({ length: 64 }, () => Array.from({ length: 3 }, () => rng.normal())));
  const y = tf.tensor2d(Array.from({ length: 64 }, () => [rng.normal(), rng.normal(), rng.normal()]));
  const layer = new CrossLayer({ kernelInitializer: 'zeros', kernelScale });
  layer.apply(x);
  const opt = tf.train.adam(0.01);
  for (let i = 0; i < steps; i++) opt.minimize(() => tf.losses.meanSquaredError(y, layer.apply(x) as tf.Tensor) as tf.Scalar);
  return (tf.mul(layer.getWeights()[0]!, kernelScale).arraySync() as number[][]);
}

test('CrossLayer kernelScale: under Adam a step moves the kernel kernelScale times as far', (t) => {
  const full = crossKernelAfterAdam(1, 1).flat();
  const slow = crossKernelAfterAdam(0.1, 1).flat();
  t.true(full.every((w) => Math.abs(Math.abs(w) - 0.01) < 1e-4)); // Adam's first step is ±lr whatever the gradient's scale
  full.forEach((w, i) => t.true(Math.abs(slow[i]! - 0.1 * w) < 1e-4, `W[${i}]: ${slow[i]} vs 0.1 × ${w}`));
});

test('CrossLayer: a layer rebuilt from its config (as serving does) computes the same, kernelScale included', (t) => {
  const x = tf.tensor2d([[1, -2, 0.5]]);
  const a = new CrossLayer({ seed: 5, kernelScale: 0.1 });
  const outA = (a.apply(x) as tf.Tensor).arraySync() as number[][];
  const b = CrossLayer.fromConfig(CrossLayer, a.getConfig()) as CrossLayer;
  b.apply(x);
  b.setWeights(a.getWeights());
  t.deepEqual((b.apply(x) as tf.Tensor).arraySync(), outA);
  t.is(b.kernelScale, 0.1);
});

test('DCN-v2 from the package starts its cross kernels at zero (LEARNING_DEFAULTS) and takes the options', (t) => {
  const kernels = (opts: Record<string, unknown>) =>
    new DcnV2Model({ sparseSlots: 3, denseFeatures: 2, hidden: [4], ...opts })
      .toModelSpec()
      .buildDense()
      .trainableWeights.filter((w) => /cross_layer.*kernel/i.test(w.name))
      .map((w) => (w.read().arraySync() as number[][]).flat());
  const shipped = kernels({});
  t.is(shipped.length, 2);
  t.true(shipped.every((k) => k.every((w) => w === 0)));
  t.true(kernels({ crossKernelInitializer: 'glorotUniform' }).every((k) => k.some((w) => w !== 0)));
  t.is(LEARNING_DEFAULTS.crossKernelScale, 0.1);
});
