import test from 'ava';
import { poolEmbeddings, scatterPooledGradient, selectFirstN } from '../../src/workers/embedding-pooling.js';

// Three rows with 2, 0 and 3 ids; dim 2. Embedding of id i is (i+1, 10(i+1)).
const splits = Int32Array.from([0, 2, 2, 5]);
const emb = Float32Array.from([1, 10, 2, 20, 3, 30, 4, 40, 5, 50]);
const rows = 3;
const dim = 2;

test('reduce_sum pools each row to the sum of its embeddings; empty rows are zeros', (t) => {
  t.deepEqual(Array.from(poolEmbeddings(emb, splits, { rows, dim, combiner: 'reduce_sum' })), [3, 30, 0, 0, 12, 120]);
});

test('reduce_mean divides by the row length', (t) => {
  t.deepEqual(Array.from(poolEmbeddings(emb, splits, { rows, dim, combiner: 'reduce_mean' })), [1.5, 15, 0, 0, 4, 40]);
});

test('first_n keeps the first maxSeqLength embeddings, zero padded', (t) => {
  const s = { rows, dim, combiner: 'first_n' as const, maxSeqLength: 2 };
  t.deepEqual(Array.from(poolEmbeddings(emb, splits, s)), [1, 10, 2, 20, 0, 0, 0, 0, 3, 30, 4, 40]);
});

test('gradient scatter: sum copies, mean divides, first_n slices', (t) => {
  const g = Float32Array.from([1, 2, 9, 9, 3, 6]);
  t.deepEqual(Array.from(scatterPooledGradient(g, splits, { rows, dim, combiner: 'reduce_sum' })), [1, 2, 1, 2, 3, 6, 3, 6, 3, 6]);
  t.deepEqual(Array.from(scatterPooledGradient(g, splits, { rows, dim, combiner: 'reduce_mean' })), [0.5, 1, 0.5, 1, 1, 2, 1, 2, 1, 2]);
  const gf = Float32Array.from([1, 2, 3, 4, 0, 0, 0, 0, 5, 6, 7, 8]);
  t.deepEqual(Array.from(scatterPooledGradient(gf, splits, { rows, dim, combiner: 'first_n', maxSeqLength: 2 })), [1, 2, 3, 4, 5, 6, 7, 8, 0, 0]);
});

test('selectFirstN drops the ids past maxSeqLength of each row', (t) => {
  const fids = Uint32Array.from([1, 0, 2, 0, 3, 0, 4, 0, 5, 0]);
  const { fids: f, splits: s } = selectFirstN(fids, splits, rows, 2);
  t.deepEqual(Array.from(s), [0, 2, 2, 4]);
  t.deepEqual(Array.from(f), [1, 0, 2, 0, 3, 0, 4, 0]);
  t.is(selectFirstN(fids, splits, rows, 3).fids, fids, 'unchanged input when no row is longer');
});
