import test from 'ava';
import { Worker } from 'node:worker_threads';
import { fromSharedBatch, toSharedBatch } from '../../src/batch/shared-batch.js';
import type { Batch } from '../../src/batch/batch.js';
import { FormatError } from '../../src/errors.js';

function sample(): Batch {
  return {
    rows: 3,
    sparse: [
      { name: 'user', slot: 1, fids: new Uint32Array([1, 0x400000, 2, 0x400000, 3, 0x400000]), rowSplits: new Int32Array([0, 1, 1, 3]) },
      { name: 'item', slot: 2, fids: new Uint32Array([7, 0x800000, 8, 0x800000, 9, 0x800000]), rowSplits: new Int32Array([0, 1, 2, 3]) },
    ],
    dense: [{ name: 'age', width: 2, values: new Float32Array([1, 2, 3, 4, 5, 6]) }],
    labels: new Float32Array([1, 0, 1]),
    labelWidth: 1,
    weights: new Float32Array([1, 0.5, 2]),
    lineId: [
      { name: 'uid', values: new BigUint64Array([2n ** 63n + 5n, 1n, 2n]) },
      { name: 'req_time', values: new BigInt64Array([-1n, 1700000000n, 3n]) },
      { name: 'sample_rate', values: new Float32Array([1, 0.5, 0.25]) },
    ],
  };
}

test('a batch round-trips through one SharedArrayBuffer as views', (t) => {
  const b = sample();
  const sab = toSharedBatch(b);
  const r = fromSharedBatch(sab);
  t.is(r.rows, 3);
  t.deepEqual(r.sparse.map((c) => [c.name, c.slot, [...c.fids], [...c.rowSplits]]), b.sparse.map((c) => [c.name, c.slot, [...c.fids], [...c.rowSplits]]));
  t.deepEqual([...r.dense[0]!.values], [1, 2, 3, 4, 5, 6]);
  t.is(r.dense[0]!.width, 2);
  t.deepEqual([...r.labels], [1, 0, 1]);
  t.deepEqual([...r.weights!], [1, 0.5, 2]);
  t.deepEqual(r.lineId.map((c) => [c.name, [...c.values]]), b.lineId.map((c) => [c.name, [...c.values]]));
  t.is(r.labels.buffer, sab, 'labels are a view of the shared buffer');
  t.is(r.sparse[1]!.fids.buffer, sab);
});

test('a worker thread sees the same memory', async (t) => {
  const sab = toSharedBatch(sample());
  const w = new Worker(`
    const { parentPort, workerData } = require('node:worker_threads');
    const view = new Int32Array(workerData, 0, 1);
    parentPort.postMessage(view[0]);
  `, { eval: true, workerData: sab });
  const headerLen = await new Promise((res, rej) => { w.once('message', res); w.once('error', rej); });
  t.is(headerLen, new DataView(sab).getUint32(0, true));
  await w.terminate();
});

test('a foreign buffer is a FormatError', (t) => {
  t.throws(() => fromSharedBatch(new ArrayBuffer(4)), { instanceOf: FormatError });
  const junk = new SharedArrayBuffer(64);
  new DataView(junk).setUint32(0, 16, true);
  t.throws(() => fromSharedBatch(junk), { instanceOf: FormatError, message: /MTSB/ });
});

test('a batch without weights or sparse columns', (t) => {
  const r = fromSharedBatch(toSharedBatch({ rows: 2, sparse: [], dense: [], labels: new Float32Array([0, 1]), labelWidth: 1, lineId: [] }));
  t.is(r.weights, undefined);
  t.is(r.sparse.length, 0);
  t.deepEqual([...r.labels], [0, 1]);
});

test('batches of different header sizes laid out one after another each round-trip (the header is built once when its size repeats)', (t) => {
  const big = sample();
  const small: Batch = { rows: 1, sparse: [], dense: [], labels: new Float32Array([1]), labelWidth: 1, lineId: [] };
  const wide: Batch = { ...big, sparse: [...big.sparse, { name: 'a_much_longer_column_name_than_the_others', slot: 3, fids: new Uint32Array([4, 0xc00000]), rowSplits: new Int32Array([0, 1, 1, 1]) }] };
  for (const b of [big, big, small, wide, small, big, wide, wide]) {
    const r = fromSharedBatch(toSharedBatch(b));
    t.is(r.rows, b.rows);
    t.deepEqual(r.sparse.map((c) => [c.name, Array.from(c.fids), Array.from(c.rowSplits)]), b.sparse.map((c) => [c.name, Array.from(c.fids), Array.from(c.rowSplits)]));
    t.deepEqual(Array.from(r.labels), Array.from(b.labels));
  }
});
