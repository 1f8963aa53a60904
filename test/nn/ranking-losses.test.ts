import test from 'ava';
import { ConfigError } from '../../src/errors.js';
import { approxNdcgLoss } from '../../src/nn/approx-ndcg-loss.js';
import { DCGLambdaWeight, createNdcgLambdaWeight } from '../../src/nn/dcg-lambda-weight.js';
import { createPListMleLambdaWeight } from '../../src/nn/list-mle-lambda-weight.js';
import { listMleLoss } from '../../src/nn/list-mle-loss.js';
import { meanSquaredLoss } from '../../src/nn/mean-squared-loss.js';
import { pairwiseHingeLoss } from '../../src/nn/pairwise-hinge-loss.js';
import { pairwiseLogisticLoss } from '../../src/nn/pairwise-logistic-loss.js';
import type { PairwiseLossOptions } from '../../src/nn/pairwise-loss.js';
import { pairwiseSoftZeroOneLoss } from '../../src/nn/pairwise-soft-zero-one-loss.js';
import { Reduction } from '../../src/nn/reduction.js';
import { sigmoidCrossEntropyLoss } from '../../src/nn/sigmoid-cross-entropy-loss.js';
import { softmaxLoss } from '../../src/nn/softmax-loss.js';
import { tf, type Tensor } from '../../src/nn/tf.js';
import type { MatrixLike } from '../../src/nn/matrix.js';
import { ln, near, num, numericGrad, useCpu } from './helpers.js';

test.before(useCpu);

// ---- An independent reference of the pairwise losses, in plain JS (as TF-Ranking's own test computes them). ----
type Form = 'hinge' | 'logistic' | 'soft01';
const pairLoss: Record<Form, (d: number) => number> = {
  hinge: (d) => Math.max(0, 1 - d),
  logistic: (d) => Math.log(1 + Math.exp(-d)),
  soft01: (d) => 1 / (1 + Math.exp(d)),
};

/** Sum of weighted pair losses, sum of pair weights and the number of non-zero pair weights of one list. */
function refPairwise(labels: number[], scores: number[], weights: number[], form: Form, discount?: (rank: number) => number): [number, number, number] {
  const items = scores.map((s, i) => ({ s, l: labels[i]!, w: weights[i]!, i }));
  items.sort((a, b) => b.s - a.s || a.i - b.i);
  let loss = 0;
  let weight = 0;
  let count = 0;
  items.forEach((a, i) => items.forEach((b, j) => {
    if (!(a.l > b.l)) return;
    let delta = Math.abs(a.l - b.l);
    if (discount) delta *= Math.abs(discount(i + 1) - discount(j + 1));
    if (a.w > 0) {
      loss += pairLoss[form](a.s - b.s) * delta * a.w;
      weight += delta * a.w;
      if (delta * a.w > 0) count += 1;
    }
  }));
  return [loss, weight, count];
}
const byNonzero = (parts: [number, number, number][]) => parts.reduce((a, p) => a + p[0], 0) / parts.reduce((a, p) => a + p[2], 0);

const scores = [[1, 3, 2], [1, 2, 3]];
const labels = [[0, 0, 1], [0, 0, 2]];
const listwise = [[2], [1]];
const itemwise = [[2, 3, 4], [1, 1, 1]];
const ones = [1, 1, 1];

const pairwiseFns: [Form, (l: MatrixLike, s: MatrixLike, o?: PairwiseLossOptions) => Tensor][] = [
  ['hinge', pairwiseHingeLoss],
  ['logistic', pairwiseLogisticLoss],
  ['soft01', pairwiseSoftZeroOneLoss],
];

for (const [form, fn] of pairwiseFns) {
  test(`pairwise ${form} loss: single lists, itemwise / listwise weights, LambdaMART weight x list_size, reductions (TF-Ranking _check_pairwise_loss)`, (t) => {
    near(t, fn([labels[0]!], [scores[0]!]), byNonzero([refPairwise(labels[0]!, scores[0]!, ones, form)]));
    near(t, fn([labels[1]!], [scores[1]!]), byNonzero([refPairwise(labels[1]!, scores[1]!, ones, form)]));
    near(t, fn([labels[0]!], [scores[0]!], { weights: [itemwise[0]!] }), byNonzero([refPairwise(labels[0]!, scores[0]!, itemwise[0]!, form)]));
    near(t, fn([labels[1]!], [scores[1]!], { weights: [itemwise[1]!] }), byNonzero([refPairwise(labels[1]!, scores[1]!, itemwise[1]!, form)]));
    const both = [refPairwise(labels[0]!, scores[0]!, [2, 2, 2], form), refPairwise(labels[1]!, scores[1]!, [1, 1, 1], form)];
    near(t, fn(labels, scores, { weights: listwise }), byNonzero(both));
    const log = (r: number) => 1 / Math.log1p(r);
    const lambdaWeight = new DCGLambdaWeight({ rankDiscountFn: log, smoothFraction: 1 });
    const lambdaParts = [refPairwise(labels[0]!, scores[0]!, [2, 2, 2], form, log), refPairwise(labels[1]!, scores[1]!, [1, 1, 1], form, log)];
    near(t, fn(labels, scores, { weights: listwise, lambdaWeight }), byNonzero(lambdaParts) * 3);
    near(t, fn(labels, scores, { weights: listwise, lambdaWeight, lambdaScale: false }), byNonzero(lambdaParts), 1e-5, 'lambda_scale false');
    // SUM and MEAN by hand
    near(t, fn(labels, scores, { weights: listwise, reduction: Reduction.SUM }), both[0]![0] + both[1]![0]);
    near(t, fn(labels, scores, { weights: listwise, reduction: Reduction.MEAN }), (both[0]![0] + both[1]![0]) / (both[0]![1] + both[1]![1]));
    t.not(num(fn(labels, scores, { reduction: Reduction.SUM })), num(fn(labels, scores, { reduction: Reduction.MEAN })));
  });
}

test('pairwise logistic loss with an invalid label (TF-Ranking)', (t) => {
  near(t, pairwiseLogisticLoss([[0, -1, 1]], [[1, 3, 2]]), Math.log(1 + Math.exp(-1)));
});

test('pairwise loss with graded labels: |l_i - l_j| weighs pairs (TF-Ranking v0.1)', (t) => {
  // pairs (label 3 > 1), (3 > 0), (1 > 0); weights 2, 3, 1 -> nonzero count 3
  const s = [0.5, 0.2, -0.3];
  const expected = (2 * Math.max(0, 1 - (0.5 - 0.2)) + 3 * Math.max(0, 1 - (0.5 + 0.3)) + 1 * Math.max(0, 1 - (0.2 + 0.3))) / 3;
  near(t, pairwiseHingeLoss([[3, 1, 0]], [s]), expected);
});

test('pairwise hinge loss with an NDCG@2 lambda weight, by hand', (t) => {
  // sorted by logits: 0.9 (label 0), 0.5 (label 1), 0.2 (label 2); ideal DCG@2 = 3/ln2 + 1/ln3
  const inv = 1 / (3 / ln(2) + 1 / ln(3));
  const d1 = 1 / ln(2) - 1 / ln(3); // |D(1) - D(2)|, rank difference 1
  const d2 = 1 / ln(3) - 1 / ln(4); // |D(2) - D(3)|, rank difference 2
  const pairs = [
    { w: inv * 1 * d1, loss: 1 + 0.4 }, // label 1 over label 0: d = 0.5 - 0.9
    { w: inv * 3 * d2, loss: 1 + 0.7 }, // label 2 over label 0: d = 0.2 - 0.9
    { w: inv * 2 * d1, loss: 1 + 0.3 }, // label 2 over label 1: d = 0.2 - 0.5
  ];
  const expected = (3 * pairs.reduce((a, p) => a + p.w * p.loss, 0)) / 3;
  near(t, pairwiseHingeLoss([[1, 2, 0]], [[0.5, 0.2, 0.9]], { lambdaWeight: createNdcgLambdaWeight({ topn: 2 }) }), expected);
});

test('pairwise loss gradient equals finite differences', (t) => {
  const x0 = [[0.3, -0.2, 0.9, 0.1]];
  const l = [[2, 0, 1, -1]];
  const lw = createNdcgLambdaWeight();
  const f = (x: Tensor) => pairwiseLogisticLoss(l, x, { lambdaWeight: lw });
  near(t, tf.grad(f)(tf.tensor2d(x0)), numericGrad(f, x0), 2e-3);
});

function softmax(v: number[]): number[] {
  const z = v.reduce((a, x) => a + Math.exp(x), 0);
  return v.map((x) => Math.exp(x) / z);
}

test('softmax loss (TF-Ranking test_softmax_loss): plain, listwise weights, DCG lambda weight, all-zero list dropped', (t) => {
  const s = [[1, 3, 2], [1, 2, 3], [1, 2, 3]];
  const l = [[0, 0, 1], [0, 0, 2], [0, 0, 0]];
  near(t, softmaxLoss(l, s), -(ln(softmax(s[0]!)[2]!) + ln(softmax(s[1]!)[2]!) * 2) / 2);
  near(t, softmaxLoss(l, s, { weights: [[2], [1], [1]] }), -(ln(softmax(s[0]!)[2]!) * 2 + ln(softmax(s[1]!)[2]!) * 2 * 1) / 2);
  const lambdaWeight = new DCGLambdaWeight({ rankDiscountFn: (r) => 1 / Math.log1p(r) });
  near(t, softmaxLoss(l, s, { lambdaWeight }), -(ln(softmax(s[0]!)[2]!) / ln(1 + 2) + (ln(softmax(s[1]!)[2]!) * 2) / ln(1 + 1)) / 2);
});

test('softmax loss with an invalid label: the item leaves the softmax (TF-Ranking)', (t) => {
  near(t, softmaxLoss([[0, -1, 1]], [[1, 3, 2]]), -ln(softmax([1, 2])[1]!));
  near(t, softmaxLoss([[0, 0, 0]], [[1, 3, 2]]), 0, 1e-7, 'no positive label: 0, not NaN');
});

test('softmax loss gradient: softmax - normalized labels', (t) => {
  const s = [1, 3, 2];
  const g = tf.grad((x) => softmaxLoss([[0, 1, 1]], x, { reduction: Reduction.SUM }))(tf.tensor2d([s]));
  const p = softmax(s);
  // weight = label sum 2, target = [0, .5, .5]
  near(t, g, p.map((pi, i) => 2 * (pi - [0, 0.5, 0.5][i]!)));
});

const sce = (l: number[], s: number[]) => l.reduce((a, z, i) => a + Math.max(s[i]!, 0) - s[i]! * z + Math.log(1 + Math.exp(-Math.abs(s[i]!))), 0);
const mse = (l: number[], s: number[]) => l.reduce((a, z, i) => a + (s[i]! - z) ** 2, 0);

test('sigmoid cross entropy and mean squared losses (TF-Ranking), incl. invalid labels', (t) => {
  const s = [[0.2, 0.5, 0.3], [0.2, 0.3, 0.5], [0.2, 0.3, 0.5]];
  const l = [[0, 0, 1], [0, 0, 2], [0, 0, 0]];
  const w = [[2], [1], [1]];
  near(t, sigmoidCrossEntropyLoss(l, s), (sce(l[0]!, s[0]!) + sce(l[1]!, s[1]!) + sce(l[2]!, s[2]!)) / 9);
  near(t, sigmoidCrossEntropyLoss(l, s, { weights: w }), (sce(l[0]!, s[0]!) * 2 + sce(l[1]!, s[1]!) + sce(l[2]!, s[2]!)) / 9);
  near(t, meanSquaredLoss(l, s), (mse(l[0]!, s[0]!) + mse(l[1]!, s[1]!) + mse(l[2]!, s[2]!)) / 9);
  near(t, meanSquaredLoss(l, s, { weights: w }), (mse(l[0]!, s[0]!) * 2 + mse(l[1]!, s[1]!) + mse(l[2]!, s[2]!)) / 9);
  near(t, sigmoidCrossEntropyLoss([[0, -1, 1]], [[1, 3, 2]]), (Math.log(1 + Math.exp(-2)) + Math.log(1 + Math.exp(1))) / 2);
  near(t, meanSquaredLoss([[0, -1, 1]], [[1, 3, 2]]), (1 + 1) / 2);
});

test('sigmoid cross entropy gradient at logit 0 is sigmoid(0) - label, as TF', (t) => {
  const g = tf.grad((x) => sigmoidCrossEntropyLoss([[1, 0]], x, { reduction: Reduction.SUM }))(tf.tensor2d([[0, 0]]));
  near(t, g, [-0.5, 0.5]);
});

test('ListMLE loss (TF-Ranking test_list_mle_loss): distinct labels give the Plackett-Luce likelihood of the label order', (t) => {
  const s = [[0, ln(3), ln(2)], [0, ln(2), ln(3)]];
  const l = [[0, 2, 1], [1, 0, 2]];
  const first = ln(3 / (3 + 2 + 1)) + ln(2 / (2 + 1)) + ln(1 / 1);
  const second = ln(3 / (3 + 2 + 1)) + ln(1 / (1 + 2)) + ln(2 / 2);
  near(t, listMleLoss(l, s, { seed: 1 }), -(first + second) / 2);
  near(t, listMleLoss(l, s, { weights: [[2], [1]], seed: 1 }), -(2 * first + 1 * second) / 2);
  const lw = createPListMleLambdaWeight(3);
  near(t, listMleLoss(l, s, { lambdaWeight: lw, seed: 1 }), -((3 * ln(3 / 6) + 1 * ln(2 / 3) + 0) + (3 * ln(3 / 6) + 1 * ln(1 / 3) + 0)) / 2);
});

test('ListMLE loss: label ties are ordered by the seeded shuffle (reproducible, each order possible)', (t) => {
  const s = [[0, ln(3), ln(2)]];
  const l = [[0, 0, 1]];
  // label-1 item (exp 2) first, then the two zeros in either order
  const a = -(ln(2 / 6) + ln(3 / 4) + ln(1));
  const b = -(ln(2 / 6) + ln(1 / 4) + ln(1));
  const seen = new Set<string>();
  for (let seed = 0; seed < 16; seed++) {
    const v = num(listMleLoss(l, s, { seed }));
    t.true(Math.abs(v - a) < 1e-5 || Math.abs(v - b) < 1e-5, `seed ${seed}: ${v}`);
    t.is(num(listMleLoss(l, s, { seed })), v);
    seen.add(v.toFixed(4));
  }
  t.is(seen.size, 2);
});

test('ListMLE loss: invalid items add nothing; itemwise weights are refused', (t) => {
  const s = [[0, ln(3), 7, ln(2)]];
  const l = [[0, 2, -1, 1]];
  near(t, listMleLoss(l, s, { seed: 3 }), -(ln(3 / 6) + ln(2 / 3) + ln(1)), 1e-4);
  t.throws(() => listMleLoss([[1, 0]], [[1, 2]], { weights: [[1, 2]] }), { instanceOf: ConfigError });
});

test('ListMLE gradient equals finite differences', (t) => {
  const x0 = [[0.3, -0.2, 0.9]];
  const f = (x: Tensor) => listMleLoss([[2, 0, 1]], x, { seed: 5 });
  near(t, tf.grad(f)(tf.tensor2d(x0)), numericGrad(f, x0), 2e-3);
});

test('ApproxNDCG loss (TF-Ranking test_approx_ndcg_loss): SUM by default, listwise weights, zero lists dropped', (t) => {
  const s = [[1.4, -2.8, -0.4], [0, 1.8, 10.2], [1, 1.2, -3.2]];
  const l = [[0, 2, 1], [1, 0, 3], [0, 0, 0]];
  const one = (1 / (3 / ln(2) + 1 / ln(3))) * (3 / ln(4) + 1 / ln(3));
  const two = (1 / (7 / ln(2) + 1 / ln(3))) * (7 / ln(2) + 1 / ln(4));
  near(t, approxNdcgLoss(l, s), -(one + two));
  near(t, approxNdcgLoss(l, s, { weights: [[2], [1], [1]] }), -(2 * one + 1 * two));
  near(t, approxNdcgLoss(l, s, { reduction: Reduction.SUM_BY_NONZERO_WEIGHTS }), -(one + two) / 2);
  t.not(num(approxNdcgLoss(l, s, { alpha: 0.1 })), num(approxNdcgLoss(l, s, { alpha: 100 })));
  // an invalid item sits below every valid one
  near(t, approxNdcgLoss([[0, 2, -1, 1]], [[1.4, -2.8, 50, -0.4]]), -one);
});

test('ApproxNDCG gradient equals finite differences', (t) => {
  const x0 = [[0.3, -0.2, 0.5]];
  const f = (x: Tensor) => approxNdcgLoss([[2, 0, 1]], x, { alpha: 2 });
  near(t, tf.grad(f)(tf.tensor2d(x0)), numericGrad(f, x0), 2e-3);
});

test('shape errors are ConfigErrors', (t) => {
  t.throws(() => softmaxLoss([[1, 0]], [[1, 2, 3]]), { instanceOf: ConfigError });
  t.throws(() => pairwiseHingeLoss([[1, 0]], tf.tensor1d([1, 2])), { instanceOf: ConfigError });
  t.throws(() => pairwiseHingeLoss([[1, 0]], [[1, 2]], { weights: [[1, 2, 3]] }), { instanceOf: ConfigError });
});

test('no tensors leak from a loss call', (t) => {
  const l = tf.tensor2d([[0, 1, 2]]);
  const s = tf.tensor2d([[0.1, 0.2, 0.3]]);
  const before = tf.memory().numTensors;
  for (const f of [pairwiseHingeLoss, softmaxLoss, sigmoidCrossEntropyLoss, meanSquaredLoss, listMleLoss, approxNdcgLoss]) f(l, s).dispose();
  t.is(tf.memory().numTensors, before);
});
