import test from 'ava';
import { ConfigError } from '../../src/errors.js';
import { EmbeddingHashTable } from '../../src/hashtable/embedding-hash-table.js';
import { adagradOptimizer } from '../../src/hashtable/optimizers/adagrad.js';
import { LearningRateFunction, pythonStr, toTableLearningRate } from '../../src/nn/learning-rate-function.js';
import { PolynomialDecay } from '../../src/nn/polynomial-decay.js';
import { ScheduledOptimizer } from '../../src/nn/scheduled-optimizer.js';
import { tf } from '../../src/nn/tf.js';
import { near, useCpu } from './helpers.js';

test.before(useCpu);

test('PolynomialDecay test_basic: 0.02 at step 1, 0.03 at step 2; equal configs print equal', (t) => {
  const lr = new PolynomialDecay({ initialLearningRate: 0.01, decaySteps: 10, endLearningRate: 0.11 });
  near(t, lr.valueAt(1), 0.02, 1e-9);
  near(t, lr.valueAt(2), 0.03, 1e-9);
  const lr2 = new PolynomialDecay({ initialLearningRate: 0.01, decaySteps: 10, endLearningRate: 0.11 });
  t.is(String(lr), String(lr2));
  t.is(String(lr), 'LearningRateFunction("PolynomialDecay",Params:cycle=False,decay_steps=10,end_learning_rate=0.11,initial_learning_rate=0.01,name=None,power=1.0)');
  t.not(String(lr), String(new PolynomialDecay({ initialLearningRate: 0.01, decaySteps: 10, endLearningRate: 0.11, cycle: true })));
});

test('PolynomialDecay follows tf.train.polynomial_decay: clamps after decay_steps, cycle restarts', (t) => {
  const f = (step: number, cycle: boolean) => new PolynomialDecay({ initialLearningRate: 1, decaySteps: 10, endLearningRate: 0, power: 2, cycle }).valueAt(step);
  near(t, f(5, false), 0.25, 1e-12);
  near(t, f(25, false), 0, 1e-12);
  near(t, f(0, true), 1, 1e-12);
  near(t, f(15, true), (1 - 15 / 20) ** 2, 1e-12);
  near(t, f(20, true), 0, 1e-12);
  near(t, f(21, true), (1 - 21 / 30) ** 2, 1e-12);
  t.throws(() => new PolynomialDecay({ initialLearningRate: 1, decaySteps: 0 }), { instanceOf: ConfigError });
  const d = new PolynomialDecay({ initialLearningRate: 1, decaySteps: 4 });
  t.is(d.endLearningRate, 0.0001);
  t.is(d.power, 1);
  t.is(d.cycle, false);
  t.is(d.name, null);
});

test('python-style parameter printing', (t) => {
  t.is(pythonStr(3, true), '3.0');
  t.is(pythonStr(3), '3');
  t.is(pythonStr(1e-5, true), '1e-05');
  t.is(pythonStr(0.0001, true), '0.0001');
  t.is(pythonStr(null), 'None');
  t.is(pythonStr(true), 'True');
});

test('a hash table takes the function as plain data: same rate as the function at each step', (t) => {
  const lr = new PolynomialDecay({ initialLearningRate: 0.1, decaySteps: 10, endLearningRate: 1.1 });
  const data = toTableLearningRate(lr);
  t.deepEqual(JSON.parse(JSON.stringify(data)), data, 'structured-clone / JSON safe');
  t.is(String(PolynomialDecay.fromConfig(lr.toTableLearningRate())), String(lr));
  t.is(toTableLearningRate(0.3), 0.3);
  const table = EmbeddingHashTable.create({ entry: { segments: [{ dimSize: 1, optConfig: { sgd: {} }, initConfig: { zeros: {} } }] }, learningRates: [data] });
  table.applyGradients([1], Float32Array.from([1]), { globalStep: 5 });
  near(t, table.lookupOnly([1]), [-lr.valueAt(5)]);
  class Constant extends LearningRateFunction {
    valueAt(): number {
      return 1;
    }
    protected params() {
      return { value: { value: 1, float: true } };
    }
  }
  t.throws(() => toTableLearningRate(new Constant()), { instanceOf: ConfigError });
  t.is(String(new Constant()), 'LearningRateFunction("Constant",Params:value=1.0)');
});

// test_dense_optimizer: Adagrad(PolynomialDecay(3 -> 11 over 10 steps), initial accumulator 0.1), 3 steps at global step 0.
const expected0 = [-1.6026098728179932, -0.6026098728179932];
const expected1 = [2.715679168701172, 3.715679168701172];

test('test_dense_optimizer with the hash table\'s Adagrad', (t) => {
  const lr = new PolynomialDecay({ initialLearningRate: 3, decaySteps: 10, endLearningRate: 11 });
  const adagrad = adagradOptimizer({ initialAccumulatorValue: 0.1 }, 2);
  const rows = new Float32Array(2 * (2 + adagrad.stateWords));
  const stride = 2 + adagrad.stateWords;
  rows.set([1, 2], 0);
  rows.set([3, 4], stride);
  adagrad.init(rows, 2);
  adagrad.init(rows, stride + 2);
  const g0 = Float32Array.from([0.1, 0.1]);
  const g1 = Float32Array.from([0.01, 0.01]);
  for (let i = 0; i < 3; i++) {
    const globalStep = 0; // apply_gradients without global_step does not advance it
    adagrad.apply(rows, 0, 2, g0, 0, lr.valueAt(globalStep), globalStep);
    adagrad.apply(rows, stride, stride + 2, g1, 0, lr.valueAt(globalStep), globalStep);
  }
  near(t, rows.subarray(0, 2), expected0, 1e-6);
  near(t, rows.subarray(stride, stride + 2), expected1, 1e-6);
});

test('test_dense_optimizer with a tfjs Adagrad driven by ScheduledOptimizer, and the rate follows the step', (t) => {
  const lr = new PolynomialDecay({ initialLearningRate: 3, decaySteps: 10, endLearningRate: 11 });
  const var0 = tf.variable(tf.tensor1d([1, 2]), true, 'var0');
  const var1 = tf.variable(tf.tensor1d([3, 4]), true, 'var1');
  const opt = new ScheduledOptimizer(tf.train.adagrad(1, 0.1), lr);
  for (let i = 0; i < 3; i++) opt.applyGradients({ var0: tf.tensor1d([0.1, 0.1]), var1: tf.tensor1d([0.01, 0.01]) });
  // tfjs adds epsilon 1e-7 under the square root; TF's Adagrad does not.
  near(t, var0, expected0, 1e-5);
  near(t, var1, expected1, 1e-5);
  opt.setGlobalStep(5);
  t.is(opt.currentLearningRate(), lr.valueAt(5));
  const sgd = new ScheduledOptimizer(tf.train.sgd(123), lr);
  const w = tf.variable(tf.scalar(0), true, 'w');
  sgd.setGlobalStep(5);
  sgd.applyGradients({ w: tf.scalar(1) });
  near(t, w, -lr.valueAt(5), 1e-6);
});
