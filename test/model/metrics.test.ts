import test from 'ava';
import { StreamingAuc } from '../../src/model/metrics/streaming-auc.js';
import { StreamingMse } from '../../src/model/metrics/streaming-mse.js';
import { ConfigError } from '../../src/errors.js';

test('AUC by hand: 3 of 4 positive/negative pairs ordered right', (t) => {
  const auc = new StreamingAuc();
  auc.update([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
  t.is(auc.result(), 0.75);
});

test('AUC: ties count one half, updates stream, labels are non-zero = positive', (t) => {
  const auc = new StreamingAuc();
  auc.update([1, 0], [0.5, 0.5]);
  t.is(auc.result(), 0.5);
  auc.update([2, 0, 0], [0.9, 0.2, 0.5]);
  // positives {0.5, 0.9}, negatives {0.5, 0.2, 0.5}: 0.5 beats 0.2 and ties two 0.5s → 2; 0.9 beats all 3 → 3.
  t.is(auc.result(), 5 / 6);
  t.is(auc.count, 5);
});

test('AUC: weights count as repeated rows; one class only is NaN; grows past its first buffer', (t) => {
  const a = new StreamingAuc();
  a.update([1, 0, 0], [0.3, 0.1, 0.6], [1, 2, 1]);
  const b = new StreamingAuc();
  b.update([1, 0, 0, 0], [0.3, 0.1, 0.1, 0.6]);
  t.is(a.result(), b.result());
  t.is(a.result(), 2 / 3);
  const one = new StreamingAuc();
  one.update([1, 1], [0.2, 0.3]);
  t.true(Number.isNaN(one.result()));
  const big = new StreamingAuc();
  const n = 5000;
  big.update(Array.from({ length: n }, (_, i) => i % 2), Array.from({ length: n }, (_, i) => i));
  // label 1 at odd i: each positive at i beats (i + 1) / 2 negatives.
  let wins = 0;
  for (let i = 1; i < n; i += 2) wins += (i + 1) / 2;
  t.is(big.result(), wins / (2500 * 2500));
  t.throws(() => big.update([1], [0.1, 0.2]), { instanceOf: ConfigError });
  big.reset();
  t.is(big.count, 0);
});

test('MSE: streaming and weighted', (t) => {
  const m = new StreamingMse();
  t.is(m.result(), 0);
  m.update([1, 2], [1, 4]);
  t.is(m.result(), 2);
  m.update([0], [3], [2]);
  t.is(m.result(), (0 + 4 + 2 * 9) / 4);
  m.reset();
  t.is(m.result(), 0);
});
