import test from 'ava';
import { mkdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import $protobuf from 'protobufjs/minimal.js';
import {
  createServingTable,
  CorruptRecordError,
  decodeSavedModel,
  describeWarmupFile,
  FormatError,
  loadLayersModelFromDir,
  loadServingDump,
  readAllTFRecords,
  readManifest,
  TruncatedRecordError,
  writeServingDump,
  writeTFRecords,
} from 'monolith-ts';
import { runWarmup } from '../../src/serving/prediction-server.js';
import type { ExportedModel } from '../../src/serving/exported-model.js';
import { tempDir } from '../helpers.js';

const records = Array.from({ length: 50 }, (_, i) => Buffer.alloc(200, i));

test('gzip TFRecords: a truncated or damaged stream is a typed error naming the file and offset', async (t) => {
  const dir = await tempDir();
  const path = join(dir, 'data.tfrecord.gz');
  await writeTFRecords(path, records, { compression: 'gzip' });
  t.is((await readAllTFRecords(path, { compression: 'gzip' })).length, 50);
  const whole = await readFile(path);
  await truncate(path, Math.floor(whole.length / 2));
  const cut = await t.throwsAsync(readAllTFRecords(path, { compression: 'gzip' }), { instanceOf: TruncatedRecordError });
  t.is(cut!.file, path);
  t.true(typeof cut!.offset === 'number');
  const bad = Buffer.from(whole);
  bad[3] = 0xff; // FLG with reserved bits set
  await writeFile(path, bad);
  const err = await t.throwsAsync(readAllTFRecords(path, { compression: 'gzip' }), { instanceOf: FormatError });
  t.true(err instanceof CorruptRecordError, err!.message);
  t.regex(err!.message, /data\.tfrecord\.gz/);
});

test('a missing TFRecord file is a FormatError naming it', async (t) => {
  const err = await t.throwsAsync(readAllTFRecords('/nonexistent/x.tfrecord'), { instanceOf: FormatError });
  t.is(err!.file, '/nonexistent/x.tfrecord');
});

test('warmup: a record that is not a PredictionLog is a FormatError naming the file and record (serving warmup and the decoder)', async (t) => {
  const dir = await tempDir();
  const file = join(dir, 'assets.extra', 'tf_serving_warmup_requests');
  await mkdir(join(dir, 'assets.extra'), { recursive: true });
  await writeTFRecords(file, [Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f])]);
  const err = await t.throwsAsync(runWarmup({ dir, predict: () => ({}) } as unknown as ExportedModel), { instanceOf: FormatError });
  t.is(err!.file, file);
  t.is(err!.field, 'record 0');
  const it = describeWarmupFile(file);
  const err2 = await t.throwsAsync(it.next(), { instanceOf: FormatError });
  t.is(err2!.field, 'record 0');
});

test('saved_model.pb: a damaged MetaGraphDef is a FormatError naming the file and field', (t) => {
  const w = $protobuf.Writer.create();
  w.uint32((1 << 3) | 0).int64(1);
  w.uint32((2 << 3) | 2).bytes(Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0x0f]));
  const err = t.throws(() => decodeSavedModel(w.finish(), '/x/saved_model.pb'), { instanceOf: FormatError });
  t.is(err!.file, '/x/saved_model.pb');
  t.is(err!.field, 'meta_graphs[0]');
});

test('tfjs model directories: a bad topology or missing weights is a FormatError naming model.json', async (t) => {
  const dir = await tempDir();
  await writeFile(join(dir, 'model.json'), JSON.stringify({ modelTopology: { class_name: 'Nope', config: {} }, weightsManifest: [] }));
  const err = await t.throwsAsync(loadLayersModelFromDir(dir), { instanceOf: FormatError });
  t.is(err!.file, join(dir, 'model.json'));
  await writeFile(join(dir, 'model.json'), JSON.stringify({ modelTopology: { class_name: 'Sequential', config: {} }, weightsManifest: [{ paths: ['./missing.bin'], weights: [] }] }));
  await t.throwsAsync(loadLayersModelFromDir(dir), { instanceOf: FormatError });
});

test('export manifest: JSON that is not an object, or tables without their fields, is a FormatError', async (t) => {
  const dir = await tempDir();
  await writeFile(join(dir, 'export.json'), 'null');
  await t.throwsAsync(readManifest(dir), { instanceOf: FormatError, message: /not a JSON object/ });
  const m = { format: 'monolith-ts-export', formatVersion: 1, features: [], denseInputs: [], heads: [], tables: [{ name: 't' }] };
  await writeFile(join(dir, 'export.json'), JSON.stringify(m));
  const err = await t.throwsAsync(readManifest(dir), { instanceOf: FormatError });
  t.is(err!.field, 'tables[0]');
});

test('an exported table file emptied or cut short is a FormatError, not an empty (or smaller) table', async (t) => {
  const dir = await tempDir();
  const table = createServingTable({ name: 'user', dim: 2, fp16: false, skipZeroEmbedding: false });
  table.assign(Array.from({ length: 40 }, (_, i) => BigInt(i + 1)), Float32Array.from({ length: 80 }, (_, i) => i + 1));
  const entries = await writeServingDump(table, join(dir, 'user'), { nshards: 2 });
  const spec = { name: 'user', dim: 2, fp16: false, skipZeroEmbedding: false, basename: 'user', shared: false, entries };
  t.is(await loadServingDump(createServingTable(spec), spec, dir), 40);
  const file = join(dir, 'user-00001-of-00002');
  const whole = await readFile(file);
  for (const size of [0, 12 + whole.readUInt32LE(0) + 4]) {
    await writeFile(file, whole.subarray(0, size));
    const served = createServingTable(spec);
    const err = await t.throwsAsync(loadServingDump(served, spec, dir), { instanceOf: FormatError });
    t.is(err!.field, 'tables[user].entries', err!.message);
    t.is(served.size, 0, 'nothing loaded');
  }
});
