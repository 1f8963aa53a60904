import test from 'ava';
import { readFile, writeFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { lastValueFrom, toArray, take } from 'rxjs';
import { encodeTFRecord, readAllTFRecords, readTFRecords, tfrecordSource, TFRecordWriter, writeTFRecords, type TFRecordStats } from '../../src/io/tfrecord.js';
import { maskedCrc32c } from '../../src/io/crc32c.js';
import { CorruptRecordError, TruncatedRecordError } from '../../src/errors.js';
import { Rng } from '../../src/util/random.js';
import { REAL_WARMUP, tempDir } from '../helpers.js';

function handBuilt(payload: Buffer): Buffer {
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(payload.length));
  const lenCrc = Buffer.alloc(4);
  lenCrc.writeUInt32LE(maskedCrc32c(len));
  const dataCrc = Buffer.alloc(4);
  dataCrc.writeUInt32LE(maskedCrc32c(payload));
  return Buffer.concat([len, lenCrc, payload, dataCrc]);
}

function randomRecords(n: number, seed = 1, maxLen = 300): Buffer[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => Buffer.from(Array.from({ length: rng.int(0, maxLen) }, () => rng.int(0, 255))));
}

test('encodeTFRecord frames a record exactly as the format says', (t) => {
  const payload = Buffer.from('hello tfrecord');
  const framed = encodeTFRecord(payload);
  t.deepEqual(framed, handBuilt(payload));
  t.is(framed.length, 8 + 4 + payload.length + 4);
  t.is(framed.readBigUInt64LE(0), BigInt(payload.length));
});

test('a real TF Serving warmup file reads as one record that re-frames to the same bytes', async (t) => {
  const file = await readFile(REAL_WARMUP);
  const recs = await readAllTFRecords(REAL_WARMUP);
  t.is(recs.length, 1);
  t.deepEqual(encodeTFRecord(recs[0]!), file);
});

test('write then read many records, including empty and multi-chunk ones', async (t) => {
  const dir = await tempDir();
  const path = join(dir, 'a.tfrecord');
  const recs = [...randomRecords(500), Buffer.alloc(0), Buffer.alloc(3_000_000, 7)];
  t.is(await writeTFRecords(path, recs), recs.length);
  const back = await readAllTFRecords(path, { chunkSize: 4096 });
  t.is(back.length, recs.length);
  t.true(back.every((r, i) => r.equals(recs[i]!)));
  t.deepEqual(await readdir(dir), ['a.tfrecord'], 'no temp file left behind');
});

test('gzip-compressed files round trip', async (t) => {
  const dir = await tempDir();
  const path = join(dir, 'a.tfrecord.gz');
  const recs = randomRecords(200, 2);
  await writeTFRecords(path, recs, { compression: 'gzip' });
  const raw = await readFile(path);
  t.deepEqual([...raw.subarray(0, 2)], [0x1f, 0x8b]);
  const back = await readAllTFRecords(path, { compression: 'gzip' });
  t.deepEqual(back.map((b) => b.toString('hex')), recs.map((b) => b.toString('hex')));
});

test('a flipped payload byte is a CorruptRecordError naming file and record offset', async (t) => {
  const dir = await tempDir();
  const path = join(dir, 'bad.tfrecord');
  const recs = [Buffer.from('first'), Buffer.from('second'), Buffer.from('third')];
  const bytes = Buffer.concat(recs.map(encodeTFRecord));
  const secondAt = encodeTFRecord(recs[0]!).length;
  bytes[secondAt + 12 + 2] ^= 0xff;
  await writeFile(path, bytes);
  const err = await t.throwsAsync(readAllTFRecords(path), { instanceOf: CorruptRecordError });
  t.is(err!.file, path);
  t.is(err!.offset, secondAt);
  t.regex(err!.message, /data checksum/);
});

test('a garbage length is caught by the length checksum', async (t) => {
  const dir = await tempDir();
  const path = join(dir, 'len.tfrecord');
  const bytes = encodeTFRecord(Buffer.from('abc'));
  bytes[5] = 0x7f; // a huge length
  await writeFile(path, bytes);
  const err = await t.throwsAsync(readAllTFRecords(path), { instanceOf: CorruptRecordError });
  t.is(err!.offset, 0);
  t.regex(err!.message, /length checksum/);
});

test('truncated files give TruncatedRecordError at the record start', async (t) => {
  const dir = await tempDir();
  const path = join(dir, 'trunc.tfrecord');
  const one = encodeTFRecord(Buffer.from('complete'));
  const two = encodeTFRecord(Buffer.from('cut short here'));
  await writeFile(path, Buffer.concat([one, two.subarray(0, two.length - 6)]));
  const err = await t.throwsAsync(readAllTFRecords(path), { instanceOf: TruncatedRecordError });
  t.is(err!.offset, one.length);
  await writeFile(path, Buffer.concat([one, two.subarray(0, 5)]));
  const err2 = await t.throwsAsync(readAllTFRecords(path), { instanceOf: TruncatedRecordError });
  t.regex(err2!.message, /header/);
});

test('skipCorrupt skips damaged records, re-synchronises and counts them', async (t) => {
  const dir = await tempDir();
  const path = join(dir, 'skip.tfrecord');
  const good = randomRecords(6, 3, 50).map((b, i) => Buffer.concat([Buffer.from(`r${i}:`), b]));
  const framed = good.map(encodeTFRecord);
  framed[1]![12] ^= 1; // bad data checksum
  framed[3]![2] ^= 1; // bad length checksum: the reader must scan to the next header
  await writeFile(path, Buffer.concat([...framed, Buffer.from([1, 2, 3])]));
  const stats: TFRecordStats = { records: 0, corrupt: 0 };
  const back = await readAllTFRecords(path, { skipCorrupt: true, stats });
  t.deepEqual(back.map((b) => b.toString('hex')), [good[0], good[2], good[4], good[5]].map((b) => b!.toString('hex')));
  t.deepEqual(stats, { records: 4, corrupt: 3 });
});

test('a failed write leaves the previous file untouched and no temp file', async (t) => {
  const dir = await tempDir();
  const path = join(dir, 'keep.tfrecord');
  await writeTFRecords(path, [Buffer.from('old')]);
  async function* failing() {
    yield Buffer.from('new');
    throw new Error('producer failed');
  }
  await t.throwsAsync(writeTFRecords(path, failing()), { message: 'producer failed' });
  t.deepEqual((await readAllTFRecords(path)).map(String), ['old']);
  t.deepEqual(await readdir(dir), ['keep.tfrecord']);
  const w = await TFRecordWriter.open(path);
  await w.write(Buffer.from('x'));
  await w.abort();
  t.deepEqual((await readAllTFRecords(path)).map(String), ['old']);
});

test('reads from any byte stream, and stops early without reading the rest', async (t) => {
  const recs = randomRecords(50, 4);
  const bytes = Buffer.concat(recs.map(encodeTFRecord));
  const chunks = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) => bytes.subarray(i * 7, i * 7 + 7));
  const back: Buffer[] = [];
  for await (const r of readTFRecords(Readable.from(chunks))) back.push(r);
  t.is(back.length, 50);
  t.true(back.every((r, i) => r.equals(recs[i]!)));
  const firstThree = await lastValueFrom(tfrecordSource(Readable.from([bytes])).pipe(take(3), toArray()));
  t.deepEqual(firstThree.map((b) => b.toString('hex')), recs.slice(0, 3).map((b) => b.toString('hex')));
});

test('an empty file has no records', async (t) => {
  const dir = await tempDir();
  const path = join(dir, 'empty.tfrecord');
  await writeTFRecords(path, []);
  t.is((await stat(path)).size, 0);
  t.deepEqual(await readAllTFRecords(path), []);
});
