import test from 'ava';
import { EmbeddingHashTable } from '../../src/hashtable/embedding-hash-table.js';
import { UnsupportedOperationError } from '../../src/hashtable/errors.js';
import { polynomialDecay } from '../../src/hashtable/learning-rate.js';
import { arr, close, f32, fakeClock, testEntry } from './helpers.js';

const fid = (slot: number, id: number): bigint => (BigInt(slot) << 48n) | BigInt(id);

test('random_uniform init is seeded per id: same values whatever the order or table', (t) => {
  const entry = { segments: [{ dimSize: 4, initConfig: { randomUniform: { minval: -0.5, maxval: 0.5 } } }] };
  const a = EmbeddingHashTable.create({ entry, seed: 7 });
  const b = EmbeddingHashTable.create({ entry, seed: 7, shards: 3 });
  const c = EmbeddingHashTable.create({ entry, seed: 8 });
  const va = a.lookup([1, 2, 3]);
  const vb = b.lookup([3, 2, 1]);
  t.deepEqual(arr(va.subarray(0, 4)), arr(vb.subarray(8, 12)));
  t.true(arr(va).every((x) => x >= -0.5 && x < 0.5));
  t.notDeepEqual(arr(c.lookup([1])), arr(va.subarray(0, 4)));
});

test('constants, ones and truncated normal initializers', (t) => {
  const tn = EmbeddingHashTable.create({
    entry: { segments: [{ dimSize: 1, initConfig: { constants: { constant: 2.5 } } }, { dimSize: 1, initConfig: { ones: {} } }, { dimSize: 200, initConfig: { truncatedNormal: { mean: 1, stddev: 0.1 } } }] },
  });
  const v = tn.lookup([42]);
  t.is(v[0], 2.5);
  t.is(v[1], 1);
  const rest = arr(v.subarray(2));
  t.true(rest.every((x) => Math.abs(x - 1) <= 0.2 + 1e-6));
  const mean = rest.reduce((a, b) => a + b, 0) / rest.length;
  t.true(Math.abs(mean - 1) < 0.03);
});

test('learning rate from PolynomialDecay at the global step (multi_type test_apply_gradients_with_learning_rate_decay)', (t) => {
  const lr = polynomialDecay({ initialLearningRate: 0.1, decaySteps: 10, endLearningRate: 1.1 });
  const table = EmbeddingHashTable.create({ entry: testEntry(2), learningRates: [lr] });
  table.applyGradients([1, 2], f32([1, 3, 2, 4]), { globalStep: 0 });
  t.true(close(table.lookupOnly([1, 2]), [-0.1, -0.3, -0.2, -0.4]));
  table.applyGradients([1], f32([1, 0]), { globalStep: 5 }); // lr = 0.6
  t.true(close(table.lookupOnly([1]), [-0.7, -0.3]));
});

test('warmup_steps ramps the learning rate linearly', (t) => {
  const table = EmbeddingHashTable.create({ entry: testEntry(1, { sgd: { learningRate: 1, warmupSteps: 4 } }) });
  table.applyGradients([1], f32([1]), { globalStep: 0 });
  t.true(close(table.lookupOnly([1]), [-0.25]));
});

test('multi-segment entries: per-segment optimizers and learning rates', (t) => {
  const table = EmbeddingHashTable.create({
    entry: { segments: [{ dimSize: 1, optConfig: { sgd: { learningRate: 1 } } }, { dimSize: 2, optConfig: { sgd: { learningRate: 0.5 } } }] },
  });
  table.applyGradients([3], f32([1, 1, 1]));
  t.deepEqual(arr(table.lookupOnly([3])), [-1, -0.5, -0.5]);
  t.is(table.layout.stride, 4);
});

test('occurrence threshold: an id is admitted after it was seen `threshold` times; until then zeros and no gradients', (t) => {
  const table = EmbeddingHashTable.create({
    entry: { segments: [{ dimSize: 1, initConfig: { ones: {} }, optConfig: { sgd: { learningRate: 1 } } }] },
    occurrenceThreshold: { default: 0, slots: { 5: 2 } },
  });
  const a = fid(5, 1);
  const free = fid(6, 1);
  t.deepEqual(arr(table.lookup([a, free])), [0, 1]);
  table.applyGradients([a], f32([1]));
  t.deepEqual(arr(table.lookup([a])), [0]);
  t.is(table.size, 1);
  t.deepEqual(arr(table.lookup([a])), [1]); // third sighting: seen twice before
  t.is(table.size, 2);
  table.applyGradients([a], f32([1]));
  t.deepEqual(arr(table.lookupOnly([a])), [0]);
});

test('occurrence thresholds also come as Monolith SlotOccurrenceThresholdConfig', (t) => {
  const table = EmbeddingHashTable.create({
    entry: testEntry(1),
    occurrenceThreshold: { defaultOccurrenceThreshold: 1, slotOccurrenceThresholds: [{ slot: 2, occurrenceThreshold: 0 }] },
  });
  table.lookup([fid(1, 1), fid(2, 1)]);
  t.is(table.size, 1);
});

test('evict removes entries older than their slot expire time against an injected clock', (t) => {
  const clock = fakeClock();
  const table = EmbeddingHashTable.create({ entry: testEntry(1), expireTime: { default: 10, slots: { 3: 1 } }, shards: 2 }, { clock: clock.now });
  table.assign([fid(3, 1), fid(4, 1)], f32([1, 2]));
  clock.advance(86400 - 1);
  t.is(table.evict(), 0);
  table.assign([fid(3, 2)], f32([3]));
  clock.advance(1);
  t.is(table.evict(), 1); // fid(3,1) is exactly one day old
  t.deepEqual(arr(table.lookupOnly([fid(3, 1), fid(4, 1), fid(3, 2)])), [0, 2, 3]);
  clock.advance(10 * 86400);
  table.applyGradients([fid(4, 1)], f32([0]));
  t.is(table.evict(), 1);
  t.is(table.size, 1);
  t.deepEqual(arr(table.lookupOnly([fid(4, 1)])), [2]);
});

test('eviction keeps surviving rows intact after compaction', (t) => {
  const clock = fakeClock();
  const table = EmbeddingHashTable.create({ entry: testEntry(2, { adagrad: {} }), expireTime: { default: 1 } }, { clock: clock.now });
  const old = Array.from({ length: 50 }, (_, i) => fid(1, i));
  const fresh = Array.from({ length: 50 }, (_, i) => fid(2, i));
  table.assign(old, new Float32Array(100).fill(-1));
  clock.advance(86400);
  const vals = Float32Array.from({ length: 100 }, (_, i) => i);
  table.assign(fresh, vals);
  t.is(table.evict(), 50);
  t.deepEqual(arr(table.lookupOnly(fresh)), arr(vals));
  t.is(table.size, 50);
});

test('reinitialize: status 1 for existing ids, 0 for new ones; values back to the initializer', (t) => {
  const table = EmbeddingHashTable.create({ entry: testEntry(2) });
  table.assign([2, 3], f32([4, 4, 8, 8]));
  const status = table.reinitialize([1, 2, 3]);
  t.deepEqual(arr(status), [0, 1, 1]);
  t.deepEqual(arr(table.lookupOnly([1, 2, 3])), [0, 0, 0, 0, 0, 0]);
});

test('SERVING entries: no optimizer state, fp16 storage, no inserts on lookup, no gradients', (t) => {
  const entry = { entryType: 'SERVING' as const, segments: [{ dimSize: 3, compConfig: { fp16: {} } }] };
  const table = EmbeddingHashTable.create({ entry });
  t.true(table.layout.halves);
  t.is(table.layout.stride, 3); // 2 words of halves + timestamp
  table.assign([1], f32([0.1, 1000.5, -2]));
  const v = table.lookup([1, 2]);
  t.true(close(v.subarray(0, 3), [0.0999755859375, 1000.5, -2], 0));
  t.deepEqual(arr(v.subarray(3)), [0, 0, 0]);
  t.is(table.size, 1);
  t.throws(() => table.applyGradients([1], f32([1, 1, 1])), { instanceOf: UnsupportedOperationError });
});

test('skip_zero_embedding: assigning zeros does not create serving entries', (t) => {
  const table = EmbeddingHashTable.create({ entry: { entryType: 2, segments: [{ dimSize: 2 }] }, skipZeroEmbedding: true });
  table.assign([1, 2], f32([0, 0, 1, 0]));
  t.is(table.size, 1);
  t.deepEqual(arr(table.lookupOnly([1, 2])), [0, 0, 1, 0]);
});
