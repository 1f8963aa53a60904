import test from 'ava';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  javaStringHash,
  lgHeader,
  readRecordBatches,
  readRecordFile,
  RecordFileWriter,
  sortHeader,
  type PbRecord,
  type RecordLayout,
} from '../../src/io/record-file.js';
import { ConfigError, FormatError, TruncatedRecordError } from '../../src/errors.js';
import { MONOLITH_ASSETS, tempDir } from '../helpers.js';

const u64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};
const rec = (payload: string, header: Buffer[] = []) => Buffer.concat([...header, u64(payload.length), Buffer.from(payload)]);

async function readAll(bytes: Buffer, layout: RecordLayout & { maxRecords?: number }): Promise<PbRecord[]> {
  const out: PbRecord[] = [];
  for await (const r of readRecordFile(Readable.from([bytes]), layout)) out.push(r);
  return out;
}

test('Java String.hashCode matches known values', (t) => {
  t.is(javaStringHash(''), 0);
  t.is(javaStringHash('hello'), 99162322);
  t.is(javaStringHash('Aa'), javaStringHash('BB')); // the classic collision
  // Values printed by a JVM (jshell) for these strings:
  t.is(javaStringHash('monolith_training_data_source'), -175276106);
  t.is(javaStringHash('\u00e9t\u00e9 \u{1F600}'), -1803469019); // UTF-16 code units, surrogate pair included
});

test('lgHeader writes 00 h0 h1 h2 00 00 00 00 with the low bytes of the hash', (t) => {
  const h = 99162322 >>> 0; // "hello" = 0x05E918D2
  t.deepEqual([...lgHeader('hello')], [0, h & 0xff, (h >>> 8) & 0xff, (h >>> 16) & 0xff, 0, 0, 0, 0]);
  t.deepEqual([...lgHeader('')], [0, 0, 0, 0, 0, 0, 0, 0]);
});

test('sortHeader sizes and the unsupported combination', (t) => {
  t.is(sortHeader(true, false, false).length, 8);
  t.is(sortHeader(true, true, false).length, 16);
  t.is(sortHeader(true, false, true).length, 24);
  t.is(sortHeader(false, false, false).length, 0);
  t.throws(() => sortHeader(false, true, false), { instanceOf: ConfigError });
  t.throws(() => sortHeader(true, true, true), { instanceOf: ConfigError });
});

test('the lagrangex header gives pb type and data source key', async (t) => {
  const h = Buffer.from([0x05, 0xd2, 0x18, 0xe9, 0x77, 0, 0, 0]);
  const [r] = await readAll(rec('abc', [h]), { lagrangexHeader: true, sortId: true /* ignored */ });
  t.is(r!.payload.toString(), 'abc');
  t.is(r!.pbType, 5);
  t.is(r!.dataSourceKey, 0xe918d2 << 8 >>> 0);
});

test('sort id, kafka dump prefix and kafka dump headers are skipped', async (t) => {
  const sortId = Buffer.from('sort-key');
  // sort_id: length then bytes
  let got = await readAll(Buffer.concat([rec('one', [u64(sortId.length), sortId]), rec('two', [u64(0)])]), { sortId: true });
  t.deepEqual(got.map((r) => r.payload.toString()), ['one', 'two']);
  // kafka_dump_prefix != 0 gives the sort-id length itself
  got = await readAll(rec('p', [u64(sortId.length), sortId]), { kafkaDumpPrefix: true, sortId: true });
  t.deepEqual(got.map((r) => r.payload.toString()), ['p']);
  // kafka_dump_prefix == 0: one more word, then the sort id's own length
  got = await readAll(rec('q', [u64(0), u64(123), u64(2), Buffer.from('xy')]), { kafkaDumpPrefix: true, sortId: true });
  t.deepEqual(got.map((r) => r.payload.toString()), ['q']);
  // kafka_dump: one ignored word after the sort id
  got = await readAll(rec('r', [u64(0), u64(999)]), { sortId: true, kafkaDump: true });
  t.deepEqual(got.map((r) => r.payload.toString()), ['r']);
  // no header at all
  got = await readAll(Buffer.concat([rec('s'), rec('t')]), {});
  t.deepEqual(got.map((r) => r.payload.toString()), ['s', 't']);
});

test('maxRecords stops early; offsets point at record headers', async (t) => {
  const bytes = Buffer.concat(['a', 'bb', 'ccc'].map((p) => rec(p, [u64(0)])));
  const got = await readAll(bytes, { sortId: true, maxRecords: 2 });
  t.deepEqual(got.map((r) => [r.payload.toString(), r.offset]), [['a', 0], ['bb', 17]]);
});

test('a record cut short is a TruncatedRecordError naming the field and offset', async (t) => {
  const dir = await tempDir();
  const path = join(dir, 'cut.pb');
  const whole = rec('complete', [u64(0)]);
  await writeFile(path, Buffer.concat([whole, rec('partial payload', [u64(0)]).subarray(0, 20)]));
  const err = await t.throwsAsync(async () => {
    for await (const _ of readRecordFile(path, { sortId: true })) void _;
  }, { instanceOf: TruncatedRecordError });
  t.is(err!.file, path);
  t.is(err!.offset, whole.length);
  t.is(err!.field, 'payload');
});

test('garbage sizes and the 0xFEFEFEFE sentinel are FormatErrors', async (t) => {
  await t.throwsAsync(readAll(Buffer.concat([Buffer.alloc(8, 0xff), Buffer.alloc(16)]), {}), { instanceOf: FormatError, message: /not a plausible/ });
  await t.throwsAsync(readAll(Buffer.concat([u64(0xfefefefe), Buffer.alloc(16)]), {}), { instanceOf: FormatError, message: /garbage marker/ });
});

test('readRecordBatches: example_batch is one record per batch, others batchSize; partial batch dropped', async (t) => {
  const bytes = Buffer.concat(Array.from({ length: 10 }, (_, i) => rec(`r${i}`, [u64(0)])));
  const batches: string[][] = [];
  for await (const b of readRecordBatches(Readable.from([bytes]), { sortId: true, variantType: 'instance', batchSize: 3 })) batches.push(b.map(String));
  t.deepEqual(batches, [['r0', 'r1', 'r2'], ['r3', 'r4', 'r5'], ['r6', 'r7', 'r8']]);
  const capped: string[][] = [];
  for await (const b of readRecordBatches(Readable.from([bytes]), { sortId: true, variantType: 'instance', batchSize: 3, maxRecords: 7 })) capped.push(b.map(String));
  t.is(capped.length, 2);
  const eb: string[][] = [];
  for await (const b of readRecordBatches(Readable.from([bytes]), { sortId: true, variantType: 'example_batch', batchSize: 4, maxRecords: 12 })) eb.push(b.map(String));
  t.deepEqual(eb, [['r0'], ['r1'], ['r2']]);
});

test('RecordFileWriter output reads back with the matching layout', async (t) => {
  const dir = await tempDir();
  for (const [header, layout] of [
    [sortHeader(true, false, false), { sortId: true }],
    [sortHeader(true, true, false), { sortId: true, kafkaDump: true }],
    [sortHeader(true, false, true), { sortId: true, kafkaDumpPrefix: true }],
    [lgHeader('my_source'), { lagrangexHeader: true }],
  ] as const) {
    const path = join(dir, `f${header.length}.pb`);
    const w = await RecordFileWriter.open(path, header);
    for (const p of ['x', '', 'zz']) await w.write(Buffer.from(p));
    await w.close();
    const got: PbRecord[] = [];
    for await (const r of readRecordFile(path, layout)) got.push(r);
    t.deepEqual(got.map((r) => r.payload.toString()), ['x', '', 'zz']);
    if ('lagrangexHeader' in layout) t.is(got[0]!.dataSourceKey, ((javaStringHash('my_source') >>> 0) & 0xffffff) * 256);
  }
});

test("Monolith's lagrangex-framed ExampleBatch sample reads as one record", async (t) => {
  const path = join(MONOLITH_ASSETS, 'derived', 'monolith_example_batch_from_pbtxt.bin');
  const got: PbRecord[] = [];
  for await (const r of readRecordFile(path, { lagrangexHeader: true })) got.push(r);
  t.is(got.length, 1);
  t.is(got[0]!.payload.length, (await readFile(path)).length - 16);
  t.is(got[0]!.pbType, 0);
});
