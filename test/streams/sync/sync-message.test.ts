import test from 'ava';
import { FormatError } from '../../../src/errors.js';
import { fromHalf, toHalf } from '../../../src/hashtable/fp16.js';
import { decodeSyncMessage, encodeSyncMessage, type SyncRows } from '../../../src/streams/sync/sync-message.js';

const rows: SyncRows = { kind: 'rows', modelName: 'ctr', version: 2 ** 40 + 3, publishedAt: 1234.5, publisher: 'trainer-0', table: 'user', dim: 2, fp16: false, ids: Uint32Array.of(1, 0, 0xffffffff, 0x80000000), values: Float32Array.of(0.1, -2, 3.3, 65504) };

test('rows round-trip: 64-bit ids, versions beyond 2^32, float32 values exactly', (t) => {
  const back = decodeSyncMessage(encodeSyncMessage(rows));
  t.deepEqual(back, rows);
});

test('fp16 rows carry halves: 2 bytes a value, values rounded as the fp16 table stores them', (t) => {
  const f32 = encodeSyncMessage(rows);
  const f16 = encodeSyncMessage({ ...rows, fp16: true });
  t.is(f32.length - f16.length, rows.values.length * 2);
  const back = decodeSyncMessage(f16) as SyncRows;
  t.true(back.fp16);
  t.deepEqual(Array.from(back.values), Array.from(rows.values, (v) => fromHalf(toHalf(v))));
});

test('dense weights round-trip by name and shape', (t) => {
  const m = { kind: 'dense' as const, modelName: 'ctr', version: 7, publishedAt: 0, publisher: 'p', params: [{ name: 'w', shape: [2, 3], values: Float32Array.of(1, 2, 3, 4, 5, 6) }, { name: 'b', shape: [3], values: Float32Array.of(7, 8, 9) }] };
  t.deepEqual(decodeSyncMessage(encodeSyncMessage(m)), m);
});

test('malformed messages are FormatErrors naming the field and offset; counts are checked before allocating', (t) => {
  const good = encodeSyncMessage(rows);
  const cut = t.throws(() => decodeSyncMessage(good.subarray(0, good.length - 3), 'kafka:params/0@9'), { instanceOf: FormatError })!;
  t.regex(cut.message, /kafka:params\/0@9.*rows needs \d+ bytes at offset \d+/);
  const magic = good.slice();
  magic[0] = 0x58;
  t.throws(() => decodeSyncMessage(magic), { instanceOf: FormatError, message: /magic is "XTSY", expected MTSY/ });
  // A count of 2^32-1 rows in a short message: refused from the sizes, nothing that large is allocated.
  const huge = good.slice();
  const at = good.length - rows.values.length * 4 - rows.ids.length * 4 - 4;
  new DataView(huge.buffer).setUint32(at, 0xffffffff, true);
  t.throws(() => decodeSyncMessage(huge), { instanceOf: FormatError, message: /rows needs \d+ bytes/ });
  const kind = good.slice();
  kind[5] = 9;
  t.throws(() => decodeSyncMessage(kind), { instanceOf: FormatError, message: /kind 9/ });
  t.throws(() => encodeSyncMessage({ ...rows, values: new Float32Array(3) }), { instanceOf: FormatError, message: /3 values for 2 ids of dim 2/ });
});
