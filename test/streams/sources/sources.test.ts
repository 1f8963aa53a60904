import test from 'ava';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { firstValueFrom, lastValueFrom, mergeMap, take, tap, toArray } from 'rxjs';
import type { SourceBatch } from '../../../src/batch/batch.js';
import { FormatError } from '../../../src/errors.js';
import { genContext, genExample, genInstance } from '../../../src/export/data-gen.js';
import { RecordFileWriter, sortHeader } from '../../../src/io/record-file.js';
import { writeTFRecords, encodeTFRecord } from '../../../src/io/tfrecord.js';
import { monolith, parser } from '../../../src/proto.js';
import { concatBatches } from '../../../src/streams/parse/batch-ops.js';
import type { ParseConfig } from '../../../src/streams/parse/parse-config.js';
import { RecordParser } from '../../../src/streams/parse/record-parser.js';
import { fileSource } from '../../../src/streams/sources/file-source.js';
import { generatorSource } from '../../../src/streams/sources/generator-source.js';
import { pacedSource } from '../../../src/streams/sources/paced-source.js';
import { MONOLITH_ASSETS, tempDir } from '../../helpers.js';
import { plain } from '../parse/wire-helpers.js';

const ackAll = (sb: SourceBatch) => sb.ack?.();
const now = () => 1_700_000_000;
const config: ParseConfig = { sparse: [{ name: 'slot_1', slot: 1 }, { name: 'slot_2', slot: 2 }, { name: 'slot_200', slot: 200 }], lineIdFields: ['uid', 'req_time'] };

function instances(n: number, seed = 3): Uint8Array[] {
  const ctx = genContext(seed, { now });
  return Array.from({ length: n }, () => parser.proto.Instance.encode(genInstance(ctx, { fidv1Features: [1, 2, 200] })).finish());
}

test('file source: Monolith record file, TFRecord and gzip give the same batches; the last partial batch is emitted', async (t) => {
  const dir = await tempDir();
  try {
    const recs = instances(103);
    const recordPath = join(dir, 'a.pb');
    const w = await RecordFileWriter.open(recordPath, sortHeader(true, false, false));
    for (const r of recs) await w.write(r);
    await w.close();
    const tfPath = join(dir, 'a.tfrecord');
    await writeTFRecords(tfPath, recs);
    const gzPath = join(dir, 'a.tfrecord.gz');
    await pipeline(Readable.from(recs.map((r) => encodeTFRecord(r))), createGzip(), createWriteStream(gzPath));
    const whole = new RecordParser(config, { variant: 'instance' }).parse(recs);
    for (const [paths, framing] of [[recordPath, 'record'], [tfPath, 'tfrecord'], [gzPath, 'tfrecord']] as const) {
      const got = await lastValueFrom(fileSource({ paths, framing, variant: 'instance', parse: config, batchSize: 25 }).pipe(tap(ackAll), toArray()));
      t.deepEqual(got.map((g) => g.batch.rows), [25, 25, 25, 25, 3], paths);
      t.deepEqual(plain(concatBatches(got.map((g) => g.batch))), plain(whole), paths);
    }
    const dropped = await lastValueFrom(fileSource({ paths: [recordPath, recordPath], variant: 'instance', parse: config, batchSize: 25, dropRemainder: true }).pipe(tap(ackAll), toArray()));
    t.deepEqual(dropped.map((g) => g.batch.rows), [25, 25, 25, 25, 25, 25, 25, 25], 'two files in a row, last partial dropped');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("file source: Monolith's real ExampleBatch sample, re-cut to batches of 20 rows", async (t) => {
  const path = join(MONOLITH_ASSETS, 'derived', 'monolith_example_batch_from_pbtxt.bin');
  const cfg: ParseConfig = { sparse: [{ name: 'f_goods_test30_bool', slot: 30 }], lineIdFields: ['req_time'] };
  const got = await lastValueFrom(fileSource({ paths: path, layout: { lagrangexHeader: true }, variant: 'example_batch', parse: cfg, batchSize: 20 }).pipe(tap(ackAll), toArray()));
  t.deepEqual(got.map((g) => g.batch.rows), [20, 20, 11]);
  const all = concatBatches(got.map((g) => g.batch));
  t.is(all.sparse[0]!.rowSplits[3]! - all.sparse[0]!.rowSplits[2]!, 1);
  t.is(all.sparse[0]!.fids[2 * all.sparse[0]!.rowSplits[2]! + 1]! >>> 22, Number(9376215397644962785n >> 54n));
});

test('file source: a damaged record is a FormatError naming the file and record', async (t) => {
  const dir = await tempDir();
  try {
    const path = join(dir, 'bad.pb');
    const w = await RecordFileWriter.open(path, sortHeader(true, false, false));
    await w.write(instances(1)[0]!);
    await w.write(Uint8Array.of(0x0a, 0x09, 1)); // length runs past the payload
    await w.close();
    const err = await t.throwsAsync(lastValueFrom(fileSource({ paths: path, variant: 'instance', parse: config, batchSize: 4 }).pipe(tap(ackAll))), { instanceOf: FormatError });
    t.regex(err!.message, /bad\.pb \(record 1 at byte \d+\), byte 1, field Instance\.fid: length 9 runs past/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('generator source: Example records, cold (each subscription starts over), unsubscribing stops the generator', async (t) => {
  let made = 0;
  let closed = 0;
  const src = generatorSource({
    variant: 'example',
    parse: { sparse: [{ name: 'a', slot: 1 }] },
    batchSize: 10,
    records: function* () {
      const ctx = genContext(5, { now });
      try {
        for (;;) {
          made++;
          yield monolith.io.proto.Example.encode(genExample(ctx, ['a'])).finish();
        }
      } finally {
        closed++;
      }
    },
  });
  const a = await lastValueFrom(src.pipe(tap(ackAll), take(3), toArray()));
  const b = await firstValueFrom(src);
  t.deepEqual(plain(b.batch), plain(a[0]!.batch), 'same seed, same first batch');
  // closing is asynchronous (the generator finishes once its pending read settles): give it a few turns
  for (let i = 0; i < 50 && closed < 2; i++) await new Promise<void>((res) => setImmediate(res));
  t.is(closed, 2);
  t.true(made <= 4 * 10 + 1 + 1, `made ${made}: reading stopped at the unsubscribe`);
});

test('backpressure: a source 10x faster than a slow consumer keeps at most maxUnacked batches (+1 building) buffered', async (t) => {
  const batchSize = 8;
  const maxUnacked = 4;
  const run = async (paced: boolean) => {
    let produced = 0;
    let consumed = 0;
    let maxBuffered = 0;
    const records = function* () {
      for (let i = 0; i < 800; i++) {
        produced++;
        maxBuffered = Math.max(maxBuffered, produced - consumed);
        yield instances(1, i)[0]!;
      }
    };
    const src = generatorSource({ variant: 'instance', parse: config, batchSize, records, maxUnacked: paced ? maxUnacked : Infinity });
    // The consumer takes 10 event-loop turns per batch and works on 2 batches at a time.
    const slowStep = async (sb: SourceBatch) => {
      for (let i = 0; i < 10; i++) await new Promise<void>((res) => setImmediate(res));
      consumed += sb.batch.rows;
      sb.ack?.();
      return sb.batch.rows;
    };
    const rows = await lastValueFrom(src.pipe(mergeMap(slowStep, 2), toArray()));
    return { rows: rows.reduce((s, r) => s + r, 0), maxBuffered };
  };
  const paced = await run(true);
  t.is(paced.rows, 800);
  t.true(paced.maxBuffered <= (maxUnacked + 1) * batchSize, `paced: ${paced.maxBuffered} rows buffered`);
  const unpaced = await run(false);
  t.is(unpaced.rows, 800);
  t.true(unpaced.maxBuffered > 4 * (maxUnacked + 1) * batchSize, `without pacing the buffer grows (${unpaced.maxBuffered} rows): the test can tell`);
});

test('paced source: ack is idempotent, errors surface, unsubscribe runs the iterable finally', async (t) => {
  let finished = false;
  const src = pacedSource(async function* () {
    try {
      yield { batch: new RecordParser(config, { variant: 'instance' }).parse(instances(2)) };
      throw new Error('boom');
    } finally {
      finished = true;
    }
  }, { maxUnacked: 1 });
  await t.throwsAsync(lastValueFrom(src.pipe(tap((sb) => (sb.ack!(), sb.ack!())))), { message: 'boom' });
  t.true(finished);
  t.throws(() => pacedSource(async function* () {}, { maxUnacked: 0 }), { message: /maxUnacked/ });
});
