import test from 'ava';
import { join } from 'node:path';
import { FormatError } from '../../../src/errors.js';
import { genContext, genExample, genExampleBatch, genInstance } from '../../../src/export/data-gen.js';
import { FeatureMeta } from '../../../src/export/feature-meta.js';
import { readRecordFile } from '../../../src/io/record-file.js';
import { idl, monolith, parser } from '../../../src/proto.js';
import { INVALID_LABEL, type ParseConfig, type RecordVariant } from '../../../src/streams/parse/parse-config.js';
import { RecordParser } from '../../../src/streams/parse/record-parser.js';
import { concatBatches, sliceBatch } from '../../../src/streams/parse/batch-ops.js';
import { MONOLITH_ASSETS } from '../../helpers.js';
import { plain, rowFids, Wire } from './wire-helpers.js';

const both = (config: ParseConfig, variant: RecordVariant, records: Uint8Array[]) => {
  const fast = new RecordParser(config, { variant }).parse(records);
  const ref = new RecordParser(config, { variant, decoder: 'reference' }).parse(records);
  return { fast, ref };
};

const now = () => 1_700_000_000;
const dense = [new FeatureMeta('d3', { shape: 3, dtype: 'float32' }), new FeatureMeta('d1', { shape: 1, dtype: 'float64' }), new FeatureMeta('i2', { shape: 2, dtype: 'int64' })];
const lineIdFields = ['uid', 'req_time', 'item_id', 'sample_rate', 'chnid', 'rank', 'is_draw'] as const;

test('Instance: fast decoder = protobufjs decode + convert on generated data (fid v1 incl. slot 1023 with the hi bit set, fid v2, dense, LineId)', (t) => {
  const ctx = genContext(7, { now });
  const records = Array.from({ length: 300 }, () =>
    parser.proto.Instance.encode(genInstance(ctx, { fidv1Features: [1, 2, 200, 1023, 77], fidv2Features: ['f_a', 'f_b'], dense, dropRate: 0.3 })).finish(),
  );
  const config: ParseConfig = {
    sparse: [
      { name: 'slot_1', slot: 1 },
      { name: 'slot_2', slot: 2 },
      { name: 'slot_200', slot: 200 },
      { name: 'slot_1023', slot: 1023 },
      { name: 'f_a', slot: 3001 },
      { name: 'f_b', slot: 3002 },
    ],
    dense: [{ name: 'd3', width: 3 }, { name: 'd1', width: 1 }, { name: 'i2', width: 2 }],
    labelWidth: 1,
    lineIdFields: [...lineIdFields],
  };
  const { fast, ref } = both(config, 'instance', records);
  t.deepEqual(plain(fast), plain(ref));
  t.is(fast.rows, 300);
  const s1023 = fast.sparse.find((c) => c.name === 'slot_1023')!;
  t.true(s1023.fids.length > 0);
  for (let i = 1; i < s1023.fids.length; i += 2) t.is(s1023.fids[i]! >>> 22, 1023);
  t.true(s1023.fids[1]! >= 0x80000000, 'hi bit set and kept unsigned');
  // slot 77 is not configured: its fids are dropped
  const total = fast.sparse.reduce((s, c) => s + c.fids.length / 2, 0);
  const v1InRecords = records.reduce((s, r) => s + parser.proto.Instance.decode(r).fid.filter((f) => (f as unknown as { high: number }).high >>> 22 !== 77).length, 0);
  const v2InRecords = records.reduce((s, r) => s + parser.proto.Instance.decode(r).feature.reduce((a, f) => a + (f.name === 'f_a' || f.name === 'f_b' ? f.fid!.length : 0), 0), 0);
  t.is(total, v1InRecords + v2InRecords);
  // v1 → v2 conversion on request
  const conv = both({ ...config, fidV1ToV2: true }, 'instance', records);
  t.deepEqual(plain(conv.fast), plain(conv.ref));
  const c2 = conv.fast.sparse.find((c) => c.name === 'slot_2')!;
  t.is(c2.fids[1]! >>> 16, 2);
});

test('Example: fast = reference on generated data', (t) => {
  const ctx = genContext(11, { now });
  const extra = [new FeatureMeta('uid'), new FeatureMeta('req_time'), new FeatureMeta('sample_rate'), new FeatureMeta('rank'), new FeatureMeta('chnid')];
  const records = Array.from({ length: 200 }, () => monolith.io.proto.Example.encode(genExample(ctx, ['f_user', 'f_item', 'f_x_recent'], { dense, extra, dropRate: 0.5 })).finish());
  const config: ParseConfig = {
    sparse: [
      { name: 'f_user', slot: 1 },
      { name: 'f_item', slot: 2 },
      { name: 'f_x_recent', slot: 3 },
    ],
    dense: [{ name: 'd3', width: 3 }, { name: 'd1', width: 1 }, { name: 'i2', width: 2 }],
    lineIdFields: [...lineIdFields],
  };
  const { fast, ref } = both(config, 'example', records);
  t.deepEqual(plain(fast), plain(ref));
  t.is(fast.rows, 200);
  t.true(fast.sparse[0]!.fids.length > 0);
});

test('ExampleBatch: fast = reference on generated data, and batches of several records concatenate', (t) => {
  const ctx = genContext(13, { now });
  const records = Array.from({ length: 3 }, () => monolith.io.proto.ExampleBatch.encode(genExampleBatch(ctx, ['f_user', 'f_item', 'f_seq_recent'], 17, { dense, dropRate: 0.4 })).finish());
  const config: ParseConfig = {
    sparse: [
      { name: 'f_user', slot: 1 },
      { name: 'f_item', slot: 2 },
      { name: 'f_seq_recent', slot: 3 },
    ],
    dense: [{ name: 'd3', width: 3 }, { name: 'i2', width: 2 }],
    lineIdFields: ['uid', 'req_time', 'item_id', 'sample_rate'],
  };
  const { fast, ref } = both(config, 'example_batch', records);
  t.deepEqual(plain(fast), plain(ref));
  t.is(fast.rows, 51);
  const one = new RecordParser(config, { variant: 'example_batch' });
  t.deepEqual(plain(concatBatches(records.map((r) => one.parse([r])))), plain(fast));
  t.deepEqual(plain(concatBatches([sliceBatch(fast, 0, 20), sliceBatch(fast, 20, 51)])), plain(fast));
});

test('edge cases by hand: unpacked and packed fids, names after values, unknown fields of every wire type, missing labels, exact values', (t) => {
  const hiFid = (1023n << 54n) | 5n; // top bit set
  const lineId = new Wire().unknowns(300).fixed64(2, 0xfedcba9876543210n).varint(3, -42n).fixed32(27, 0x3f000000).varint(87, 1).varint(145, -3);
  // feature with its name *after* the values, an fid_list, and unknown fields inside
  const featA = new Wire().packedFixed64(2, [(3001n << 48n) | 1n]).unknowns(20).msg(6, new Wire().packedFixed64(1, [(3001n << 48n) | 2n, (3001n << 48n) | 3n])).bytes(1, 'f_a');
  const featD = new Wire().bytes(1, 'd3').packedFloats(3, [1.5]).packedVarints(4, [-7n]); // float_value then int64_value, padded with 0
  const featLong = new Wire().bytes(1, 'd1').packedFloats(3, [9, 8, 7]); // more than width: cut
  const inst1 = new Wire()
    .unknowns(50)
    .fixed64(1, (1n << 54n) | 11n) // unpacked
    .packedFixed64(1, [hiFid, (77n << 54n) | 1n, (1n << 54n) | 12n])
    .msg(9, featA)
    .msg(9, featD)
    .msg(9, featLong)
    .msg(5, lineId)
    .float(4, 0.25)
    .finish(); // no label
  const inst2 = new Wire().packedFloats(3, [1, 0, 1]).float(3, 0.5).finish(); // unpacked label too; no line_id; no weight
  const config: ParseConfig = {
    sparse: [
      { name: 'slot_1', slot: 1 },
      { name: 'slot_1023', slot: 1023 },
      { name: 'f_a', slot: 3001 },
    ],
    dense: [{ name: 'd3', width: 3 }, { name: 'd1', width: 1 }],
    labelWidth: 2,
    lineIdFields: ['uid', 'req_time', 'sample_rate', 'is_draw', 'rank'],
  };
  const { fast, ref } = both(config, 'instance', [inst1, inst2]);
  t.deepEqual(plain(fast), plain(ref));
  t.deepEqual(rowFids(fast, 'slot_1', 0), [(1n << 54n) | 11n, (1n << 54n) | 12n]);
  t.deepEqual(rowFids(fast, 'slot_1023', 0), [hiFid]);
  t.deepEqual(rowFids(fast, 'f_a', 0), [(3001n << 48n) | 1n, (3001n << 48n) | 2n, (3001n << 48n) | 3n]);
  t.deepEqual(rowFids(fast, 'slot_1', 1), []);
  t.deepEqual(Array.from(fast.dense[0]!.values), [1.5, -7, 0, 0, 0, 0]);
  t.deepEqual(Array.from(fast.dense[1]!.values), [9, 0]);
  t.deepEqual(Array.from(fast.labels), [0, 0, 1, 0], 'Instance without label → 0 (Monolith zero-fills); extra labels cut at labelWidth');
  t.deepEqual(Array.from(fast.weights!), [0.25, 1]);
  t.deepEqual(Array.from(fast.lineId[0]!.values as BigUint64Array), [0xfedcba9876543210n, 0n]);
  t.deepEqual(Array.from(fast.lineId[1]!.values as BigInt64Array), [-42n, 0n]);
  t.deepEqual(Array.from(fast.lineId[2]!.values as Float32Array), [0.5, 1], 'sample_rate defaults to 1');
  t.deepEqual(Array.from(fast.lineId[3]!.values as Int32Array), [1, 0]);
  t.deepEqual(Array.from(fast.lineId[4]!.values as Int32Array), [-3, 0]);
});

test('Example edge cases: feature before name, empty feature, label feature, weight <= 0 → 1, fid_v2_lists, missing label → INVALID_LABEL', (t) => {
  const fidList = (vs: bigint[]) => new Wire().packedFixed64(1, vs);
  const nf = (name: string, feature: Wire, nameFirst = true) => (nameFirst ? new Wire().bytes(1, name).msg(2, feature) : new Wire().msg(2, feature).unknowns(9).bytes(1, name));
  const ex1 = new Wire()
    .msg(1, nf('f_a', new Wire().msg(2, fidList([(5n << 48n) | 9n])), false))
    .msg(1, nf('f_b', new Wire())) // empty Feature
    .msg(1, nf('f_c', new Wire().msg(7, new Wire().msg(1, fidList([1n, 2n])).msg(1, fidList([3n])))))
    .msg(1, nf('d', new Wire().msg(4, new Wire().bytes(1, Buffer.from(new Float64Array([2.5, 3.5]).buffer)))))
    .packedFloats(101, [1, 1])
    .msg(1, nf('label', new Wire().msg(3, new Wire().packedFloats(1, [0.75]))))
    .float(102, 0)
    .unknowns(400)
    .finish();
  const ex2 = new Wire().msg(1, nf('d', new Wire().varint(12, -9n))).float(102, 2).finish();
  const config: ParseConfig = {
    sparse: [
      { name: 'f_a', slot: 5 },
      { name: 'f_b', slot: 6 },
      { name: 'f_c', slot: 7 },
    ],
    dense: [{ name: 'd', width: 2 }],
    labelWidth: 2,
  };
  const { fast, ref } = both(config, 'example', [ex1, ex2]);
  t.deepEqual(plain(fast), plain(ref));
  t.deepEqual(rowFids(fast, 'f_a', 0), [(5n << 48n) | 9n]);
  t.deepEqual(rowFids(fast, 'f_b', 0), []);
  t.deepEqual(rowFids(fast, 'f_c', 0), [1n, 2n, 3n]);
  t.deepEqual(Array.from(fast.dense[0]!.values), [2.5, 3.5, -9, 0]);
  t.deepEqual(Array.from(fast.labels), [0.75, Math.fround(INVALID_LABEL), Math.fround(INVALID_LABEL), Math.fround(INVALID_LABEL)], 'a `label` feature wins over Example.label');
  t.deepEqual(Array.from(fast.weights!), [1, 2]);
});

test('ExampleBatch edge cases: SHARED list, __LABEL__ with empty rows, __LINE_ID__, instance_weight list, unknown lists', (t) => {
  const fl = (vs: bigint[]) => new Wire().msg(1, new Wire().packedFixed64(1, vs));
  const floats = (vs: number[]) => new Wire().msg(3, new Wire().packedFloats(1, vs));
  const list = (name: string, features: Wire[], shared = false) => {
    const w = new Wire().bytes(1, name);
    for (const f of features) w.msg(2, f);
    if (shared) w.varint(3, 1);
    return w;
  };
  const lid = (uid: bigint) => new Wire().msg(6, new Wire().bytes(1, new Wire().fixed64(2, uid).unknowns(160).finish()));
  const eb = new Wire()
    .msg(1, list('user', [fl([1n])], true))
    .msg(1, list('item', [fl([2n]), new Wire(), fl([3n, 4n])]))
    .msg(1, list('__LABEL__', [floats([1]), new Wire(), floats([0])]))
    .msg(1, list('__LINE_ID__', [lid(10n), new Wire(), lid(12n)]))
    .msg(1, list('instance_weight', [floats([3]), floats([-1]), new Wire()]))
    .msg(1, list('not_configured', [new Wire()]))
    .unknowns(200)
    .varint(3, 3)
    .finish();
  const config: ParseConfig = { sparse: [{ name: 'user', slot: 1 }, { name: 'item', slot: 2 }], lineIdFields: ['uid', 'sample_rate'] };
  const { fast, ref } = both(config, 'example_batch', [eb]);
  t.deepEqual(plain(fast), plain(ref));
  t.is(fast.rows, 3);
  t.deepEqual([0, 1, 2].map((r) => rowFids(fast, 'user', r)), [[1n], [1n], [1n]]);
  t.deepEqual([0, 1, 2].map((r) => rowFids(fast, 'item', r)), [[2n], [], [3n, 4n]]);
  t.deepEqual(Array.from(fast.labels), [1, Math.fround(INVALID_LABEL), 0]);
  t.deepEqual(Array.from(fast.lineId[0]!.values as BigUint64Array), [10n, 0n, 12n]);
  t.deepEqual(Array.from(fast.lineId[1]!.values as Float32Array), [1, 1, 1]);
  t.deepEqual(Array.from(fast.weights!), [3, 1, 1]);
});

test("Monolith's real ExampleBatch sample: fast = reference, 51 rows, values as in the pbtxt", async (t) => {
  const path = join(MONOLITH_ASSETS, 'derived', 'monolith_example_batch_from_pbtxt.bin');
  const recs: Buffer[] = [];
  for await (const r of readRecordFile(path, { lagrangexHeader: true })) recs.push(Buffer.from(r.payload));
  const msg = monolith.io.proto.ExampleBatch.decode(recs[0]!);
  const sparseNames = msg.namedFeatureList.map((l) => l.name!).filter((n) => !n.startsWith('__'));
  const config: ParseConfig = { sparse: sparseNames.map((name, i) => ({ name, slot: 1024 + i })), lineIdFields: ['uid', 'req_time', 'item_id', 'sample_rate'] };
  const { fast, ref } = both(config, 'example_batch', recs);
  t.deepEqual(plain(fast), plain(ref));
  t.is(fast.rows, 51);
  t.is(fast.sparse.length, sparseNames.length);
  t.deepEqual(rowFids(fast, 'f_goods_test30_bool', 2), [9376215397644962785n]);
  // fid counts agree with the message, list by list
  for (const l of msg.namedFeatureList) {
    if (l.name!.startsWith('__')) continue;
    const want = l.feature!.reduce((s, f) => s + (f.fidV1List?.value?.length ?? 0), 0);
    t.is(fast.sparse.find((c) => c.name === l.name)!.fids.length / 2, want, l.name!);
  }
  // LineIds: req_time / item_id from bytes with unknown fields 11, 20, 163
  const lines = msg.namedFeatureList.find((l) => l.name === '__LINE_ID__')!;
  const first = idl.matrix.proto.LineId.decode(lines.feature![0]!.bytesList!.value![0]!);
  t.is((fast.lineId[1]!.values as BigInt64Array)[0], BigInt(first.reqTime!.toString()));
  t.is((fast.lineId[2]!.values as BigUint64Array)[0], BigInt(first.itemId!.toString()));
  t.true(Number((fast.lineId[1]!.values as BigInt64Array)[0]) > 1.6e9);
});

test('bad bytes are FormatErrors naming file, byte offset and field', (t) => {
  const p = new RecordParser({ sparse: [{ name: 'slot_1', slot: 1 }] }, { variant: 'instance' });
  const good = new Wire().packedFixed64(1, [1n << 54n]).msg(5, new Wire().fixed64(2, 1n)).finish();
  const cut = good.subarray(0, good.length - 3);
  const e1 = t.throws(() => p.parse([cut], { file: 'data.pb', offset: 1000 }), { instanceOf: FormatError });
  t.is(e1!.file, 'data.pb');
  t.true(e1!.offset! >= 1000 && e1!.offset! <= 1000 + good.length, `offset ${e1!.offset}`);
  t.regex(e1!.message, /data\.pb, byte \d+, field (Instance|LineId)/);
  t.throws(() => p.parse([Uint8Array.of(0x0a, 0x05, 0x01)]), { instanceOf: FormatError, message: /length 5 runs past/ });
  t.throws(() => p.parse([Uint8Array.of(0x0f)]), { instanceOf: FormatError, message: /invalid wire type 7/ });
  t.throws(() => p.parse([Uint8Array.of(0x00)]), { instanceOf: FormatError, message: /field number 0/ });
  t.throws(() => p.parse([Uint8Array.of(0x0a, 0x03, 1, 2, 3)]), { instanceOf: FormatError, message: /not a multiple of 8/ });
  t.throws(() => p.parse([Uint8Array.of(0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)]), { instanceOf: FormatError, message: /varint longer than 10 bytes/ });
  const ep = new RecordParser({ sparse: [{ name: 'f', slot: 1 }] }, { variant: 'example' });
  const wrongKind = new Wire().msg(1, new Wire().bytes(1, 'f').msg(2, new Wire().msg(3, new Wire().packedFloats(1, [1])))).finish();
  t.throws(() => ep.parse([wrongKind]), { instanceOf: FormatError, message: /feature "f" holds float_list, expected a fid list/ });
  const ebp = new RecordParser({ sparse: [{ name: 'f', slot: 1 }] }, { variant: 'example_batch' });
  const short = new Wire().msg(1, new Wire().bytes(1, 'f').msg(2, new Wire())).varint(3, 2).finish();
  t.throws(() => ebp.parse([short]), { instanceOf: FormatError, message: /list "f" holds 1 features, batch_size is 2/ });
  // the reference path reports bad bytes as FormatErrors too
  const rp = new RecordParser({ sparse: [] }, { variant: 'instance', decoder: 'reference' });
  t.throws(() => rp.parse([Uint8Array.of(0x0a, 0x05, 0x01)], { file: 'x' }), { instanceOf: FormatError });
});

test('config errors name the problem', (t) => {
  t.throws(() => new RecordParser({ sparse: [{ name: 'a', slot: 1 }, { name: 'b', slot: 1 }] }, { variant: 'instance' }), { message: /share slot 1/ });
  t.throws(() => new RecordParser({ sparse: [], dense: [{ name: 'd', width: 0 }] }, { variant: 'instance' }), { message: /width must be/ });
  t.throws(() => new RecordParser({ sparse: [], lineIdFields: ['nope' as never] }, { variant: 'instance' }), { message: /unknown LineId field "nope"/ });
  t.throws(() => new RecordParser({ sparse: [{ name: '__LABEL__', slot: 1 }] }, { variant: 'instance' }), { message: /reserved/ });
  t.throws(() => new RecordParser({ sparse: [] }, { variant: 'nope' as never }), { message: /variant/ });
});
