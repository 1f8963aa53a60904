import test from 'ava';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { idl, monolith, parser, tensorflow } from '../../src/proto.js';
import { readAllTFRecords } from '../../src/io/tfrecord.js';
import { makeFidV1 } from '../../src/io/fid.js';
import { toLong, fromLong } from '../../src/io/long.js';
import { HASH_TABLE_SHARDS, hex, REAL_WARMUP } from '../helpers.js';

test('an Instance encodes to hand-computed bytes', (t) => {
  const fid = makeFidV1(1, 5); // 0x0040000000000005
  const bytes = parser.proto.Instance.encode({ fid: [toLong(fid)], label: [1], lineId: { uid: toLong(7n) } }).finish();
  t.is(
    hex(bytes),
    [
      '0a08', '0500000000004000', // fid = 1, packed fixed64
      '1a04', '0000803f', // label = 3, packed float 1.0
      '2a09', '11', '0700000000000000', // line_id = 5 { uid = 2 fixed64 }
    ].join(''),
  );
  const back = parser.proto.Instance.decode(bytes);
  t.is(fromLong(back.fid[0]!), fid);
  t.is(back.lineId!.sampleRate, 1, 'proto2 default of LineId.sample_rate is 1.0');
});

test('unknown LineId fields (as in real Monolith data) survive a round trip', (t) => {
  // field 11 varint 150, field 163 length-delimited "ab": not in the public LineId.
  const raw = Buffer.from('5896019a0a026162', 'hex');
  const lineId = idl.matrix.proto.LineId.decode(raw);
  t.is(hex(idl.matrix.proto.LineId.encode(lineId).finish()), hex(raw));
});

test('every real Monolith hash-table shard decodes as EntryDump and re-encodes byte for byte', async (t) => {
  const files = (await readdir(HASH_TABLE_SHARDS)).filter((f) => f.startsWith('MonolithHashTable_')).sort();
  t.true(files.length >= 29);
  let entries = 0;
  let empty = 0;
  const dims = new Set<number>();
  for (const f of files) {
    const path = join(HASH_TABLE_SHARDS, f);
    if ((await stat(path)).size === 0) empty++;
    for (const rec of await readAllTFRecords(path)) {
      const e = monolith.hash_table.EntryDump.decode(rec);
      dims.add(e.num.length);
      t.true(Number(e.id) >= 0 && Number(e.id) < 30);
      t.is(hex(monolith.hash_table.EntryDump.encode(e).finish()), hex(rec), `${f}: entry ${e.id}`);
      entries++;
    }
  }
  t.true(empty >= 2);
  t.true(entries >= 30);
  t.deepEqual([...dims].sort((a, b) => a - b), [16, 17, 32, 33]);
});

test('the 33-dim table dumps an FTRL segment and an SGD segment; num is unpacked (one tag per float)', async (t) => {
  const files = (await readdir(HASH_TABLE_SHARDS)).filter((f) => f.startsWith('MonolithHashTable_'));
  for (const f of files) {
    for (const rec of await readAllTFRecords(join(HASH_TABLE_SHARDS, f))) {
      const e = monolith.hash_table.EntryDump.decode(rec);
      if (e.num.length !== 33) continue;
      t.deepEqual(e.opt!.dump!.map((d) => Object.keys(d).filter((k) => k !== 'type')), [['ftrl'], ['sgd']]);
      t.is(e.opt!.dump![0]!.ftrl!.zero!.length, 1);
      t.is(rec[0], 0x09);
      t.is(rec[9], 0x15, 'num element written with its own tag');
      t.is(hex(rec.subarray(rec.length - 2)), '2000', 'last_update_ts_sec written as 0');
      return;
    }
  }
  t.fail('no 33-dim entry found');
});

test('the real TF Serving warmup request decodes: DT_FLOAT [1,30,30,3] as tensor_content', async (t) => {
  const [rec] = await readAllTFRecords(REAL_WARMUP);
  const log = tensorflow.serving.PredictionLog.decode(rec!);
  t.is(log.logType, 'predictLog');
  const req = log.predictLog!.request!;
  t.is(req.modelSpec!.name, 'traffic-sign-classifier');
  t.is(req.modelSpec!.signatureName, 'serving_default');
  const x = req.inputs!.conv2d_input!;
  t.is(x.dtype, tensorflow.DataType.DT_FLOAT);
  t.deepEqual(x.tensorShape!.dim!.map((d) => Number(d.size)), [1, 30, 30, 3]);
  t.is(x.tensorContent!.length, 10800);
  t.is(hex(tensorflow.serving.PredictionLog.encode(log).finish()), hex(rec!));
});

test('ModelSpec.version is a wrapper message: 0x12 len 0x08 varint; absent means unset', (t) => {
  t.is(hex(tensorflow.serving.ModelSpec.encode({ name: 'm', version: { value: 3 } }).finish()), '0a016d12020803');
  const unset = tensorflow.serving.ModelSpec.decode(tensorflow.serving.ModelSpec.encode({ name: 'm' }).finish());
  t.is(unset.version, null);
  const zero = tensorflow.serving.ModelSpec.decode(tensorflow.serving.ModelSpec.encode({ name: 'm', version: { value: 0 } }).finish());
  t.not(zero.version, null);
});
