import test from 'ava';
import { EmbeddingHashTable } from '../../src/hashtable/embedding-hash-table.js';
import { toIdWords } from '../../src/hashtable/id-batch.js';
import { HashTableError } from '../../src/hashtable/errors.js';
import { arr, close, f32, testEntry } from './helpers.js';

test('lookup creates missing ids with the initializer; lookupOnly never inserts', (t) => {
  const table = EmbeddingHashTable.create({ entry: testEntry(2) });
  t.deepEqual(arr(table.lookupOnly([5])), [0, 0]);
  t.is(table.size, 0);
  t.deepEqual(arr(table.lookup([5, 6, 5])), [0, 0, 0, 0, 0, 0]);
  t.is(table.size, 2);
});

test('assign / assignAdd / lookup round trip in input order, across shards', (t) => {
  const table = EmbeddingHashTable.create({ entry: testEntry(2), shards: 4 });
  const ids = [1n, 2n, 0xffff_ffff_ffff_fffen, 1n << 63n, 7n];
  table.assign(ids, f32([1, 1, 2, 2, 3, 3, 4, 4, 5, 5]));
  table.assignAdd([7n, 1n, 7n], f32([10, 10, 100, 100, 1, 1]));
  t.deepEqual(arr(table.lookupOnly(ids)), [101, 101, 2, 2, 3, 3, 4, 4, 16, 16]);
  t.is(table.size, 5);
});

test('ids as BigUint64Array, Uint32Array word pairs and numbers are the same keys', (t) => {
  const table = EmbeddingHashTable.create({ entry: testEntry(1) });
  const big = BigUint64Array.from([(3n << 48n) | 12345n]);
  table.assign(big, f32([9]));
  const words = toIdWords(big);
  t.deepEqual(arr(table.lookupOnly(Uint32Array.from(words))), [9]);
  t.deepEqual(arr(table.lookupOnly([3 * 2 ** 48 + 12345])), [9]);
});

test('SGD applyGradients: like Monolith test_apply_gradients (lr 1 -> w = -g)', (t) => {
  const table = EmbeddingHashTable.create({ entry: testEntry(2), learningRates: [1] });
  table.lookup([1, 2]);
  table.applyGradients([1, 2], f32([1, 3, 2, 4]));
  t.deepEqual(arr(table.lookupOnly([1, 2])), [-1, -3, -2, -4]);
});

test('duplicate ids in one batch are summed, then updated once', (t) => {
  // Adagrad is not linear: one update with the sum differs from two updates.
  const table = EmbeddingHashTable.create({ entry: testEntry(1, { adagrad: { learningRate: 0.1, initialAccumulatorValue: 0.1 } }) });
  table.applyGradients([2, 2], f32([1.1, 2.2]));
  const g = 3.3;
  const expected = -0.1 * g / Math.sqrt(0.1 + g * g);
  t.true(close(table.lookupOnly([2]), [expected]));
});

test('Adagrad matches Monolith formula over several steps, with weight decay', (t) => {
  const table = EmbeddingHashTable.create({
    entry: testEntry(2, { adagrad: { learningRate: 0.5, initialAccumulatorValue: 0.2, weightDecayFactor: 0.01 } }),
  });
  table.assign([9], f32([0.3, -0.4]));
  const w = [0.3, -0.4];
  const n = [0.2, 0.2];
  for (const g of [[1, 2], [-0.5, 0.25], [3, -1]]) {
    table.applyGradients([9], f32(g));
    for (let i = 0; i < 2; i++) {
      const gi = g[i]! + 0.01 * w[i]!;
      n[i] += gi * gi;
      w[i] -= (0.5 * gi) / Math.sqrt(n[i]!);
    }
  }
  t.true(close(table.lookupOnly([9]), w, 1e-5));
});

test('growth by rehash keeps every entry exactly once', (t) => {
  const table = EmbeddingHashTable.create({ entry: testEntry(1), shards: 3 });
  const n = 20000;
  const ids = new BigUint64Array(n);
  const vals = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    ids[i] = (BigInt(i % 7) << 48n) | BigInt(i * 7919);
    vals[i] = i;
  }
  for (let b = 0; b < n; b += 1000) table.assign(ids.subarray(b, b + 1000), vals.subarray(b, b + 1000));
  t.is(table.size, n);
  t.deepEqual(arr(table.lookupOnly(ids)), arr(vals));
  let seen = 0;
  for (let s = 0; s < 3; s++) table.forEachEntry(s, () => seen++);
  t.is(seen, n);
  t.true(table.shards.every((s) => s.capacity * 3 >= s.size * 4));
});

test('shape errors name the table and the sizes', (t) => {
  const table = EmbeddingHashTable.create({ name: 'emb', entry: testEntry(2) });
  const e = t.throws(() => table.assign([1, 2], f32([1, 2, 3])), { instanceOf: HashTableError });
  t.regex(e!.message, /emb.*2 x 2 = 4.*got 3/);
});

test('fast lookup paths: even dims copy float pairs, odd dims and unaligned outputs copy floats; same values', (t) => {
  for (const dim of [3, 4, 8, 10]) {
    const table = EmbeddingHashTable.create({ entry: testEntry(dim), shards: 3 });
    if (dim % 2 === 0) t.is(table.layout.stride % 2, 0, `dim ${dim}: even dims get an even stride`);
    const ids = [11n, 12n, 13n, 99n, 11n];
    const vals = Float32Array.from({ length: 3 * dim }, (_, i) => i + 0.5);
    table.assign(ids.slice(0, 3), vals);
    const want = [...vals, ...new Array<number>(dim).fill(0), ...vals.subarray(0, dim)];
    t.deepEqual(arr(table.lookupOnly(ids)), want, `dim ${dim}, aligned`);
    const backing = new Float32Array(ids.length * dim + 1);
    const unaligned = backing.subarray(1); // byteOffset 4: not 8-byte aligned
    table.lookupOnly(ids, unaligned);
    t.deepEqual(arr(unaligned), want, `dim ${dim}, unaligned`);
    // lookup of a missing id in the middle inserts it (zeros init) and keeps the others in input order
    t.deepEqual(arr(table.lookup(ids)), want, `dim ${dim}, lookup`);
    t.is(table.size, 4);
  }
});
