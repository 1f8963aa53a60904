// Files and messages our code writes must decode with decoders nobody here wrote,
// and theirs must decode with ours:
//  * TFRecord framing against @roboflow/tfrecords (its own CRC32C, reader and builder);
//  * protobuf messages against @bufbuild/protobuf, driven by a FileDescriptorSet that
//    the buf CLI compiles from schemas/ (so neither protobufjs nor our codegen is involved);
//  * the real fixtures in /work/shared/fixtures, decoded by both sides.
// Values are compared through a canonical form built by walking the buf descriptor:
// field name -> value, 64-bit integers as decimal strings with their signedness, bytes
// as hex, floats as numbers, unknown fields as "number:wiretype:hex".
import test from 'ava';
import { HASH_TABLE_SHARDS, MONOLITH_ASSETS, REAL_WARMUP, ROOT } from './helpers.js';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Long from 'long';
import protobuf from 'protobufjs';
import {
  createFileRegistry,
  fromBinary,
  toBinary,
  ScalarType,
  type DescField,
  type DescMessage,
  type FileRegistry,
} from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { reflect, type ReflectList, type ReflectMap, type ReflectMessage } from '@bufbuild/protobuf/reflect';
import { fromText, toText } from '@bufbuild/protobuf/txtpb';
import { parser, monolith, tensorflow, idl } from '../src/proto.js';
import { readTFRecords, TFRecordWriter, writeTFRecords, encodeTFRecord } from '../src/io/tfrecord.js';
import { readRecordFile } from '../src/io/record-file.js';
import { parseTextFormat, printTextFormat } from '../src/io/text-format.js';
import { Rng } from '../src/util/random.js';

const ASSETS = HASH_TABLE_SHARDS;
const EB_BIN = join(MONOLITH_ASSETS, 'derived', 'monolith_example_batch_from_pbtxt.bin');
const EB_WARMUP = join(MONOLITH_ASSETS, 'derived', 'monolith_example_batch_warmup.tfrecord');
const EB_PBTXT = join(MONOLITH_ASSETS, 'example_batch.pbtxt');

const tmp = mkdtempSync(join(tmpdir(), 'indep-dec-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

// ---------------------------------------------------------------------------
// @roboflow/tfrecords: CommonJS without type declarations, loaded with require.

interface RfFeature {
  int64List?: { valueList: number[] };
  floatList?: { valueList: number[] };
  bytesList?: { valueList: string[] };
}
interface RoboflowReader {
  readonly length: number;
  toArray(): object[];
}
interface RoboflowBuilderCtor {
  new (): { addArrayFeature(key: string, type: number, values: Array<string | number | Uint8Array>): void; build(): Buffer };
  buildTFRecords(records: Buffer[]): Buffer;
}
const require = createRequire(import.meta.url);
const rfReaderMod = require('@roboflow/tfrecords/src/tensorFlowReader.js') as {
  TFRecordsReader: new (buf: Buffer) => RoboflowReader;
};
const rfBuilderMod = require('@roboflow/tfrecords') as {
  TFRecordsBuilder: RoboflowBuilderCtor;
  FeatureType: { String: number; Binary: number; Int64: number; Float: number };
};
const rfPb = require('@roboflow/tfrecords/src/tensorFlowRecordsProtoBuf_pb.js') as {
  TFRecordsImageMessage: { deserializeBinary: (b: Uint8Array) => unknown };
};
const rfHelpers = require('@roboflow/tfrecords/src/tensorFlowHelpers.js') as { crc32c(b: Buffer): number; maskCrc(c: number): number };
const { TFRecordsReader } = rfReaderMod;
const { TFRecordsBuilder, FeatureType } = rfBuilderMod;

/** Silences the reader's console.log ("Wrong Data CRC") while it runs. */
function quietly<T>(fn: () => T): T {
  const log = console.log;
  console.log = () => {};
  try {
    return fn();
  } finally {
    console.log = log;
  }
}

/**
 * The raw payloads of a TFRecord buffer as @roboflow/tfrecords frames them. Its reader
 * checks both CRCs and then parses each payload as a tf.Example; for arbitrary payloads
 * we swap that parse for the identity for the duration of the call, so the framing and
 * CRC checks stay theirs. On a CRC mismatch it stops (it logs and breaks).
 */
function roboflowRawRecords(buf: Buffer): Buffer[] {
  const msg = rfPb.TFRecordsImageMessage;
  const orig = msg.deserializeBinary;
  msg.deserializeBinary = (b: Uint8Array) => Buffer.from(b);
  try {
    const reader = quietly(() => new TFRecordsReader(buf)) as unknown as { imageMessages: Buffer[] };
    return reader.imageMessages;
  } finally {
    msg.deserializeBinary = orig;
  }
}

// ---------------------------------------------------------------------------
// @bufbuild/protobuf registry from `buf build schemas`

let registryCache: FileRegistry | undefined;
function registry(): FileRegistry {
  if (registryCache) return registryCache;
  const buf = join(ROOT, 'node_modules', '.bin', 'buf');
  const out = join(tmp, 'set.binpb');
  execFileSync(buf, ['build', join(ROOT, 'schemas'), '-o', out], { cwd: tmp, stdio: ['ignore', 'ignore', 'pipe'] });
  const set = fromBinary(FileDescriptorSetSchema, readFileSync(out));
  registryCache = createFileRegistry(set);
  return registryCache;
}
function desc(name: string): DescMessage {
  const d = registry().getMessage(name);
  if (!d) throw new Error(`${name} not in the buf-built descriptor set`);
  return d;
}

// ---------------------------------------------------------------------------
// Canonical form

type Canon = null | boolean | number | string | Canon[] | { [k: string]: Canon };
const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

function toBig(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  if (typeof v === 'string') return BigInt(v);
  if (Long.isLong(v)) {
    const l = v as Long;
    return (BigInt(l.high >>> 0) << 32n) | BigInt(l.low >>> 0);
  }
  throw new Error(`not a 64-bit integer: ${String(v)}`);
}

function scalar(t: ScalarType, v: unknown): Canon {
  switch (t) {
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return `i64:${BigInt.asIntN(64, toBig(v))}`;
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return `u64:${BigInt.asUintN(64, toBig(v))}`;
    case ScalarType.BYTES:
      return `hex:${hex(v as Uint8Array)}`;
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE: {
      const n = v as number;
      if (Number.isNaN(n)) return 'NaN';
      if (Object.is(n, -0)) return '-0';
      return n;
    }
    case ScalarType.BOOL:
      return v as boolean;
    case ScalarType.STRING:
      return v as string;
    default:
      return v as number; // 32-bit integers
  }
}

const isZero = (t: ScalarType, v: unknown): boolean => {
  switch (t) {
    case ScalarType.BOOL:
      return v === false;
    case ScalarType.STRING:
      return v === '';
    case ScalarType.BYTES:
      return (v as Uint8Array).length === 0;
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return toBig(v) === 0n;
    default:
      return v === 0 && !Object.is(v, -0);
  }
};

function mapKeySorted(entries: [string, Canon][]): { [k: string]: Canon } {
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return Object.fromEntries(entries);
}

/** Canonical form of a message as @bufbuild/protobuf decoded it. */
function canonBuf(r: ReflectMessage): { [k: string]: Canon } {
  const out: { [k: string]: Canon } = {};
  for (const f of r.sortedFields) {
    if (!r.isSet(f)) continue;
    out[f.name] = canonBufField(f, r.get(f));
  }
  const unknown = r.getUnknown();
  if (unknown?.length) out.$unknown = unknown.map((u) => `${u.no}:${u.wireType}:${hex(u.data)}`);
  return out;
}

function canonBufField(f: DescField, v: unknown): Canon {
  switch (f.fieldKind) {
    case 'scalar':
      return scalar(f.scalar, v);
    case 'enum':
      return v as number;
    case 'message':
      return canonBuf(v as ReflectMessage);
    case 'list': {
      const items = [...(v as ReflectList)];
      if (f.listKind === 'scalar') return items.map((x) => scalar(f.scalar, x));
      if (f.listKind === 'enum') return items as number[];
      return items.map((x) => canonBuf(x as ReflectMessage));
    }
    case 'map': {
      const entries: [string, Canon][] = [];
      for (const [k, x] of v as ReflectMap) {
        const key = String(scalar(f.mapKey, k));
        entries.push([key, f.mapKind === 'scalar' ? scalar(f.scalar, x) : f.mapKind === 'enum' ? (x as number) : canonBuf(x as ReflectMessage)]);
      }
      return mapKeySorted(entries);
    }
  }
}

const bufCanon = (d: DescMessage, m: Parameters<typeof reflect>[1]): { [k: string]: Canon } => canonBuf(reflect(d, m));

const IMPLICIT = 2; // google.protobuf.FeatureSet.FieldPresence.IMPLICIT

/**
 * Canonical form of a protobufjs static-codec object (ours), walking the buf descriptor:
 * property names are protobufjs's camelCase of the .proto names.
 */
function canonOurs(d: DescMessage, m: Record<string, unknown>): { [k: string]: Canon } {
  const out: { [k: string]: Canon } = {};
  for (const f of [...d.fields].sort((a, b) => a.number - b.number)) {
    const prop = protobuf.util.camelCase(f.name);
    const v = m[prop];
    switch (f.fieldKind) {
      case 'list': {
        if (!Array.isArray(v) || v.length === 0) continue;
        if (f.listKind === 'scalar') out[f.name] = v.map((x) => scalar(f.scalar, x));
        else if (f.listKind === 'enum') out[f.name] = v as number[];
        else out[f.name] = v.map((x) => canonOurs(f.message, x as Record<string, unknown>));
        continue;
      }
      case 'map': {
        if (v == null || typeof v !== 'object' || Object.keys(v).length === 0) continue;
        const entries: [string, Canon][] = [];
        for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
          const is64 = [ScalarType.INT64, ScalarType.UINT64, ScalarType.SINT64, ScalarType.FIXED64, ScalarType.SFIXED64].includes(f.mapKey);
          const key = String(scalar(f.mapKey, is64 ? protobuf.util.longFromHash(k) : f.mapKey === ScalarType.BOOL ? k === 'true' : /INT|FIXED/.test(ScalarType[f.mapKey]) ? Number(k) : k));
          entries.push([key, f.mapKind === 'scalar' ? scalar(f.scalar, x) : f.mapKind === 'enum' ? (x as number) : canonOurs(f.message, x as Record<string, unknown>)]);
        }
        out[f.name] = mapKeySorted(entries);
        continue;
      }
      default: {
        if (v == null) continue;
        const explicit = f.oneof !== undefined || f.presence !== IMPLICIT;
        if (explicit) {
          if (!Object.prototype.hasOwnProperty.call(m, prop)) continue;
        } else if (f.fieldKind === 'scalar' ? isZero(f.scalar, v) : v === 0) continue;
        if (f.fieldKind === 'scalar') out[f.name] = scalar(f.scalar, v);
        else if (f.fieldKind === 'enum') out[f.name] = v as number;
        else out[f.name] = canonOurs(f.message, v as Record<string, unknown>);
      }
    }
  }
  const unknowns = (m as { $unknowns?: Uint8Array[] }).$unknowns;
  if (unknowns?.length) {
    out.$unknown = unknowns.map((raw) => {
      const r = protobuf.Reader.create(raw);
      const tag = r.uint32();
      return `${tag >>> 3}:${tag & 7}:${hex(raw.subarray(r.pos))}`;
    });
  }
  return out;
}

// ---------------------------------------------------------------------------
// Test data (float values are float32-exact so that the input equals the decoded value)

const f32 = Math.fround;
const u64 = (s: string): Long => Long.fromString(s, true);
const i64 = (s: string): Long => Long.fromString(s, false);
const fidV1 = (slot: number, id: number | bigint): Long => u64(((BigInt(slot) << 54n) | BigInt(id)).toString());
const fidV2 = (slot: number, id: number | bigint): Long => u64(((BigInt(slot) << 48n) | BigInt(id)).toString());

function lineIdProps(): idl.matrix.proto.LineId.$Properties {
  return {
    uid: u64('18446744073709551615'),
    reqTime: i64('1622716114123'),
    itemId: u64('9223372036854775809'),
    actions: [1, 2, -3],
    chnid: i64('-42'),
    preActions: [7],
    sampleRate: f32(0.25),
    specialStrategies: [3, -1],
    deviceType: 'android',
    cid: 'c-1',
    userId: 'user_ü',
    isDraw: true,
    rank: -5,
    dataSourceName: 'douyin',
  };
}

function instanceProps(rng: Rng): parser.proto.Instance.$Properties {
  const fid: Long[] = [fidV1(1023, 2n ** 53n + 1n), fidV1(512, 0)];
  for (let i = 0; i < 28; i++) fid.push(fidV1(1 + (i % 26), rng.int(0, 2 ** 31)));
  return {
    fid,
    value: [f32(1.5), f32(-0.125)],
    label: [1, 0],
    instanceWeight: f32(0.5),
    lineId: lineIdProps(),
    dense: Array.from({ length: 13 }, () => f32(rng.normal())),
    labelTag: [{ key: 1, val: f32(0.75) }, { key: -2, val: 0 }],
    nextFid: [fidV1(3, 3)],
    feature: [
      {
        name: 'f_user_v2',
        fid: [fidV2(65535, 1), fidV2(300, 2 ** 40)],
        floatValue: [f32(3.25)],
        int64Value: [i64('-9223372036854775808'), i64('9223372036854775807')],
        bytesValue: [Buffer.from([0, 255, 10]), Buffer.alloc(0)],
        fidList: [{ value: [fidV2(7, 7)] }],
        floatList: [{ value: [f32(0.5), f32(2)] }],
        int64List: [{ value: [i64('-1')] }],
        bytesList: [{ value: [Buffer.from('abc')] }],
      },
    ],
    dataSourceKey: 0xffffffff,
  };
}

function exampleProps(): monolith.io.proto.Example.$Properties {
  return {
    namedFeature: [
      { name: 'f_fid_v1', feature: { fidV1List: { value: [fidV1(2, 5), fidV1(1023, 1)] } }, id: 3, sortedId: 1 },
      { name: 'f_float', feature: { floatList: { value: [f32(0.1), f32(-2.5)] } } },
      { name: 'f_double', feature: { doubleList: { value: [0.1, -1e300] } } },
      { name: 'f_int64', feature: { int64List: { value: [i64('-5'), i64('1099511627776')] } } },
      { name: 'f_bytes', feature: { bytesList: { value: [Buffer.from('héllo'), Buffer.from([0, 1])] } } },
      { name: 'f_v2s', feature: { fidV2Lists: { list: [{ value: [fidV2(9, 1)] }, { value: [] }] } } },
      { name: 'f_fv', feature: { floatValue: f32(7.5) } },
      { name: 'f_iv', feature: { int64Value: i64('-7') } },
    ],
    namedRawFeature: [{ name: 'raw', rawFeature: { feature: [{ bytesValue: Buffer.from('x') }, { doubleValue: 2.5 }] }, id: 9 }],
    lineId: lineIdProps(),
    label: [1, f32(0.5)],
    instanceWeight: f32(2),
    dataSourceKey: 123456,
  };
}

function exampleBatchProps(): monolith.io.proto.ExampleBatch.$Properties {
  const lineIds = [0, 1, 2].map((i) => idl.matrix.proto.LineId.encode({ uid: u64(String(100 + i)), reqTime: i64('1700000000') }).finish());
  return {
    namedFeatureList: [
      {
        name: 'f_user',
        feature: [{ fidV1List: { value: [fidV1(1, 11)] } }],
        type: monolith.io.proto.FeatureListType.SHARED,
        id: 1,
      },
      {
        name: 'f_item',
        feature: [{ fidV1List: { value: [fidV1(2, 1)] } }, { fidV1List: { value: [] } }, { fidV1List: { value: [fidV1(2, 3), fidV1(2, 4)] } }],
      },
      { name: '__LABEL__', feature: [0, 1, 0].map((l) => ({ floatList: { value: [l] } })) },
      { name: '__LINE_ID__', feature: lineIds.map((b) => ({ bytesList: { value: [b] } })) },
    ],
    namedRawFeatureList: [{ name: 'raw', rawFeature: [{ feature: [{ int64Value: i64('1') }] }], type: 0, id: 2 }],
    batchSize: 3,
    dataSourceKey: 77,
  };
}

function predictionLogProps(instances: Uint8Array[]): tensorflow.serving.PredictionLog.$Properties {
  return {
    logMetadata: { modelSpec: { name: 'default' }, timestampSecs: i64('1622716114'), savedModelTags: ['serve'] },
    predictLog: {
      request: {
        modelSpec: { name: 'default', version: { value: i64('42') }, signatureName: 'serving_default' },
        inputs: {
          instances: {
            dtype: tensorflow.DataType.DT_STRING,
            tensorShape: { dim: [{ size: i64(String(instances.length)) }] },
            stringVal: instances,
          },
        },
        outputFilter: ['head_a'],
      },
      response: {
        outputs: {
          probs: {
            dtype: tensorflow.DataType.DT_FLOAT,
            tensorShape: { dim: [{ size: i64('2'), name: 'batch' }, { size: i64('1') }] },
            floatVal: [f32(0.25), f32(0.75)],
          },
        },
        modelSpec: { name: 'default', versionLabel: 'stable' },
      },
    },
  };
}

function entryDumpProps(): monolith.hash_table.EntryDump.$Properties {
  return {
    id: i64('-8070450532247928832'),
    num: [f32(0.5), f32(-1.25), 0, f32(3e-8)],
    opt: { dump: [{ ftrl: { zero: [f32(0.1)], norm: [f32(0.2)] } }, { sgd: {} }, { adagrad: { norm: [1, 2] } }] },
    lastUpdateTsSec: i64('0'),
  };
}

function servingStateProps(): monolith.model_export.ServingModelState.$Properties {
  return {
    entries: [
      { exportDir: '/tmp/export/1622716114', globalStep: i64('1000') },
      { exportDir: '/tmp/export/1622716200' },
      { globalStep: i64('-1') },
    ],
  };
}

// Codec of ours for a full name, as a tiny interface.
interface OurCodec {
  create(p?: object): object;
  encode(m: object): { finish(): Uint8Array };
  decode(b: Uint8Array): object;
  fromObject(o: object): object;
}
const OURS: Record<string, OurCodec> = {
  'parser.proto.Instance': parser.proto.Instance as unknown as OurCodec,
  'monolith.io.proto.Example': monolith.io.proto.Example as unknown as OurCodec,
  'monolith.io.proto.ExampleBatch': monolith.io.proto.ExampleBatch as unknown as OurCodec,
  'tensorflow.serving.PredictionLog': tensorflow.serving.PredictionLog as unknown as OurCodec,
  'monolith.hash_table.EntryDump': monolith.hash_table.EntryDump as unknown as OurCodec,
  'monolith.model_export.ServingModelState': monolith.model_export.ServingModelState as unknown as OurCodec,
  'tensorflow.Example': tensorflow.Example as unknown as OurCodec,
};

const oursCanon = (name: string, m: object): { [k: string]: Canon } => canonOurs(desc(name), m as Record<string, unknown>);


// ---------------------------------------------------------------------------
// Sanity of the comparison machinery itself

test('canonical comparison sees a one-value difference', (t) => {
  const name = 'parser.proto.Instance';
  const props = instanceProps(new Rng(1));
  const bytes = parser.proto.Instance.encode(props).finish();
  const other = parser.proto.Instance.encode({ ...props, dataSourceKey: 0xfffffffe }).finish();
  t.deepEqual(oursCanon(name, parser.proto.Instance.create(props)), bufCanon(desc(name), fromBinary(desc(name), bytes)));
  t.notDeepEqual(oursCanon(name, parser.proto.Instance.create(props)), bufCanon(desc(name), fromBinary(desc(name), other)));
  // and sees a field that only one side has
  const c = bufCanon(desc(name), fromBinary(desc(name), bytes));
  t.is(c.data_source_key, 4294967295);
  t.is((c.fid as string[]).length, 30);
  t.is((c.fid as string[])[0], `u64:${(1023n << 54n) | (2n ** 53n + 1n)}`);
});

test('the buf-built descriptor set matches the field numbers FORMATS.md gives', (t) => {
  const num = (m: string, f: string): number | undefined => desc(m).fields.find((x) => x.name === f)?.number;
  t.is(num('parser.proto.Instance', 'data_source_key'), 100);
  t.is(num('monolith.io.proto.Example', 'line_id'), 100);
  t.is(num('monolith.hash_table.EntryDump', 'last_update_ts_sec'), 4);
  t.is(num('tensorflow.TensorProto', 'string_val'), 8);
  t.is(num('tensorflow.serving.ModelSpec', 'version_label'), 4);
  t.is(num('idl.matrix.proto.LineId', 'data_source_name'), 235);
});

// ---------------------------------------------------------------------------
// TFRecord framing vs @roboflow/tfrecords

test('@roboflow/tfrecords computes the CRC32C check value and rejects a bad CRC', (t) => {
  t.is(rfHelpers.crc32c(Buffer.from('123456789')), 0xe3069283);
  const good = Buffer.concat([encodeTFRecord(Buffer.from('aaaa')), encodeTFRecord(Buffer.from('bbbb'))]);
  t.is(roboflowRawRecords(good).length, 2);
  const bad = Buffer.from(good);
  bad[12 + 4 + 4 + 12] ^= 1; // first payload byte of the second record
  t.is(roboflowRawRecords(bad).length, 1, 'the independent reader stops at the corrupted record');
});

test('TFRecordWriter file of tf.Examples reads with @roboflow/tfrecords (framing, CRCs and Example values)', async (t) => {
  const path = join(tmp, 'ours-examples.tfrecord');
  const w = await TFRecordWriter.open(path);
  const n = 25;
  for (let i = 0; i < n; i++) {
    const ex = tensorflow.Example.encode({
      features: {
        feature: {
          id: { int64List: { value: [i64(String(i)), i64('-3')] } },
          score: { floatList: { value: [f32(i / 4), f32(-0.5)] } },
          name: { bytesList: { value: [Buffer.from(`row-${i}`), Buffer.from('ok')] } },
          pad: { bytesList: { value: [Buffer.alloc(i * 300, i)] } }, // records up to ~7 KiB
        },
      },
    }).finish();
    await w.write(ex);
  }
  await w.close();
  const file = readFileSync(path);
  const rf = quietly(() => new TFRecordsReader(file));
  t.is(rf.length, n);
  // Its getFeature helpers poke at google-protobuf internals that the installed
  // google-protobuf no longer has; its toArray() (jspb toObject) works.
  const rows = rf.toArray() as { context: { featureMap: [string, RfFeature][] } }[];
  for (let i = 0; i < n; i++) {
    const f = new Map(rows[i]!.context.featureMap);
    t.deepEqual(f.get('id')!.int64List!.valueList, [i, -3]);
    t.deepEqual(f.get('score')!.floatList!.valueList, [f32(i / 4), -0.5]);
    t.deepEqual(f.get('name')!.bytesList!.valueList.map((b) => Buffer.from(b, 'base64').toString()), [`row-${i}`, 'ok']);
    t.is(Buffer.from(f.get('pad')!.bytesList!.valueList[0]!, 'base64').length, i * 300);
  }
});

test('TFRecord of arbitrary payloads: ours is byte-identical to @roboflow/tfrecords, and each reads the other', async (t) => {
  const rng = new Rng(7);
  // No empty record: @roboflow/tfrecords cannot frame or read one (its Guard.null rejects
  // a length of 0, and a CRC of 0).
  const sizes = [1, 100, 4096, 70_000, 13, 255, 256];
  const payloads = sizes.map((n) => Buffer.from(Array.from({ length: n }, () => rng.int(0, 255))));
  const path = join(tmp, 'ours-raw.tfrecord');
  t.is(await writeTFRecords(path, payloads), payloads.length);
  const ourFile = readFileSync(path);
  const theirFile = TFRecordsBuilder.buildTFRecords(payloads);
  t.is(ourFile.length, payloads.reduce((s, p) => s + p.length + 16, 0));
  t.true(ourFile.equals(theirFile), 'same bytes as the independent writer');
  // theirs -> ours
  const theirPath = join(tmp, 'theirs-raw.tfrecord');
  writeFileSync(theirPath, theirFile);
  const back: Buffer[] = [];
  for await (const r of readTFRecords(theirPath)) back.push(Buffer.from(r));
  t.deepEqual(back.map(hex), payloads.map(hex));
  // ours -> theirs (their CRC checks, raw payloads)
  t.deepEqual(roboflowRawRecords(ourFile).map(hex), payloads.map(hex));
});

test('@roboflow/tfrecords-built tf.Examples read with our TFRecord reader and tensorflow.Example codec', async (t) => {
  const records: Buffer[] = [];
  for (let i = 0; i < 10; i++) {
    const b = new TFRecordsBuilder();
    b.addArrayFeature('image/width', FeatureType.Int64, [640 + i]);
    b.addArrayFeature('bbox', FeatureType.Float, [0.5, 0.25 * i]);
    b.addArrayFeature('label', FeatureType.String, [`cat-${i}`, 'dög']);
    b.addArrayFeature('blob', FeatureType.Binary, [new Uint8Array([i, 0, 255])]);
    records.push(b.build());
  }
  const path = join(tmp, 'theirs-examples.tfrecord');
  writeFileSync(path, TFRecordsBuilder.buildTFRecords(records));
  let i = 0;
  for await (const rec of readTFRecords(path)) {
    // their message is TFRecordsImageMessage{ context = 1: Features }, i.e. tf.Example's layout
    const ex = tensorflow.Example.decode(rec);
    const f = ex.features!.feature!;
    t.deepEqual(f['image/width']!.int64List!.value!.map((v) => Long.fromValue(v).toNumber()), [640 + i]);
    t.deepEqual(f['bbox']!.floatList!.value, [0.5, f32(0.25 * i)]);
    t.deepEqual(f['label']!.bytesList!.value!.map((v) => Buffer.from(v).toString('utf8')), [`cat-${i}`, 'dög']);
    t.deepEqual([...f['blob']!.bytesList!.value![0]!], [i, 0, 255]);
    // and @bufbuild/protobuf agrees with our decode of their bytes
    t.deepEqual(oursCanon('tensorflow.Example', ex), bufCanon(desc('tensorflow.Example'), fromBinary(desc('tensorflow.Example'), rec)));
    i++;
  }
  t.is(i, 10);
});

// ---------------------------------------------------------------------------
// Messages: ours -> @bufbuild/protobuf and back

interface Case {
  name: string;
  props: () => object;
  /** Concrete checks on the @bufbuild/protobuf decode (its own field shapes). */
  check: (m: Record<string, unknown>, c: { [k: string]: Canon }) => void;
}

const instBytes = [1, 2].map((s) => parser.proto.Instance.encode(instanceProps(new Rng(s))).finish());

const CASES: Case[] = [
  {
    name: 'parser.proto.Instance',
    props: () => instanceProps(new Rng(42)),
    check: (m, c) => {
      const fid = m.fid as bigint[];
      if (fid.length !== 30 || fid[0] !== ((1023n << 54n) | (2n ** 53n + 1n))) throw new Error(`fid ${fid[0]}`);
      const lid = m.lineId as Record<string, unknown>;
      if (lid.uid !== 2n ** 64n - 1n || lid.rank !== -5 || lid.userId !== 'user_ü') throw new Error('line_id');
      if ((c.dense as number[]).length !== 13) throw new Error('dense');
    },
  },
  {
    name: 'monolith.io.proto.Example',
    props: exampleProps,
    check: (m) => {
      const nf = m.namedFeature as { name: string; feature: { type: { case: string; value: { value: unknown[] } } } }[];
      if (nf[0]!.feature.type.case !== 'fidV1List' || nf[0]!.feature.type.value.value[1] !== (1023n << 54n) + 1n) throw new Error('fid_v1_list');
      if (nf[2]!.feature.type.value.value[1] !== -1e300) throw new Error('double_list');
      if (m.dataSourceKey !== 123456) throw new Error('data_source_key');
    },
  },
  {
    name: 'monolith.io.proto.ExampleBatch',
    props: exampleBatchProps,
    check: (m) => {
      const l = m.namedFeatureList as { name: string; type: number; feature: unknown[] }[];
      if (m.batchSize !== 3 || l[0]!.type !== 1 || l[1]!.feature.length !== 3 || l[3]!.name !== '__LINE_ID__') throw new Error('example batch');
    },
  },
  {
    name: 'tensorflow.serving.PredictionLog',
    props: () => predictionLogProps(instBytes),
    check: (m) => {
      const pl = (m.logType as { case: string; value: Record<string, any> });
      if (pl.case !== 'predictLog') throw new Error(`log_type ${pl.case}`);
      const req = pl.value.request;
      // Int64Value wrapper in a oneof: a message with value 42
      if (req.modelSpec.versionChoice.case !== 'version' || req.modelSpec.versionChoice.value.value !== 42n) throw new Error('version');
      if (req.modelSpec.signatureName !== 'serving_default') throw new Error('signature');
      const tensor = req.inputs.instances;
      if (tensor.dtype !== 7 || tensor.stringVal.length !== 2 || hex(tensor.stringVal[1]) !== hex(instBytes[1]!)) throw new Error('string_val');
      if (tensor.tensorShape.dim[0].size !== 2n) throw new Error('shape');
      if (pl.value.response.modelSpec.versionChoice.value !== 'stable') throw new Error('version_label');
    },
  },
  {
    name: 'monolith.hash_table.EntryDump',
    props: entryDumpProps,
    check: (m, c) => {
      if (m.id !== -8070450532247928832n) throw new Error('id');
      if (c.last_update_ts_sec !== 'i64:0') throw new Error('last_update_ts_sec presence');
      const dump = (m.opt as { dump: { type: { case: string } }[] }).dump;
      if (dump.map((d) => d.type.case).join() !== 'ftrl,sgd,adagrad') throw new Error('opt');
    },
  },
  {
    name: 'monolith.model_export.ServingModelState',
    props: servingStateProps,
    check: (_m, c) => {
      const e = c.entries as { [k: string]: Canon }[];
      if (e.length !== 3 || e[0]!.global_step !== 'i64:1000' || 'global_step' in e[1]! || e[2]!.global_step !== 'i64:-1') throw new Error('entries');
    },
  },
];

for (const cs of CASES) {
  test(`${cs.name}: our encoding decodes with @bufbuild/protobuf to the same values`, (t) => {
    const codec = OURS[cs.name]!;
    const d = desc(cs.name);
    const original = codec.create(cs.props());
    const bytes = codec.encode(original).finish();
    const theirs = fromBinary(d, bytes);
    const c = bufCanon(d, theirs);
    t.deepEqual(c, oursCanon(cs.name, original));
    t.notThrows(() => cs.check(theirs as unknown as Record<string, unknown>, c));
    // Both encoders put fields in number order with the schema's packing: same bytes.
    t.is(hex(toBinary(d, theirs)), hex(bytes));
  });

  test(`${cs.name}: @bufbuild/protobuf encoding decodes with ours to the same values`, (t) => {
    const codec = OURS[cs.name]!;
    const d = desc(cs.name);
    // Build their message from their own text format of the values, so no object of ours is involved.
    const text = toText(d, fromBinary(d, codec.encode(codec.create(cs.props())).finish()));
    const theirs = fromText(d, text);
    const bytes = toBinary(d, theirs);
    const ours = codec.decode(bytes);
    t.deepEqual(oursCanon(cs.name, ours), bufCanon(d, theirs));
    t.notThrows(() => cs.check(fromBinary(d, bytes) as unknown as Record<string, unknown>, oursCanon(cs.name, ours)));
    t.is(hex(codec.encode(ours).finish()), hex(bytes));
  });
}

test('EntryDump.num: both decoders accept the packed form too, and write it unpacked', (t) => {
  const d = desc('monolith.hash_table.EntryDump');
  // 0x12 len float float: packed num
  const packed = Buffer.from([0x12, 8, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40]);
  t.deepEqual(monolith.hash_table.EntryDump.decode(packed).num, [1, 2]);
  const theirs = fromBinary(d, packed) as unknown as { num: number[] };
  t.deepEqual(theirs.num, [1, 2]);
  t.is(hex(monolith.hash_table.EntryDump.encode({ num: [1, 2] }).finish()), '150000803f1500000040');
});

test('LineId fields missing from the public schema survive both decoders as the same unknown fields', (t) => {
  const d = desc('idl.matrix.proto.LineId');
  // 0x58 = field 11 varint; 0xa001 = field 20 varint; field 163 length-delimited "ab"
  const extra = Buffer.from([0x58, 0x96, 0x01, 0xa0, 0x01, 0x05, 0x9a, 0x0a, 0x02, 0x61, 0x62]);
  const bytes = Buffer.concat([idl.matrix.proto.LineId.encode({ uid: u64('5') }).finish(), extra]);
  const c = bufCanon(d, fromBinary(d, bytes));
  t.deepEqual(c.$unknown, ['11:0:9601', '20:0:05', '163:2:026162']);
  t.is(hex(toBinary(d, fromBinary(d, bytes))), hex(bytes));
  // ours (src/proto.ts turns protobufjs's discardUnknown off) keeps the same fields and bytes
  const ours = idl.matrix.proto.LineId.decode(bytes);
  t.deepEqual(oursCanon('idl.matrix.proto.LineId', ours), c);
  t.is(hex(idl.matrix.proto.LineId.encode(ours).finish()), hex(bytes));
});

test('ServingModelState text format: ours and @bufbuild/protobuf read each other', (t) => {
  const name = 'monolith.model_export.ServingModelState';
  const d = desc(name);
  const state = monolith.model_export.ServingModelState.create(servingStateProps());
  const ourText = printTextFormat(name, state);
  const theirs = fromText(d, ourText);
  t.deepEqual(bufCanon(d, theirs), oursCanon(name, state));
  const theirText = toText(d, theirs);
  const back = monolith.model_export.ServingModelState.fromObject(parseTextFormat(name, theirText));
  t.deepEqual(oursCanon(name, back), bufCanon(d, theirs));
  t.is((back.entries[0]!.globalStep as Long).toString(), '1000');
});

// ---------------------------------------------------------------------------
// Real fixtures

function tfrecordsOf(path: string): Promise<Buffer[]> {
  return (async () => {
    const out: Buffer[] = [];
    for await (const r of readTFRecords(path)) out.push(Buffer.from(r));
    return out;
  })();
}

test('real Monolith hash-table dumps (EntryDump TFRecords) decode the same with both', async (t) => {
  if (!existsSync(ASSETS)) return t.fail(`fixtures missing: ${ASSETS}`);
  const d = desc('monolith.hash_table.EntryDump');
  const files = readdirSync(ASSETS).filter((f) => f.startsWith('MonolithHashTable_')).sort();
  t.true(files.length >= 29);
  let total = 0;
  const dims = new Set<number>();
  const ids = new Set<string>();
  for (const f of files) {
    const path = join(ASSETS, f);
    const ours = await tfrecordsOf(path);
    const theirs = roboflowRawRecords(readFileSync(path));
    t.deepEqual(ours.map(hex), theirs.map(hex), `${f}: framing`);
    for (const rec of ours) {
      const o = monolith.hash_table.EntryDump.decode(rec);
      const c = bufCanon(d, fromBinary(d, rec));
      t.deepEqual(oursCanon('monolith.hash_table.EntryDump', o), c, f);
      t.is(c.last_update_ts_sec, 'i64:0');
      t.false('$unknown' in c);
      dims.add((c.num as number[]).length);
      ids.add(String(c.id));
      // the real writer's bytes: re-encoding gives the same bytes on both sides
      t.is(hex(monolith.hash_table.EntryDump.encode(o).finish()), hex(rec));
      t.is(hex(toBinary(d, fromBinary(d, rec))), hex(rec));
      const kinds = ((c.opt as { dump: { [k: string]: Canon }[] }).dump).map((x) => Object.keys(x).join('+'));
      // 33 = 1 FTRL + 32 SGD and 17 = 1 FTRL + 16 SGD segments; 32 and 16 are SGD only
      t.deepEqual(kinds, (c.num as number[]).length % 2 === 1 ? ['ftrl', 'sgd'] : ['sgd']);
      if (kinds.length === 2) t.is((c.opt as any).dump[0].ftrl.zero.length, 1);
      total++;
    }
  }
  t.true(total > 0);
  t.deepEqual([...dims].sort((a, b) => a - b), [16, 17, 32, 33]);
  for (const id of ids) t.regex(id, /^i64:([0-9]|[12][0-9])$/);
});

test('real TF-Serving warmup file decodes the same with both', async (t) => {
  if (!existsSync(REAL_WARMUP)) return t.fail(`fixture missing: ${REAL_WARMUP}`);
  const name = 'tensorflow.serving.PredictionLog';
  const d = desc(name);
  const file = readFileSync(REAL_WARMUP);
  const recs = await tfrecordsOf(REAL_WARMUP);
  t.deepEqual(roboflowRawRecords(file).map(hex), recs.map(hex));
  t.is(recs.length, 1);
  const ours = tensorflow.serving.PredictionLog.decode(recs[0]!);
  const theirs = fromBinary(d, recs[0]!);
  t.deepEqual(oursCanon(name, ours), bufCanon(d, theirs));
  const req = ours.predictLog!.request!;
  t.is(req.modelSpec!.name, 'traffic-sign-classifier');
  t.is(req.modelSpec!.signatureName, 'serving_default');
  const tensor = req.inputs!['conv2d_input']!;
  t.is(tensor.dtype, tensorflow.DataType.DT_FLOAT);
  t.deepEqual(tensor.tensorShape!.dim!.map((x) => Long.fromValue(x.size!).toNumber()), [1, 30, 30, 3]);
  t.is(tensor.tensorContent!.length, 10800);
  const theirTensor = (theirs as unknown as { logType: { value: { request: { inputs: Record<string, { tensorContent: Uint8Array }> } } } }).logType.value.request.inputs['conv2d_input']!;
  t.is(hex(theirTensor.tensorContent), hex(tensor.tensorContent!));
});

test('real Monolith ExampleBatch (lagrangex-framed binary of example_batch.pbtxt) decodes the same with both, and matches the pbtxt', async (t) => {
  if (!existsSync(EB_BIN)) return t.fail(`fixture missing: ${EB_BIN}`);
  const name = 'monolith.io.proto.ExampleBatch';
  const d = desc(name);
  const recs: Buffer[] = [];
  for await (const r of readRecordFile(EB_BIN, { lagrangexHeader: true })) recs.push(Buffer.from(r.payload));
  t.is(recs.length, 1);
  const payload = recs[0]!;
  // framing check by hand: 8-byte zero lagrangex header, u64 size, payload
  const raw = readFileSync(EB_BIN);
  t.is(raw.readBigUInt64LE(0), 0n);
  t.is(Number(raw.readBigUInt64LE(8)), payload.length);
  const ours = monolith.io.proto.ExampleBatch.decode(payload);
  const theirs = fromBinary(d, payload);
  const c = bufCanon(d, theirs);
  t.deepEqual(oursCanon(name, ours), c);
  t.is(hex(monolith.io.proto.ExampleBatch.encode(ours).finish()), hex(payload));
  t.is(ours.batchSize, 51);
  t.is(c.batch_size, 51);
  const lists = ours.namedFeatureList;
  t.is(lists[0]!.name, 'f_goods_test30_bool');
  t.is(Long.fromValue(lists[0]!.feature![2]!.fidV1List!.value![0]!).toUnsigned().toString(), '9376215397644962785');
  for (const l of lists) if (l.type !== monolith.io.proto.FeatureListType.SHARED) t.is(l.feature!.length, 51, l.name!);
  // LineIds (in __LINE_ID__ bytes) carry fields the public schema lacks: both keep the same ones
  const lineList = lists.find((l) => l.name === '__LINE_ID__');
  t.truthy(lineList);
  const ld = desc('idl.matrix.proto.LineId');
  const unknownNos = new Set<string>();
  for (const f of lineList!.feature!) {
    const lb = f.bytesList!.value![0]!;
    const lc = bufCanon(ld, fromBinary(ld, lb));
    const lid = idl.matrix.proto.LineId.decode(lb);
    t.deepEqual(oursCanon('idl.matrix.proto.LineId', lid), lc);
    // Re-encoded, both put the unknown fields after the known ones (the original interleaves
    // them by number): same bytes from both, and the same values as the original.
    const again = idl.matrix.proto.LineId.encode(lid).finish();
    t.is(hex(again), hex(toBinary(ld, fromBinary(ld, lb))));
    t.deepEqual(bufCanon(ld, fromBinary(ld, again)), lc);
    for (const u of (lc.$unknown as string[] | undefined) ?? []) unknownNos.add(u.split(':')[0]!);
  }
  t.deepEqual([...unknownNos].sort(), ['11', '163', '20'], 'real LineIds carry fields 11, 20 and 163 outside the public schema');
  // The pbtxt, parsed by @bufbuild/protobuf's text parser and by ours, is the same message.
  const text = readFileSync(EB_PBTXT, 'utf8');
  t.deepEqual(bufCanon(d, fromText(d, text)), c);
  t.deepEqual(oursCanon(name, monolith.io.proto.ExampleBatch.fromObject(parseTextFormat(name, text))), c);
});

test('real ExampleBatch warmup TFRecord decodes the same with both and holds the same ExampleBatch', async (t) => {
  if (!existsSync(EB_WARMUP) || !existsSync(EB_BIN)) return t.fail('fixtures missing');
  const name = 'tensorflow.serving.PredictionLog';
  const d = desc(name);
  const recs = await tfrecordsOf(EB_WARMUP);
  t.deepEqual(roboflowRawRecords(readFileSync(EB_WARMUP)).map(hex), recs.map(hex));
  t.is(recs.length, 1);
  const ours = tensorflow.serving.PredictionLog.decode(recs[0]!);
  t.deepEqual(oursCanon(name, ours), bufCanon(d, fromBinary(d, recs[0]!)));
  const req = ours.predictLog!.request!;
  t.is(req.modelSpec!.name, 'default');
  t.is(req.modelSpec!.signatureName, 'serving_default');
  const tensor = req.inputs!['example_batch']!;
  t.is(tensor.dtype, tensorflow.DataType.DT_STRING);
  t.is(tensor.stringVal!.length, 1);
  const raw = readFileSync(EB_BIN);
  t.is(hex(tensor.stringVal![0]!), hex(raw.subarray(16)));
});
