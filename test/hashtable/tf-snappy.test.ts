import test from 'ava';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import snappy from 'snappy';
import { FormatError } from '../../src/errors.js';
import { encodeTFRecord } from '../../src/io/tfrecord.js';
import { MultiHashTable } from '../../src/hashtable/multi-hash-table.js';
import { compressTFSnappy, decodeRecordFile, encodeRecordFile, uncompressTFSnappy } from '../../src/hashtable/tf-snappy.js';
import { arr, f32, testEntry } from './helpers.js';

test('TF snappy record stream: big-endian block lengths, raw snappy blocks of at most the chunk size, round trip', (t) => {
  const plain = Buffer.concat(Array.from({ length: 50 }, (_, i) => encodeTFRecord(Buffer.alloc(100, i))));
  const packed = compressTFSnappy(plain, 1000);
  // First block: 4-byte big-endian length, then a raw snappy block of the first 1000 bytes.
  const n = packed.readUInt32BE(0);
  t.deepEqual(snappy.uncompressSync(packed.subarray(4, 4 + n)) as Buffer, plain.subarray(0, 1000));
  let blocks = 0;
  for (let at = 0; at < packed.length; at += 4 + packed.readUInt32BE(at)) blocks++;
  t.is(blocks, Math.ceil(plain.length / 1000));
  t.deepEqual(uncompressTFSnappy(packed, 'x'), plain);
  // Truncated: a typed error naming the file and the block offset.
  const err = t.throws(() => uncompressTFSnappy(packed.subarray(0, packed.length - 3), 'f.snappy'), { instanceOf: FormatError });
  t.regex(err!.message, /f\.snappy/);
});

test('record files: snappy and plain both decode (plain is recognised by its header checksum)', async (t) => {
  const recs = [Buffer.from('a'), Buffer.from('bb'), Buffer.alloc(0)];
  for (const c of ['snappy', 'none'] as const) {
    const got = await decodeRecordFile(encodeRecordFile(recs, c), c);
    t.deepEqual(got.map((b) => b.toString()), ['a', 'bb', '']);
  }
  t.deepEqual(await decodeRecordFile(encodeRecordFile([], 'snappy'), 'empty'), []);
});

test('MultiHashTable data files are SNAPPY-compressed as Monolith writes them; metadata files are plain; both compressions restore', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mht-snappy-'));
  const a = MultiHashTable.fromConfigs({ s0: { entry: testEntry(2) }, s1: { entry: testEntry(3) } });
  a.assign({ s0: [[1, 2, 3], f32([1, 1, 2, 2, 3, 3])], s1: [[4], f32([4, 4, 4])] });
  await a.save(join(dir, 'z'), { nshards: 1 });
  const data = await readFile(join(dir, 'z-00000-of-00001'));
  const plain = uncompressTFSnappy(data, 'z');
  t.is(plain.readUInt32LE(0) + 16 <= plain.length, true); // a TFRecord header inside
  const meta = await readFile(join(dir, 'z.meta-00000-of-00001'));
  t.is(meta.readUInt32LE(0) > 0 && meta.readUInt32LE(4) === 0, true); // plain TFRecord length
  for (const compression of ['snappy', 'none'] as const) {
    await a.save(join(dir, compression), { nshards: 2, compression });
    const b = MultiHashTable.fromConfigs({ s0: { entry: testEntry(2) }, s1: { entry: testEntry(3) } });
    t.is(await b.restore(join(dir, compression)), 4);
    t.deepEqual(arr(b.lookup({ s0: [3, 1] }).s0!), [3, 3, 1, 1]);
    t.deepEqual(arr(b.lookup({ s1: [4] }).s1!), [4, 4, 4]);
  }
  // A damaged snappy block: FormatError, live table untouched.
  const b = MultiHashTable.fromConfigs({ s0: { entry: testEntry(2) }, s1: { entry: testEntry(3) } });
  b.assign({ s0: [[9], f32([9, 9])] });
  const f = join(dir, 'snappy-00000-of-00002');
  const bytes = await readFile(f);
  bytes.writeUInt32BE(bytes.length * 4, 0);
  await writeFile(f, bytes);
  await t.throwsAsync(b.restore(join(dir, 'snappy')), { instanceOf: FormatError });
  t.deepEqual(arr(b.lookup({ s0: [9] }).s0!), [9, 9]);
  await rm(dir, { recursive: true });
});
