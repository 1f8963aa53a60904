import test from 'ava';
import { ConfigError } from '../../src/errors.js';
import { batchSoftmaxLoss } from '../../src/nn/batch-softmax-loss.js';
import { inbatchAucLoss, inbatchAucLossGrad } from '../../src/nn/inbatch-auc-loss.js';
import { tf } from '../../src/nn/tf.js';
import { Rng } from '../../src/util/random.js';
import { near, num, useCpu } from './helpers.js';

test.before(useCpu);

/** The seed's formula, literally: exp(sim - log(freq)), -sum r * log(diag / rowsum). */
function refBatchSoftmax(q: number[][], v: number[][], interval: number[], r: number[], normalize: boolean, temperature: number): number {
  const norm = (x: number[]) => {
    const n = Math.sqrt(Math.max(x.reduce((a, y) => a + y * y, 0), 1e-12));
    return normalize ? x.map((y) => y / n) : x;
  };
  const qn = q.map(norm);
  const vn = v.map(norm);
  let loss = 0;
  qn.forEach((qi, i) => {
    const row = vn.map((vj, j) => Math.exp(qi.reduce((a, x, k) => a + x * vj[k]!, 0) / temperature - Math.log(1 / Math.max(interval[j]!, 1))));
    loss += r[i]! * Math.log(row[i]! / row.reduce((a, x) => a + x, 0));
  });
  return -loss;
}

test('batch_softmax_loss equals the seed formula on seeded 4x3 inputs (normalize on and off, temperature)', (t) => {
  const rng = new Rng(20240611);
  const q = Array.from({ length: 4 }, () => Array.from({ length: 3 }, () => rng.float()));
  const v = Array.from({ length: 4 }, () => Array.from({ length: 3 }, () => rng.float()));
  const interval = Array.from({ length: 4 }, () => rng.int(1, 9));
  const ones = [1, 1, 1, 1];
  const args = [tf.tensor2d(q), tf.tensor2d(v), tf.tensor1d(interval), tf.tensor1d(ones)] as const;
  near(t, batchSoftmaxLoss(...args), refBatchSoftmax(q, v, interval, ones, true, 1));
  near(t, batchSoftmaxLoss(...args, { normalize: false, temperature: 0.5 }), refBatchSoftmax(q, v, interval, ones, false, 0.5));
  // intervals below 1 (e.g. the zero of a first lookup) count as 1; r weighs each row
  const r = [0.5, 2, 1, 0];
  near(t, batchSoftmaxLoss(args[0], args[1], tf.tensor1d([0, 3, 0.2, 5]), tf.tensor1d(r)), refBatchSoftmax(q, v, [0, 3, 0.2, 5], r, true, 1));
});

test('batch_softmax_loss: temperature must be positive (the seed message); shapes checked; differentiable', (t) => {
  const q = tf.tensor2d([[1, 0], [0, 1]]);
  t.throws(() => batchSoftmaxLoss(q, q, tf.tensor1d([1, 1]), tf.tensor1d([1, 1]), { temperature: 0 }), {
    instanceOf: ConfigError,
    message: 'temperature should be positive, while got 0',
  });
  t.throws(() => batchSoftmaxLoss(q, tf.tensor2d([[1, 0, 0]]), tf.tensor1d([1, 1]), tf.tensor1d([1, 1])), { instanceOf: ConfigError });
  const g = tf.grads((a, b) => batchSoftmaxLoss(a!, b!, tf.tensor1d([1, 2]), tf.tensor1d([1, 1]), { normalize: false }))([q, tf.tensor2d([[0.5, 0.1], [0.2, 0.3]])]);
  t.true(g.every((x) => Array.from(x.dataSync()).every(Number.isFinite)));
  // no overflow where exp() of the seed's formula would be infinite
  const big = tf.tensor2d([[100, 0], [0, 100]]);
  t.true(Number.isFinite(num(batchSoftmaxLoss(big, big, tf.tensor1d([1, 1]), tf.tensor1d([1, 1]), { normalize: false }))));
});

const label = [1, 0, 0, 1];
const logit = [0.5, -0.2, -0.4, 0.8];

test('inbatch_auc_loss: sum of log sigmoid over positive/negative pairs (seed test_inbatch_auc_loss)', (t) => {
  let truth = 0;
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) if (label[i]! > 0 && !(label[j]! > 0)) truth += Math.log(1 / (1 + Math.exp(-(logit[i]! - logit[j]!))));
  near(t, inbatchAucLoss(label, tf.tensor1d(logit)), truth, 1e-6);
});

test('inbatch_auc_loss gradient with grad = 2 (seed test_inbatch_auc_loss_grad), also through tf.grad', (t) => {
  const truth = [0, 0, 0, 0];
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      if (!(label[i]! > 0) || label[j]! > 0) continue;
      const g = 1 - 1 / (1 + Math.exp(-(logit[i]! - logit[j]!)));
      truth[i] += g;
      truth[j] -= g;
    }
  }
  const twice = truth.map((x) => 2 * x);
  near(t, inbatchAucLossGrad(label, logit, 2, 1), twice, 1e-6);
  near(t, tf.grad((x) => tf.mul(inbatchAucLoss(label, x), 2))(tf.tensor1d(logit)), twice, 1e-6);
  // neg_weight scales what reaches the negatives only
  const half = inbatchAucLossGrad(label, logit, 1, 0.5);
  near(t, half, truth.map((x, i) => (label[i]! > 0 ? x : x * 0.5)), 1e-6);
});

test('inbatch_auc_loss: labels <= -10000 are ignored, extreme differences clipped as the kernel, bad inputs refused', (t) => {
  near(t, inbatchAucLoss([1, 0, -20000], tf.tensor1d([0.3, 0.1, 5])), Math.log(1 / (1 + Math.exp(-0.2))), 1e-6);
  near(t, inbatchAucLoss([1, 0], tf.tensor1d([0, 100])), -100, 1e-6);
  near(t, inbatchAucLoss([1, 0], tf.tensor1d([100, 0])), 0, 1e-6);
  near(t, inbatchAucLossGrad([1, 0], [0, 100], 1), [1, -1]);
  near(t, inbatchAucLossGrad([1, 0], [100, 0], 1), [0, 0]);
  t.throws(() => inbatchAucLoss([1, 0], tf.tensor1d([1, 2, 3])), { instanceOf: ConfigError });
  t.throws(() => inbatchAucLoss([1, 0], tf.tensor1d([1, 2]), { negWeight: 0 }), { instanceOf: ConfigError });
  t.throws(() => inbatchAucLoss([1, 0], tf.tensor1d([1, 2]), { negWeight: 1.5 }), { instanceOf: ConfigError });
});
