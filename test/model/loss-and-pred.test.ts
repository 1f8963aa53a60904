import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../../src/errors.js';
import { getSigmoidLossAndPred, getSoftmaxLossAndPred } from '../../src/model/loss-and-pred.js';
import { useCpu } from './tf-setup.js';

test.before(useCpu);

const logits = () => tf.tensor2d([[0], [1], [-2]]);
const label = () => tf.tensor1d([1, 0, 1]);
const sig = (x: number) => 1 / (1 + Math.exp(-x));
const close = (t: { true(v: boolean, m?: string): void }, got: number, want: number, eps = 1e-5) => t.true(Math.abs(got - want) < eps, `${got} vs ${want}`);

// Expected values computed by hand with Python's math module: Σ max(x,0) − x·z + log1p(e^−|x|).
test('sigmoid loss: sum of cross-entropies; the batch size comes from the logits', (t) => {
  const { loss, pred } = getSigmoidLossAndPred({ name: 'ctr', logits: logits(), label: label(), batchSize: 99 });
  close(t, loss!.arraySync() as number, 4.13333687912114);
  t.deepEqual(pred.shape, [3]);
  (pred.arraySync() as number[]).forEach((p, i) => close(t, p, sig([0, 1, -2][i]!)));
});

test('sample rate (number, null, tensor) corrects the logits for the loss; pred before or after correction', (t) => {
  const half = getSigmoidLossAndPred({ logits: logits(), label: label(), sampleRate: 0.5 });
  close(t, half.loss!.arraySync() as number, 3.813857497828355);
  (half.pred.arraySync() as number[]).forEach((p, i) => close(t, p, sig([0, 1, -2][i]!)));
  const tensorRate = getSigmoidLossAndPred({ logits: logits(), label: label(), sampleRate: tf.tensor2d([[0.5], [0.5], [0.5]]) });
  close(t, tensorRate.loss!.arraySync() as number, 3.813857497828355);
  const none = getSigmoidLossAndPred({ logits: logits(), label: label(), sampleRate: null });
  close(t, none.loss!.arraySync() as number, 4.13333687912114);
  const after = getSigmoidLossAndPred({ logits: logits(), label: label(), sampleRate: 0.5, predictBeforeCorrection: false });
  (after.pred.arraySync() as number[]).forEach((p, i) => close(t, p, [0.6666666666666666, 0.8446375965030364, 0.21301395783840155][i]!));
  const biased = getSigmoidLossAndPred({ logits: logits(), label: label(), sampleRate: 0.5, sampleBias: true });
  close(t, biased.loss!.arraySync() as number, 3.2417745667576687);
});

test('logit_clip_threshold: validated in (0, 1) and clips the corrected logits to ±log((1−p)/p)', (t) => {
  const r = getSigmoidLossAndPred({ logits: tf.tensor1d([5, -5, 1]), label: tf.tensor1d([0, 1, 1]), logitClipThreshold: 0.1 });
  close(t, r.loss!.arraySync() as number, 4.918431873506314);
  close(t, (r.pred.arraySync() as number[])[0]!, sig(5), 1e-6);
  for (const bad of [0, 1, 1.5, -0.2]) {
    t.throws(() => getSigmoidLossAndPred({ logits: logits(), label: label(), logitClipThreshold: bad }), { instanceOf: ConfigError, message: /logit_clip_threshold/ });
  }
});

test('instance weights multiply, the mask drops rows', (t) => {
  const w = tf.tensor2d([[2], [0.5], [1]]);
  close(t, getSigmoidLossAndPred({ logits: logits(), label: label(), instanceWeight: w }).loss!.arraySync() as number, 4.169853215921975);
  const m = getSigmoidLossAndPred({ logits: logits(), label: label(), instanceWeight: w, mask: tf.tensor1d([1, 0, 1], 'bool') });
  close(t, m.loss!.arraySync() as number, 3.513222372162863);
});

test('PREDICT: no loss, plain sigmoid even with a sample rate', (t) => {
  const r = getSigmoidLossAndPred({ logits: logits(), label: label(), sampleRate: 0.01, mode: 'infer', predictBeforeCorrection: false });
  t.is(r.loss, null);
  (r.pred.arraySync() as number[]).forEach((p, i) => close(t, p, sig([0, 1, -2][i]!)));
});

test('the loss differentiates to sigmoid(corrected logit) − label', (t) => {
  const x = tf.tensor1d([0.3, -1.2]);
  const g = tf.grad((l: tf.Tensor) => getSigmoidLossAndPred({ logits: l, label: tf.tensor1d([1, 0]), sampleRate: 0.25 }).loss!)(x);
  const c = [0.3 - Math.log(0.25), -1.2 - Math.log(0.25)];
  (g.arraySync() as number[]).forEach((v, i) => close(t, v, sig(c[i]!) - [1, 0][i]!));
});

test('softmax: argmax prediction and per-row cross-entropy; none in PREDICT', (t) => {
  const l = tf.tensor2d([
    [1, 2, 3],
    [3, 1, 0],
  ]);
  const y = tf.tensor2d([
    [0, 0, 1],
    [1, 0, 0],
  ]);
  const r = getSoftmaxLossAndPred({ name: 'cls', logits: l, label: y, mode: 'train' });
  t.deepEqual(r.pred.arraySync(), [2, 0]);
  (r.loss!.arraySync() as number[]).forEach((v, i) => close(t, v, [0.40760596, 0.16984602][i]!));
  t.is(getSoftmaxLossAndPred({ logits: l, label: y, mode: 'infer' }).loss, null);
});
