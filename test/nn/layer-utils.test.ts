import test from 'ava';
import { ConfigError } from '../../src/errors.js';
import { checkDim, dimSize } from '../../src/nn/check-dim.js';
import { continuousTopk } from '../../src/nn/continuous-topk.js';
import { gumbelKeys } from '../../src/nn/gumbel-keys.js';
import { DCNType, MergeType } from '../../src/nn/merge-type.js';
import { mergeTensorList } from '../../src/nn/merge-tensor-list.js';
import { sampleSubset } from '../../src/nn/sample-subset.js';
import { tf, type Tensor } from '../../src/nn/tf.js';
import { near, useCpu } from './helpers.js';

test.before(useCpu);

const range = (...shape: number[]) => tf.reshape(tf.range(0, shape.reduce((a, b) => a * b, 1)), shape);
const shapes = (x: Tensor | Tensor[]) => (Array.isArray(x) ? x.map((y) => y.shape) : x.shape);

test('MergeType and DCNType constants', (t) => {
  t.deepEqual(MergeType, { CONCAT: 'concat', STACK: 'stack', NONE: null });
  t.deepEqual(DCNType, { Vector: 'vector', Matrix: 'matrix', Mixed: 'mixed' });
});

test('check_dim and dim_size', (t) => {
  t.is(checkDim(null), -1);
  t.is(checkDim(undefined), -1);
  t.is(checkDim(7), 7);
  t.is(checkDim({ value: 3 }), 3);
  t.is(checkDim({ value: null }), -1);
  t.throws(() => checkDim('3' as never), { instanceOf: ConfigError, message: 'dim 3 is error' });
  t.throws(() => checkDim(1.5), { instanceOf: ConfigError });
  t.is(dimSize(range(2, 3, 4), 2), 4);
  t.throws(() => dimSize(range(2, 3), 2), { instanceOf: ConfigError });
});

test('merge_tensor_list, one 3-D tensor [B, n, e]: stack / concat / None, keep_list', (t) => {
  const x = range(2, 3, 4);
  t.is(mergeTensorList(x, { mergeType: 'stack' }), x);
  t.deepEqual(mergeTensorList([x], { mergeType: 'stack', keepList: true }), [x]);
  const c = mergeTensorList(x) as Tensor;
  t.deepEqual(c.shape, [2, 12]);
  t.deepEqual(Array.from(c.dataSync()), Array.from(x.dataSync()));
  t.deepEqual(shapes(mergeTensorList(x, { keepList: true })), [[2, 12]]);
  const u = mergeTensorList(x, { mergeType: null }) as Tensor[];
  t.deepEqual(shapes(u), [[2, 4], [2, 4], [2, 4]]);
  t.deepEqual(u[1]!.arraySync(), [[4, 5, 6, 7], [16, 17, 18, 19]]);
  t.deepEqual(shapes(mergeTensorList(x, { mergeType: null, axis: 2 })), [[2, 3], [2, 3], [2, 3], [2, 3]]);
});

test('merge_tensor_list, one 2-D tensor with num_feature > 1: stack / concat / None', (t) => {
  const x = range(2, 6);
  const s = mergeTensorList(x, { mergeType: 'stack', numFeature: 3 }) as Tensor;
  t.deepEqual(s.shape, [2, 3, 2]);
  t.deepEqual(s.arraySync(), [[[0, 1], [2, 3], [4, 5]], [[6, 7], [8, 9], [10, 11]]]);
  t.deepEqual(shapes(mergeTensorList(x, { mergeType: 'stack', numFeature: 3, keepList: true })), [[2, 3, 2]]);
  t.is(mergeTensorList(x, { mergeType: 'concat', numFeature: 3 }), x);
  t.deepEqual(mergeTensorList(x, { numFeature: 3, keepList: true }), [x]);
  const u = mergeTensorList(x, { mergeType: null, numFeature: 3 }) as Tensor[];
  t.deepEqual(u.map((y) => y.arraySync()), [[[0, 1], [6, 7]], [[2, 3], [8, 9]], [[4, 5], [10, 11]]]);
  t.throws(() => mergeTensorList(range(2, 5), { mergeType: 'stack', numFeature: 3 }), { instanceOf: ConfigError });
});

test('merge_tensor_list, one 2-D tensor without num_feature (or num_feature 1): as is; other ranks refused', (t) => {
  const x = range(2, 6);
  for (const mergeType of ['stack', 'concat', null] as const) {
    t.is(mergeTensorList(x, { mergeType }), x);
    t.is(mergeTensorList(x, { mergeType, numFeature: 1 }), x);
    t.deepEqual(mergeTensorList(x, { mergeType, keepList: true }), [x]);
  }
  t.throws(() => mergeTensorList(range(6)), { instanceOf: ConfigError, message: 'shape error: (6)' });
  t.throws(() => mergeTensorList(range(1, 2, 3, 4)), { instanceOf: ConfigError, message: 'shape error: (1, 2, 3, 4)' });
});

test('merge_tensor_list, several tensors: stack / concat along axis, None keeps the list', (t) => {
  const a = range(2, 3);
  const b = tf.add(range(2, 3), 10);
  t.deepEqual(shapes(mergeTensorList([a, b], { mergeType: 'stack' })), [2, 2, 3]);
  t.deepEqual((mergeTensorList([a, b], { mergeType: 'stack' }) as Tensor).arraySync(), [[[0, 1, 2], [10, 11, 12]], [[3, 4, 5], [13, 14, 15]]]);
  t.deepEqual(shapes(mergeTensorList([a, b], { mergeType: 'stack', keepList: true })), [[2, 2, 3]]);
  t.deepEqual(shapes(mergeTensorList([a, b], { mergeType: 'stack', axis: 0 })), [2, 2, 3]);
  t.deepEqual((mergeTensorList([a, b]) as Tensor).arraySync(), [[0, 1, 2, 10, 11, 12], [3, 4, 5, 13, 14, 15]]);
  t.deepEqual(shapes(mergeTensorList([a, b], { keepList: true })), [[2, 6]]);
  t.deepEqual(shapes(mergeTensorList([a, b], { axis: 0 })), [4, 3]);
  const kept = mergeTensorList([a, b], { mergeType: null }) as Tensor[];
  t.is(kept[0], a);
  t.is(kept[1], b);
  t.throws(() => mergeTensorList([], {}), { instanceOf: ConfigError });
  t.throws(() => mergeTensorList([a, b], { mergeType: 'sum' as never }), { instanceOf: ConfigError });
});

test('gumbel_keys: seeded, w + Gumbel noise with the right mean', (t) => {
  const w = tf.fill([20000], 1.5);
  const a = gumbelKeys(w, 42);
  t.deepEqual(Array.from(a.dataSync()), Array.from(gumbelKeys(w, 42).dataSync()));
  t.notDeepEqual(Array.from(a.dataSync()), Array.from(gumbelKeys(w, 43).dataSync()));
  const v = Array.from(a.dataSync());
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  near(t, mean, 1.5 + 0.5772156649, 0.03); // Euler-Mascheroni: the mean of Gumbel(0, 1)
  t.true(v.every(Number.isFinite));
});

test('continuous_topk: k soft one-hots that pick the k largest, their sum, by hand for k = 1', (t) => {
  const w = tf.tensor2d([[1, 5, 3, 4], [2, 0, 9, 8]]);
  const hot = continuousTopk(w, 2, 0.01) as Tensor;
  near(t, hot, [[0, 1, 0, 1], [0, 0, 1, 1]], 1e-4);
  const parts = continuousTopk(w, 2, 0.01, true);
  t.is(parts.length, 2);
  near(t, parts[0]!, [[0, 1, 0, 0], [0, 0, 1, 0]], 1e-4);
  // k = 1 is a plain softmax(w / t)
  const row = [0.2, -0.4, 0.1];
  const z = row.reduce((s, x) => s + Math.exp(x / 0.5), 0);
  near(t, continuousTopk(tf.tensor2d([row]), 1, 0.5), [row.map((x) => Math.exp(x / 0.5) / z)]);
  // k = 2 by hand: second round pushes down the first pick by log(1 - p)
  const p1 = row.map((x) => Math.exp(x / 0.5) / z);
  const w2 = row.map((x, i) => x + Math.log(Math.max(1 - p1[i]!, 1.1754943508222875e-38)));
  const z2 = w2.reduce((s, x) => s + Math.exp(x / 0.5), 0);
  near(t, continuousTopk(tf.tensor2d([row]), 2, 0.5), [p1.map((p, i) => p + Math.exp(w2[i]! / 0.5) / z2)]);
});

test('sample_subset: seeded relaxed k-subset, sums to k, differentiable', (t) => {
  const w = tf.log(tf.tensor2d([[0.1, 0.2, 0.3, 0.4]]));
  const a = sampleSubset(w, 2, 0.1, 7);
  t.deepEqual(Array.from(a.dataSync()), Array.from(sampleSubset(w, 2, 0.1, 7).dataSync()));
  near(t, tf.sum(a), 2, 1e-4);
  const g = tf.grad((x) => tf.sum(tf.mul(sampleSubset(x, 2, 0.5, 7), tf.tensor2d([[1, 2, 3, 4]]))))(w);
  t.true(Array.from(g.dataSync()).every(Number.isFinite));
  // the heaviest element is picked most often
  const counts = [0, 0, 0, 0];
  for (let s = 0; s < 200; s++) {
    const v = Array.from(sampleSubset(w, 1, 0.01, s).dataSync());
    counts[v.indexOf(Math.max(...v))]! += 1;
  }
  t.true(counts[3]! > counts[0]!, `counts ${counts}`);
});
