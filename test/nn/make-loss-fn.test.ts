import test from 'ava';
import { ConfigError } from '../../src/errors.js';
import { DCGLambdaWeight } from '../../src/nn/dcg-lambda-weight.js';
import { makeLossFn } from '../../src/nn/make-loss-fn.js';
import { pairwiseHingeLoss } from '../../src/nn/pairwise-hinge-loss.js';
import { meanSquaredLoss } from '../../src/nn/mean-squared-loss.js';
import { listMleLoss } from '../../src/nn/list-mle-loss.js';
import { RankingLossKey } from '../../src/nn/ranking-loss-key.js';
import { Reduction } from '../../src/nn/reduction.js';
import { tf } from '../../src/nn/tf.js';
import { ln, near, num, useCpu } from './helpers.js';

test.before(useCpu);

test('RankingLossKey lists TF-Ranking\'s eight loss names', (t) => {
  t.deepEqual(Object.values(RankingLossKey).sort(), [
    'approx_ndcg_loss',
    'list_mle_loss',
    'mean_squared_loss',
    'pairwise_hinge_loss',
    'pairwise_logistic_loss',
    'pairwise_soft_zero_one_loss',
    'sigmoid_cross_entropy_loss',
    'softmax_loss',
  ]);
});

test('make_loss_fn: ValueErrors of TF-Ranking as ConfigErrors', (t) => {
  t.throws(() => makeLossFn([]), { instanceOf: ConfigError, message: 'loss_keys cannot be None or empty.' });
  t.throws(() => makeLossFn(''), { instanceOf: ConfigError, message: 'loss_keys cannot be None or empty.' });
  t.throws(() => makeLossFn(null), { instanceOf: ConfigError, message: 'loss_keys cannot be None or empty.' });
  t.throws(() => makeLossFn(['pairwise_hinge_loss', 'mean_squared_loss'], { lossWeights: [2] }), {
    instanceOf: ConfigError,
    message: 'loss_keys and loss_weights must have the same size.',
  });
  t.throws(() => makeLossFn(['invalid_key']), { instanceOf: ConfigError, message: 'Invalid loss_key: invalid_key.' });
  t.throws(() => makeLossFn('softmax_loss', { reduction: Reduction.NONE }), { instanceOf: ConfigError, message: 'Invalid reduction: none' });
  t.throws(() => makeLossFn('softmax_loss', { reduction: 'bogus' as Reduction }), { instanceOf: ConfigError, message: 'Invalid reduction: bogus' });
  t.throws(() => makeLossFn('softmax_loss', { extraArgs: { alpha: 1 } }), { instanceOf: ConfigError });
  t.throws(() => makeLossFn('softmax_loss', { extraArgs: { beta: 1 } as never }), { instanceOf: ConfigError });
  // A single key with one loss weight is fine (Python compared against len() of the string).
  t.notThrows(() => makeLossFn('softmax_loss', { lossWeights: [2] }));
  const f = makeLossFn('softmax_loss', { weightsFeatureName: 'w' });
  t.throws(() => f([[1, 0]], [[1, 2]], {}), { instanceOf: ConfigError });
});

const scores = [[0.2, 0.5, 0.3], [0.2, 0.3, 0.5]];
const labels = [[0, 0, 1], [0, 0, 1]];
const features = { weights: [[2], [1]] };

test('make_loss_fn combines losses with loss weights and example weights (TF-Ranking test_make_loss_fn)', (t) => {
  const hinge = num(pairwiseHingeLoss(labels, scores));
  const hingeW = num(pairwiseHingeLoss(labels, scores, { weights: features.weights }));
  const mse = num(meanSquaredLoss(labels, scores));
  const mseW = num(meanSquaredLoss(labels, scores, { weights: features.weights }));
  const keys = [RankingLossKey.PAIRWISE_HINGE_LOSS, RankingLossKey.MEAN_SQUARED_LOSS];
  near(t, makeLossFn(keys)(labels, scores, features), hinge + mse);
  near(t, makeLossFn(keys, { weightsFeatureName: 'weights' })(labels, scores, features), hingeW + mseW);
  near(t, makeLossFn(keys, { lossWeights: [3, 2], weightsFeatureName: 'weights' })(labels, scores, features), hingeW * 3 + mseW * 2);
  t.not(num(makeLossFn(keys, { reduction: Reduction.SUM })(labels, scores, features)), num(makeLossFn(keys, { reduction: Reduction.MEAN })(labels, scores, features)));
  // by hand: the hinge term of list 0 (positive at 0.3 vs 0.2 and 0.5) and list 1 (0.5 vs 0.2, 0.3)
  const byHand = (Math.max(0, 1 - 0.1) + Math.max(0, 1 + 0.2) + Math.max(0, 1 - 0.3) + Math.max(0, 1 - 0.2)) / 4;
  near(t, hinge, byHand);
});

function softmax(v: number[]): number[] {
  const z = v.reduce((a, x) => a + Math.exp(x), 0);
  return v.map((x) => Math.exp(x) / z);
}

test('make_loss_fn softmax: simple and weighted (TF-Ranking test_make_softmax_loss_fn)', (t) => {
  const s = [[1, 3, 2], [1, 2, 3]];
  const l = [[0, 0, 1], [0, 0, 2]];
  near(t, makeLossFn(RankingLossKey.SOFTMAX_LOSS)(l, s, features), -(ln(softmax(s[0]!)[2]!) + ln(softmax(s[1]!)[2]!) * 2) / 2);
  near(t, makeLossFn(RankingLossKey.SOFTMAX_LOSS, { weightsFeatureName: 'weights' })(l, s, features), -(ln(softmax(s[0]!)[2]!) * 2 + ln(softmax(s[1]!)[2]!) * 2) / 2);
});

test('make_loss_fn pairwise with a lambda weight (x list_size) and lambda_scale in extra args', (t) => {
  const s = [[1, 3, 2], [1, 2, 3]];
  const l = [[0, 0, 1], [0, 0, 2]];
  const lambdaWeight = new DCGLambdaWeight({ rankDiscountFn: (r) => 1 / Math.log1p(r), smoothFraction: 1 });
  const direct = num(pairwiseHingeLoss(l, s, { weights: features.weights, lambdaWeight }));
  near(t, makeLossFn('pairwise_hinge_loss', { weightsFeatureName: 'weights', lambdaWeight })(l, s, features), direct);
  const unscaled = num(makeLossFn('pairwise_hinge_loss', { weightsFeatureName: 'weights', lambdaWeight, extraArgs: { lambdaScale: false } })(l, s, features));
  near(t, unscaled * 3, direct);
});

test('make_loss_fn sigmoid cross entropy and mean squared (TF-Ranking)', (t) => {
  const sce = (l: number[], s: number[]) => l.reduce((a, z, i) => a + Math.max(s[i]!, 0) - s[i]! * z + Math.log(1 + Math.exp(-Math.abs(s[i]!))), 0);
  near(t, makeLossFn('sigmoid_cross_entropy_loss')(labels, scores, features), (sce(labels[0]!, scores[0]!) + sce(labels[1]!, scores[1]!)) / 6);
  near(t, makeLossFn('sigmoid_cross_entropy_loss', { weightsFeatureName: 'weights' })(labels, scores, features), (sce(labels[0]!, scores[0]!) * 2 + sce(labels[1]!, scores[1]!)) / 6);
});

test('make_loss_fn ListMLE: seeded, listwise weights (TF-Ranking test_make_list_mle_loss_fn, order of ties from our seeded shuffle)', (t) => {
  const s = [[0, ln(3), ln(2)], [0, ln(2), ln(3)]];
  const l = [[0, 0, 1], [0, 0, 2]];
  // list 1 has distinct ranks of its positive; its zero-labelled pair is a tie in either order
  const tieA = ln(2 / 6) + ln(3 / 4) + ln(1);
  const tieB = ln(2 / 6) + ln(1 / 4) + ln(1);
  const secondA = ln(3 / 6) + ln(2 / 3) + ln(1);
  const secondB = ln(3 / 6) + ln(1 / 3) + ln(1);
  const f = makeLossFn('list_mle_loss', { seed: 1, weightsFeatureName: 'weights' });
  const v = num(f(l, s, features));
  const candidates = [tieA, tieB].flatMap((a) => [secondA, secondB].map((b) => -(2 * a + b) / 2));
  t.true(candidates.some((c) => Math.abs(c - v) < 1e-5), `${v} in ${candidates}`);
  // Same seed: same sequence of shuffles, call after call.
  const g = makeLossFn('list_mle_loss', { seed: 1, weightsFeatureName: 'weights' });
  t.is(num(g(l, s, features)), v);
  const direct = listMleLoss(l, s, { weights: features.weights, seed: 9 });
  t.true(candidates.some((c) => Math.abs(c - num(direct)) < 1e-5));
});

test('make_loss_fn ApproxNDCG: alpha in extra args, reduction passed through (TF-Ranking test_make_approx_ndcg_fn)', (t) => {
  const s = [[1.4, -2.8, -0.4], [0, 1.8, 10.2], [1, 1.2, -3.2]];
  const l = [[0, 2, 1], [1, 0, 3], [0, 0, 0]];
  const w = { weights: [[2], [1], [1]] };
  const one = (1 / (3 / ln(2) + 1 / ln(3))) * (3 / ln(4) + 1 / ln(3));
  const two = (1 / (7 / ln(2) + 1 / ln(3))) * (7 / ln(2) + 1 / ln(4));
  near(t, makeLossFn('approx_ndcg_loss', { reduction: Reduction.SUM })(l, s, w), -(one + two));
  near(t, makeLossFn('approx_ndcg_loss', { reduction: Reduction.SUM, weightsFeatureName: 'weights' })(l, s, w), -(2 * one + two));
  // make_loss_fn's default reduction reaches ApproxNDCG too: mean over the 2 kept lists
  near(t, makeLossFn('approx_ndcg_loss')(l, s, w), -(one + two) / 2);
  t.not(num(makeLossFn('approx_ndcg_loss', { extraArgs: { alpha: 0.1 } })(l, s, w)), num(makeLossFn('approx_ndcg_loss', { extraArgs: { alpha: 100 } })(l, s, w)));
});

test('make_loss_fn result trains: an SGD step lowers the loss', (t) => {
  const logits = tf.variable(tf.tensor2d([[0.1, 0.4, 0.2], [0.3, 0.1, 0.2]]));
  const f = makeLossFn(['softmax_loss', 'pairwise_logistic_loss'], { lossWeights: [1, 0.5] });
  const l = [[2, 0, 1], [0, 1, -1]];
  const before = num(f(l, logits));
  const opt = tf.train.sgd(0.5);
  for (let i = 0; i < 5; i++) opt.minimize(() => f(l, logits));
  t.true(num(f(l, logits)) < before);
});
