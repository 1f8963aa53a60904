import test from 'ava';
import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { idl, monolith, parser, tensorflow } from '../../src/proto.js';
import { genContext, genExample, genExampleBatch, genFidsV1, genFidsV2, genInstance, fillLineId } from '../../src/export/data-gen.js';
import { FeatureMeta, FeatureSlots } from '../../src/export/feature-meta.js';
import { ParserArgs } from '../../src/export/parser-args.js';
import { parseDType } from '../../src/export/dtypes.js';
import { genPredictionLogs, genWarmupFile, predictionLogsFromFile, stringTensor } from '../../src/export/warmup.js';
import { genRandomDataFile } from '../../src/export/random-data-file.js';
import { readAllTFRecords } from '../../src/io/tfrecord.js';
import { readRecordFile } from '../../src/io/record-file.js';
import { fromLong } from '../../src/io/long.js';
import { ConfigError, FidError } from '../../src/errors.js';
import { tempDir } from '../helpers.js';

const NOW = () => 1_700_000_000;

test('fids carry their slot; v1 out of range gives none, v2 out of range throws', (t) => {
  const ctx = genContext(1);
  for (const f of genFidsV1(ctx, 12, 50)) t.is(f >> 54n, 12n);
  for (const f of genFidsV2(ctx, 40000, 50)) t.is(f >> 48n, 40000n);
  t.deepEqual(genFidsV1(ctx, 1024, 3), []);
  t.throws(() => genFidsV2(ctx, 70000, 1), { instanceOf: FidError });
});

test('the same seed gives byte-identical data', (t) => {
  const make = () => parser.proto.Instance.encode(genInstance(genContext(7, { now: NOW }), { fidv1Features: [1, 2, 200], fidv2Features: ['slot_9', 'f_age'] })).finish();
  t.deepEqual(make(), make());
  const other = parser.proto.Instance.encode(genInstance(genContext(8, { now: NOW }), { fidv1Features: [1, 2, 200], fidv2Features: ['slot_9', 'f_age'] })).finish();
  t.notDeepEqual(make(), other);
});

test('FeatureMeta infers dtypes from LineId fields, else float32 dense / int64 sparse', (t) => {
  t.is(new FeatureMeta('req_time').dtype, 'int64');
  t.is(new FeatureMeta('sample_rate').dtype, 'float32');
  t.is(new FeatureMeta('actions').dtype, 'int32');
  t.is(new FeatureMeta('user_id').dtype, 'string');
  t.is(new FeatureMeta('is_draw').dtype, 'bool');
  t.is(new FeatureMeta('ctr').dtype, 'float32');
  t.is(new FeatureMeta('ctr').shape, 1);
  t.is(new FeatureMeta('f_user', { slot: 3 }).dtype, 'int64');
  t.is(new FeatureMeta('f_user', { slot: 3 }).shape, -1);
});

test('slots come from the name (slot_N, fc_slot_N) or in order of first use', (t) => {
  const s = new FeatureSlots(new Map([['user_id', 1]]));
  t.is(s.slotOf('user_id'), 1);
  t.is(s.slotOf('slot_42'), 42);
  t.is(s.slotOf('fc_slot_7'), 7);
  t.is(s.slotOf('f_a'), 1);
  t.is(s.slotOf('f_b'), 2);
  t.is(s.slotOf('f_a'), 1);
});

test('parseDType maps aliases and TF numbers; int64 is int64', (t) => {
  t.is(parseDType('long'), 'int64');
  t.is(parseDType('9'), 'int64');
  t.is(parseDType('double'), 'float64');
  t.is(parseDType('7'), 'string');
  t.throws(() => parseDType('complex'), { instanceOf: ConfigError });
});

test('ParserArgs always includes serving_default and keeps order', (t) => {
  t.deepEqual(new ParserArgs().signatureName, ['serving_default']);
  t.deepEqual(new ParserArgs({ signatureName: ['b', 'a', 'b'] }).signatureName, ['b', 'a', 'serving_default']);
  t.is(new ParserArgs().modelName, 'entry');
  t.is(new ParserArgs({ variantType: 'examplebatch' }).variantType, 'example_batch');
  t.throws(() => new ParserArgs({ denseFeatures: ['a'], denseFeatureShapes: [1] }), { instanceOf: ConfigError });
});

test('fillLineId fills uid/item_id fids, req_time from the clock, and other fields by type', (t) => {
  const ctx = genContext(3, { now: NOW, actions: [4, 5] });
  const lid: idl.matrix.proto.LineId.$Properties = {};
  fillLineId(ctx, lid, ['uid', 'item_id', 'req_time', 'actions', 'chnid', 'device_type', 'special_strategies', 'is_draw'].map((n) => new FeatureMeta(n, { shape: 3 })));
  t.is(fromLong(lid.uid as never) >> 48n, 1n);
  t.is(fromLong(lid.itemId as never) >> 48n, 200n);
  t.is(lid.reqTime, NOW());
  t.is(lid.sampleRate, 1);
  t.is(lid.actions!.length, 3);
  t.true(lid.actions!.every((a) => a === 4 || a === 5));
  t.is(lid.deviceType, 'hello world');
  t.is(lid.specialStrategies!.length, 3);
  t.is(lid.isDraw, false);
  t.true(Number(lid.chnid) >= 0 && Number(lid.chnid) <= 10);
});

test('Example: named features with slot ids, dense lists, one label unless a label feature is given', (t) => {
  const ctx = genContext(4, { now: NOW });
  const ex = genExample(ctx, ['user_id', 'slot_5'], { dense: [new FeatureMeta('ctr', { shape: 3, dtype: 'float64' }), new FeatureMeta('label', { shape: 2 })], dropRate: 0 });
  const names = ex.namedFeature!.map((f) => f.name);
  t.deepEqual(names, ['user_id', 'slot_5', 'ctr']);
  t.is(ex.namedFeature![1]!.id, 5);
  t.is(ex.namedFeature![1]!.feature!.fidV2List!.value!.length, 1);
  t.is(ex.namedFeature![2]!.feature!.doubleList!.value!.length, 3);
  t.is(ex.label!.length, 2);
  t.true(monolith.io.proto.Example.encode(ex).finish().length > 0);
});

test('ExampleBatch: every list has batch_size rows, plus __LINE_ID__ and __LABEL__', (t) => {
  const ctx = genContext(5, { now: NOW });
  const eb = genExampleBatch(ctx, ['slot_1', 'slot_2'], 8, { dense: [new FeatureMeta('price', { shape: 1, dtype: 'int64' })] });
  const decoded = monolith.io.proto.ExampleBatch.decode(monolith.io.proto.ExampleBatch.encode(eb).finish());
  t.is(decoded.batchSize, 8);
  t.deepEqual(decoded.namedFeatureList.map((l) => l.name), ['slot_1', 'slot_2', 'price', '__LINE_ID__', '__LABEL__']);
  for (const l of decoded.namedFeatureList) t.is(l.feature!.length, 8);
  const lineId = idl.matrix.proto.LineId.decode(decoded.namedFeatureList[3]!.feature![0]!.bytesList!.value![0]!);
  t.is(Number(lineId.reqTime), NOW());
  t.deepEqual(decoded.namedFeatureList[4]!.feature!.map((f) => f.floatList!.value![0]), [0, 1, 0, 1, 0, 1, 0, 1]);
});

test('Instance: v1 slots 1 and 200 always get one fid; v2 features by name', (t) => {
  const ctx = genContext(6, { now: NOW });
  for (let i = 0; i < 20; i++) {
    const inst = genInstance(ctx, { fidv1Features: [1, 200, 3], fidv2Features: ['f_a'] });
    const slots = inst.fid!.map((f) => Number(fromLong(f as never) >> 54n));
    t.is(slots.filter((s) => s === 1).length, 1);
    t.is(slots.filter((s) => s === 200).length, 1);
    t.is(inst.feature![0]!.name, 'f_a');
    t.is(inst.feature![0]!.fid!.length, 1);
  }
});

test('prediction logs: floor(max/batch) logs, rotating signatures, DT_STRING [batch] inputs', (t) => {
  const args = new ParserArgs({ variantType: 'instance', batchSize: 4, maxRecords: 20, signatureName: ['a'], fidv1Features: [1, 2] });
  const logs = [...genPredictionLogs(genContext(1, { now: NOW }), args)];
  t.is(logs.length, 5);
  t.deepEqual(logs.map((l) => l.predictLog!.request!.modelSpec!.signatureName), ['a', 'serving_default', 'a', 'serving_default', 'a']);
  const x = logs[0]!.predictLog!.request!.inputs!.instances!;
  t.is(x.dtype, tensorflow.DataType.DT_STRING);
  t.deepEqual(x.tensorShape!.dim!.map((d) => d.size), [4]);
  t.is(x.stringVal!.length, 4);
  parser.proto.Instance.decode(x.stringVal![0]!);
  t.throws(() => [...genPredictionLogs(genContext(1), new ParserArgs({ batchSize: 64, maxRecords: 64 }))], { instanceOf: ConfigError });
});

test('a multi-head serving_default repeats the request once per head with output_filter', (t) => {
  const args = new ParserArgs({ variantType: 'example_batch', batchSize: 2, maxRecords: 4, sparseFeatures: ['slot_1'] });
  const sigs = new Map([['serving_default', { inputs: ['example_batch'], outputs: ['ctr', 'cvr'] }]]);
  const logs = [...genPredictionLogs(genContext(2, { now: NOW }), args, sigs)];
  t.is(logs.length, 2 * 3);
  t.deepEqual(logs.slice(0, 3).map((l) => l.predictLog!.request!.outputFilter ?? []), [[], ['ctr'], ['cvr']]);
  t.is(logs[0]!.predictLog!.request!.inputs!.example_batch!.stringVal!.length, 1);
  const bad = new Map([['serving_default', { inputs: ['instances'], outputs: [] }]]);
  t.throws(() => [...genPredictionLogs(genContext(2), args, bad)], { instanceOf: ConfigError, message: /no input "example_batch"/ });
});

test('genWarmupFile creates directories, drops only the dense label, and returns an existing file as is', async (t) => {
  const dir = await tempDir();
  const file = join(dir, 'a', 'b', 'tf_serving_warmup_requests');
  const args = new ParserArgs({
    warmupFile: file, variantType: 'example', batchSize: 2, maxRecords: 4, sparseFeatures: ['slot_1'],
    denseFeatures: ['label', 'ctr'], denseFeatureShapes: [1, 2], denseFeatureTypes: ['float32', 'float32'],
  });
  t.is(await genWarmupFile(genContext(1, { now: NOW }), args), file);
  const recs = await readAllTFRecords(file);
  t.is(recs.length, 2);
  const req = tensorflow.serving.PredictionLog.decode(recs[0]!).predictLog!.request!;
  const ex = monolith.io.proto.Example.decode(req.inputs!.examples!.stringVal![0]!);
  t.deepEqual(ex.namedFeature.map((f) => f.name), ['slot_1', 'ctr']);
  t.is(await genWarmupFile(genContext(2), args), file, 'existing file returned');
  t.is(await genWarmupFile(genContext(2), new ParserArgs()), undefined);
  await t.throwsAsync(access(join(dir, 'nothing')));
});

test('random data files read back with the layout they were written with', async (t) => {
  const dir = await tempDir();
  const args = new ParserArgs({ variantType: 'instance', batchSize: 5, fidv1Features: [1, 2, 3] });
  const a = join(dir, 'a.pb');
  t.is(await genRandomDataFile(a, genContext(1, { now: NOW }), args, { numBatch: 3 }), 15);
  let n = 0;
  for await (const r of readRecordFile(a, { sortId: true })) {
    parser.proto.Instance.decode(r.payload);
    n++;
  }
  t.is(n, 15);
  const b = join(dir, 'b.pb');
  await genRandomDataFile(b, genContext(1), new ParserArgs({ variantType: 'example_batch', batchSize: 4, sparseFeatures: ['slot_3'] }), { numBatch: 2, sortId: false, source: 'src' });
  const ebs = [];
  for await (const r of readRecordFile(b, { lagrangexHeader: true })) ebs.push(monolith.io.proto.ExampleBatch.decode(r.payload));
  t.deepEqual(ebs.map((e) => e.batchSize), [4, 4]);
  const logs = [];
  for await (const l of predictionLogsFromFile(a, { batchSize: 5, maxRecords: 15, sortId: true, signatureNames: ['x'] })) logs.push(l);
  t.deepEqual(logs.map((l) => l.predictLog!.request!.modelSpec!.signatureName), ['x', 'serving_default', 'x']);
  t.is(logs[0]!.predictLog!.request!.modelSpec!.name, 'default');
  t.deepEqual(await readdir(dir), ['a.pb', 'b.pb']);
  t.is(stringTensor([]).tensorShape!.dim![0]!.size, 0);
});
