import test from 'ava';
import { ConfigError } from '../../src/errors.js';
import { approxRanks } from '../../src/nn/approx-ranks.js';
import { getBatchIdxSize } from '../../src/nn/batch-idx-size.js';
import { inverseMaxDcg } from '../../src/nn/inverse-max-dcg.js';
import { labelValidFn } from '../../src/nn/label-valid.js';
import { organizeValidIndices, shuffleValidIndices } from '../../src/nn/organize-valid-indices.js';
import { reshapeFirstNdims } from '../../src/nn/reshape-first-ndims.js';
import { sortByScores } from '../../src/nn/sort-by-scores.js';
import { tf, type Tensor2D } from '../../src/nn/tf.js';
import { ln, near, useCpu } from './helpers.js';

test.before(useCpu);

test('label_valid_fn: labels >= 0 are valid', (t) => {
  const v = labelValidFn([[1, 0, -1]]);
  t.is(v.dtype, 'bool');
  t.deepEqual(v.arraySync(), [[1, 1, 0]]);
});

test('sort_by_scores (TF-Ranking utils_test): sorts every feature, topn cuts, ties keep order', (t) => {
  const scores = [[1, 3, 2], [1, 2, 3]];
  const positions = tf.tensor2d([[1, 2, 3], [4, 5, 6]]) as Tensor2D;
  const names = [['a', 'b', 'c'], ['d', 'e', 'f']];
  const [sp] = sortByScores(scores, [positions]);
  t.deepEqual(sp!.arraySync(), [[2, 3, 1], [6, 5, 4]]);
  t.deepEqual(sortByScores(scores, [names]), [[['b', 'c', 'a'], ['f', 'e', 'd']]]);
  const [top2] = sortByScores(scores, [positions], 2);
  t.deepEqual(top2!.arraySync(), [[2, 3], [6, 5]]);
  t.deepEqual(sortByScores([[1, 3, 2]], [[['a', 'b', 'c']]], 10), [[['b', 'c', 'a']]]);
  t.deepEqual(sortByScores([[1, 2, 1, 2]], [[[0, 1, 2, 3]]]), [[[1, 3, 0, 2]]], 'equal scores: lower index first, as tf.nn.top_k');
  t.throws(() => sortByScores(tf.tensor1d([1, 2]), [[[1, 2]]]), { instanceOf: ConfigError });
  t.throws(() => sortByScores(scores, [[[1, 2]]]), { instanceOf: ConfigError });
});

test('sort_by_scores passes gradients to the sorted tensor', (t) => {
  const x = tf.tensor2d([[10, 20, 30]]);
  const g = tf.grad((v) => tf.sum(tf.mul(sortByScores([[1, 3, 2]], [v as Tensor2D], 2)[0]!, tf.tensor2d([[1, 100]]))))(x);
  t.deepEqual(Array.from(g.dataSync()), [0, 1, 100]);
});

test('organize_valid_indices (TF-Ranking utils_test): without shuffle valid items keep their order, invalid ones go last', (t) => {
  const isValid = [[true, true, false], [false, true, true]];
  t.deepEqual(organizeValidIndices(isValid, { shuffle: false }).arraySync(), [
    [[0, 0], [0, 1], [0, 2]],
    [[1, 1], [1, 2], [1, 0]],
  ]);
  t.deepEqual(organizeValidIndices(labelValidFn([[1, 0, -1], [-1, 1, 2]]), { shuffle: false }).arraySync(), [
    [[0, 0], [0, 1], [0, 2]],
    [[1, 1], [1, 2], [1, 0]],
  ]);
});

test('shuffle_valid_indices: valid items first in a seeded random order, invalid ones last in order', (t) => {
  const isValid = [[true, true, true, true, true, true, false, true, false]];
  const a = shuffleValidIndices(isValid, 3).arraySync()[0]!.map((p) => p[1]!);
  const b = shuffleValidIndices(isValid, 3).arraySync()[0]!.map((p) => p[1]!);
  t.deepEqual(a, b, 'same seed, same order');
  t.deepEqual(a.slice(0, 7).sort(), [0, 1, 2, 3, 4, 5, 7]);
  t.deepEqual(a.slice(7), [6, 8]);
  const orders = new Set(Array.from({ length: 12 }, (_, s) => shuffleValidIndices(isValid, s).arraySync()[0]!.map((p) => p[1]).join()));
  t.true(orders.size > 6, 'different seeds give different orders');
});

test('reshape_first_ndims (TF-Ranking utils_test): dense and sparse', (t) => {
  const dense = tf.reshape(tf.range(0, 100), [2, 5, 10]);
  const r = reshapeFirstNdims(dense, 2, [10]);
  t.deepEqual(r.shape, [10, 10]);
  t.deepEqual(Array.from(r.dataSync()), Array.from({ length: 100 }, (_, i) => i));
  const sparse = {
    indices: [[0, 0, 0], [0, 1, 1], [0, 2, 2], [1, 0, 0], [1, 1, 1], [1, 2, 2]],
    values: [1, 2, 3, 4, 5, 6],
    denseShape: [2, 3, 3],
  };
  t.deepEqual(reshapeFirstNdims(sparse, 2, [6]), {
    indices: [[0, 0], [1, 1], [2, 2], [3, 0], [4, 1], [5, 2]],
    values: [1, 2, 3, 4, 5, 6],
    denseShape: [6, 3],
  });
  t.deepEqual(reshapeFirstNdims(sparse, 2, [-1]).denseShape, [6, 3]);
  t.throws(() => reshapeFirstNdims(tf.zeros([4]), 2, [4]), { instanceOf: ConfigError, message: 'Tensor shape is less than 2 dims.' });
});

test('approx_ranks (TF-Ranking utils_test): alpha 100 gives the exact ranks; alpha 10 matches the sigmoid sum', (t) => {
  near(t, approxRanks([[1, 3, 2, 0], [4, 2, 1.5, 3]], 100), [[3, 1, 2, 4], [1, 3, 4, 2]]);
  const s = [0.3, -0.1, 0.25];
  const sig = (x: number) => 1 / (1 + Math.exp(-x));
  const expected = s.map((si) => 0.5 + s.reduce((a, sj) => a + sig(10 * (sj - si)), 0));
  near(t, approxRanks([s]), expected);
});

test('inverse_max_dcg (TF-Ranking utils_test values and by hand)', (t) => {
  const labels = [[1, 4, 1, 0], [4, 2, 0, 3], [0, 0, 0, 0]];
  near(t, inverseMaxDcg(labels), [0.04297, 0.033139, 0], 1e-4);
  near(t, inverseMaxDcg(labels, { topn: 1 }), [0.04621, 0.04621, 0], 1e-4);
  const byHand = 1 / (15 / ln(2) + 1 / ln(3) + 1 / ln(4) + 0 / ln(5));
  near(t, inverseMaxDcg([[1, 4, 1, 0]]), [byHand]);
  // Custom gain / discount: reciprocal rank style.
  near(t, inverseMaxDcg([[1, 2]], { gainFn: (l) => l, rankDiscountFn: (r) => 1 / r }), [1 / 2.5]);
  t.deepEqual(inverseMaxDcg(labels).shape, [3, 1]);
});

test('get_batch_idx_size groups examples by rank id into a padded grid', (t) => {
  const logits = tf.tensor1d([0.1, 0.2, 0.3, 0.4, 0.5]);
  const labels = [1, 0, 2, 3, 0];
  const r = getBatchIdxSize(logits, labels, [7, 9, 7, 5, 7], 'p_');
  // lists in order of first appearance: 7 -> 0 (items 0, 2, 4), 9 -> 1 (item 1), 5 -> 2 (item 3); max 3 per list
  near(t, r.logitsIdx, [[0.1, 0.3, 0.5], [0.2, 0, 0], [0.4, 0, 0]]);
  near(t, r.labelIdx, [[1, 2, 0], [0, 0, 0], [3, 0, 0]].map((row) => row.map((v) => v - 1e-6)), 1e-7);
  t.deepEqual(r.logitsIdx.shape, [3, 3]);
  const mask = r.maskIdx.arraySync();
  t.deepEqual(r.maskIdx.shape, [5, 5]);
  t.deepEqual(mask[0], [1, 1, 1, 0, 0]);
  t.deepEqual(mask[1], [1, 0, 0, 0, 0]);
  t.deepEqual(mask[2], [1, 0, 0, 0, 0]);
  t.deepEqual(mask.slice(3), [[0, 0, 0, 0, 0], [0, 0, 0, 0, 0]]);
  t.deepEqual(Array.from(r.uniqueIdx.dataSync()), [0, 1, 3]);
  const g = tf.grad((x) => tf.sum(tf.mul(getBatchIdxSize(x, labels, [7, 9, 7, 5, 7]).logitsIdx, tf.tensor2d([[1, 2, 3], [4, 5, 6], [7, 8, 9]]))))(logits);
  t.deepEqual(Array.from(g.dataSync()), [1, 4, 2, 7, 3]);
  t.throws(() => getBatchIdxSize([1, 2], [1], [1, 2]), { instanceOf: ConfigError });
});
