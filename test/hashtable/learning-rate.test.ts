import test from 'ava';
import { learningRateAt, learningRateToString, polynomialDecay } from '../../src/hashtable/learning-rate.js';

test('PolynomialDecay test_basic: 0.01 -> 0.11 over 10 steps gives 0.02, 0.03', (t) => {
  const lr = polynomialDecay({ initialLearningRate: 0.01, decaySteps: 10, endLearningRate: 0.11 });
  t.true(Math.abs(learningRateAt(lr, 1) - 0.02) < 1e-9);
  t.true(Math.abs(learningRateAt(lr, 2) - 0.03) < 1e-9);
  t.is(learningRateToString(lr), learningRateToString(polynomialDecay({ initialLearningRate: 0.01, decaySteps: 10, endLearningRate: 0.11 })));
});

test('without cycle the rate stays at the end value; with cycle it restarts (TF semantics)', (t) => {
  const base = { initialLearningRate: 1, decaySteps: 10, endLearningRate: 0, power: 2 };
  t.is(learningRateAt(polynomialDecay(base), 25), 0);
  const c = polynomialDecay({ ...base, cycle: true });
  t.is(learningRateAt(c, 0), 1);
  t.true(Math.abs(learningRateAt(c, 5) - 0.25) < 1e-12);
  t.true(Math.abs(learningRateAt(c, 10) - 0) < 1e-12);
  // step 15: decay_steps becomes 20, p = 0.75 -> (0.25)^2
  t.true(Math.abs(learningRateAt(c, 15) - 0.0625) < 1e-12);
  t.is(learningRateAt(0.3, 99), 0.3);
});
