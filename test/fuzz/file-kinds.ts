import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { loadDenseParams, saveDenseParams } from '../../src/graph/dense-checkpoint.js';
import { checkpointIndexText, readCheckpointIndex } from '../../src/hashtable/checkpoint-index.js';
import { restoreTable, saveTable } from '../../src/hashtable/checkpoint.js';
import { ckptInfoText, readCkptInfo } from '../../src/hashtable/ckpt-info.js';
import { EmbeddingHashTable } from '../../src/hashtable/embedding-hash-table.js';
import { MultiHashTable } from '../../src/hashtable/multi-hash-table.js';
import { genContext, genExample, genExampleBatch, genInstance } from '../../src/export/data-gen.js';
import { EXPORT_FORMAT, EXPORT_FORMAT_VERSION, readManifest } from '../../src/export/export-manifest.js';
import { EXPORT_STATE_FILE, getExportSaverListenerState } from '../../src/export/export-state.js';
import { decodeSavedModel, encodeSavedModel } from '../../src/export/signature-def.js';
import { describeWarmupFile, stringTensor } from '../../src/export/warmup.js';
import { lgHeader, readRecordFile, sortHeader, type RecordLayout } from '../../src/io/record-file.js';
import { parseTextFormat, printTextFormat } from '../../src/io/text-format.js';
import { encodeTFRecord, readAllTFRecords } from '../../src/io/tfrecord.js';
import { monolith, parser, tensorflow } from '../../src/proto.js';
import type { ParseConfig, RecordVariant } from '../../src/streams/parse/parse-config.js';
import { fileBatches } from '../../src/streams/sources/file-source.js';
import { Rng } from '../../src/util/random.js';
import { createSharedDenseParams } from '../../src/workers/train-step.js';
import { createModel } from '../workers/fixtures/tiny-model.js';
import { mutate, mutateInsideTFRecords, mutateText, type Mutation } from './mutations.js';

/** One kind of file the project reads: valid bytes, how to damage them, and the reader under test. */
export interface FileKind {
  name: string;
  /** Where the file goes inside a case's directory. */
  file: string;
  /** Writes the valid file (and anything it needs next to it) into `dir`; returns the valid bytes. */
  setup(dir: string): Promise<Buffer>;
  damage(rng: Rng, valid: Buffer): Mutation;
  /** Reads `dir/file`; resolves with valid data or throws. */
  read(dir: string): Promise<unknown>;
}

const framed = (records: readonly Uint8Array[]) => Buffer.concat(records.map((r) => encodeTFRecord(r)));
const ctx = () => genContext(11, { now: () => 1_700_000_000 });

async function put(dir: string, file: string, bytes: Uint8Array | string): Promise<Buffer> {
  await mkdir(dirname(join(dir, file)), { recursive: true });
  await writeFile(join(dir, file), bytes);
  return Buffer.from(bytes);
}

const payloads = (): Uint8Array[] => {
  const c = ctx();
  return Array.from({ length: 4 }, () => parser.proto.Instance.encode(genInstance(c, { fidv1Features: [1, 2, 3], fidv2Features: ['a'] })).finish());
};

const SPARSE = ['a', 'b', 'c'];
const config: ParseConfig = { sparse: SPARSE.map((name, i) => ({ name, slot: i + 1 })), labelWidth: 1 };
const instConfig: ParseConfig = { sparse: [1, 2, 3].map((slot) => ({ name: `slot_${slot}`, slot })), labelWidth: 1 };

function variantRecords(variant: RecordVariant): Uint8Array[] {
  const c = ctx();
  if (variant === 'instance') return payloads();
  if (variant === 'example') return Array.from({ length: 4 }, () => monolith.io.proto.Example.encode(genExample(c, SPARSE)).finish());
  return Array.from({ length: 2 }, () => monolith.io.proto.ExampleBatch.encode(genExampleBatch(c, SPARSE, 4)).finish());
}

function decoderKind(variant: RecordVariant): FileKind {
  const records = variantRecords(variant);
  return {
    name: `${variant} records (fast + reference decoders)`,
    file: 'data.tfrecord',
    setup: (dir) => put(dir, 'data.tfrecord', framed(records)),
    damage: (rng) => mutateInsideTFRecords(rng, records),
    async read(dir) {
      const rows: number[] = [];
      for (const decoder of ['fast', 'reference'] as const) {
        let n = 0;
        const parse = variant === 'instance' ? instConfig : config;
        for await (const b of fileBatches({ paths: join(dir, 'data.tfrecord'), framing: 'tfrecord', variant, parse, batchSize: 3, decoder })) n += b.batch.rows;
        rows.push(n);
      }
      return rows;
    },
  };
}

const LAYOUTS: [string, RecordLayout, Buffer][] = [
  ['sort_id', { sortId: true }, sortHeader(true, false, false)],
  ['lagrangex', { lagrangexHeader: true }, lgHeader('fuzz')],
  ['sort_id + kafka_dump', { sortId: true, kafkaDump: true }, sortHeader(true, true, false)],
  ['sort_id + kafka_dump_prefix', { sortId: true, kafkaDumpPrefix: true }, sortHeader(true, false, true)],
];

function recordFileKind([name, layout, header]: (typeof LAYOUTS)[number]): FileKind {
  const bytes = Buffer.concat(
    payloads().map((p) => {
      const size = Buffer.alloc(8);
      size.writeBigUInt64LE(BigInt(p.byteLength));
      return Buffer.concat([header, size, p]);
    }),
  );
  return {
    name: `record file (${name})`,
    file: 'data.pb',
    setup: (dir) => put(dir, 'data.pb', bytes),
    damage: (rng, valid) => mutate(rng, valid),
    async read(dir) {
      let n = 0;
      for await (const r of readRecordFile(join(dir, 'data.pb'), layout)) n += r.payload.length;
      return n;
    },
  };
}

const multi = () => MultiHashTable.fromConfigs({ a: { entry: { segments: [{ dimSize: 3, optConfig: { sgd: {} }, initConfig: { zeros: {} }, compConfig: { fp32: {} } }] } } }, { name: 'multi' });

function table(name = 'emb'): EmbeddingHashTable {
  return EmbeddingHashTable.create({ name, entry: { segments: [{ dimSize: 3, optConfig: { adagrad: {} }, initConfig: { zeros: {} }, compConfig: { fp32: {} } }] } });
}

function filledTable(name = 'emb'): EmbeddingHashTable {
  const t = table(name);
  const rng = new Rng(3);
  t.assign(Array.from({ length: 20 }, () => rng.bigint(1n, 1n << 60n)), Float32Array.from({ length: 60 }, () => rng.float()));
  return t;
}

function textKind(name: string, file: string, text: string, read: (dir: string) => Promise<unknown>): FileKind {
  return { name, file, setup: (dir) => put(dir, file, text), damage: (rng, valid) => (rng.int(0, 2) ? mutateText(rng, valid.toString('utf8')) : mutate(rng, valid)), read };
}

/** Every kind of file the project reads. */
export async function fileKinds(): Promise<FileKind[]> {
  const spec = createModel({ seed: 1 });
  const warmupLogs = [0, 1].map((i) =>
    tensorflow.serving.PredictionLog.encode({ predictLog: { request: { modelSpec: { name: 'default', signatureName: `s${i}` }, inputs: { instances: stringTensor(payloads()) } } } }).finish(),
  );
  const sigs = [{ name: 'serving_default', inputs: { x: { dtype: 'float32' as const, shape: [-1, 2] } }, outputs: { y: { dtype: 'float32' as const, shape: [-1] } } }];
  const manifest = {
    format: EXPORT_FORMAT,
    formatVersion: EXPORT_FORMAT_VERSION,
    graph: 'entry',
    kind: 'standalone',
    features: [{ name: 'f0', slot: 1 }],
    denseInputs: [{ name: 'dense', width: 2 }],
    heads: [{ name: 'ctr' }],
    tables: [{ name: 'user', dim: 4, fp16: false, skipZeroEmbedding: false, basename: 'assets/user', shared: false, entries: 10 }],
    dense: 'dense',
    createdAt: '2026-01-01T00:00:00Z',
  };
  return [
    { name: 'TFRecord (plain)', file: 'r.tfrecord', setup: (d) => put(d, 'r.tfrecord', framed(payloads())), damage: (rng, v) => mutate(rng, v), read: (d) => readAllTFRecords(join(d, 'r.tfrecord')) },
    {
      name: 'TFRecord (gzip)',
      file: 'r.tfrecord.gz',
      setup: (d) => put(d, 'r.tfrecord.gz', gzipSync(framed(payloads()))),
      damage: (rng, v) => mutate(rng, v),
      read: (d) => readAllTFRecords(join(d, 'r.tfrecord.gz'), { compression: 'gzip' }),
    },
    ...LAYOUTS.map(recordFileKind),
    decoderKind('instance'),
    decoderKind('example'),
    decoderKind('example_batch'),
    {
      name: 'EntryDump shard',
      file: 'ckpt/emb-00000-of-00001',
      async setup(d) {
        await saveTable(filledTable(), join(d, 'ckpt', 'emb'), { nshards: 1 });
        return readFile(join(d, 'ckpt/emb-00000-of-00001'));
      },
      damage: (rng, v) => (rng.int(0, 1) ? mutate(rng, v) : mutateInsideTFRecords(rng, readFramed(v))),
      read: (d) => restoreTable(table(), join(d, 'ckpt', 'emb')),
    },
    {
      name: 'MultiHashTable data (snappy)',
      file: 'mt/multi-00000-of-00001',
      async setup(d) {
        const m = multi();
        m.tables.get('a')!.assign([5n, 6n, 7n], Float32Array.from({ length: 9 }, (_, i) => i));
        await m.save(join(d, 'mt', 'multi'), { nshards: 1 });
        return readFile(join(d, 'mt/multi-00000-of-00001'));
      },
      damage: (rng, v) => mutate(rng, v),
      read: (d) => multi().restore(join(d, 'mt', 'multi')),
    },
    textKind('ckpt.info', 'ckpt.info-5', ckptInfoText({ featureCounts: { emb: 20, user: 1024 }, slotCounts: { 1: 12, 128: 8 } }), (d) => readCkptInfo(d, 5)),
    textKind('checkpoint index', 'checkpoint', checkpointIndexText('model.ckpt', [10, 20, 30], 30), (d) => readCheckpointIndex(d)),
    {
      name: 'dense checkpoint',
      file: 'model.ckpt-5.dense',
      async setup(d) {
        const dense = createSharedDenseParams(spec);
        dense.globalStep = 5;
        await saveDenseParams(join(d, 'model.ckpt-5.dense'), dense);
        return readFile(join(d, 'model.ckpt-5.dense'));
      },
      damage: (rng, v) => (rng.int(0, 2) ? mutate(rng, v) : mutateDenseHeader(rng, v)),
      read: async (d) => (await loadDenseParams(join(d, 'model.ckpt-5.dense'), createSharedDenseParams(spec))).step,
    },
    textKind('export manifest', 'export.json', JSON.stringify(manifest), (d) => readManifest(d)),
    {
      name: 'warmup file',
      file: 'tf_serving_warmup_requests',
      setup: (d) => put(d, 'tf_serving_warmup_requests', framed(warmupLogs)),
      damage: (rng, v) => (rng.int(0, 1) ? mutate(rng, v) : mutateInsideTFRecords(rng, warmupLogs)),
      async read(d) {
        const out: string[] = [];
        for await (const s of describeWarmupFile(join(d, 'tf_serving_warmup_requests'))) out.push(s);
        return out;
      },
    },
    {
      name: 'saved_model.pb',
      file: 'saved_model.pb',
      setup: (d) => put(d, 'saved_model.pb', encodeSavedModel(sigs)),
      damage: (rng, v) => mutate(rng, v),
      read: async (d) => decodeSavedModel(await readFile(join(d, 'saved_model.pb')), join(d, 'saved_model.pb')),
    },
    textKind(
      'text format (ExampleBatch)',
      'example_batch.pbtxt',
      printTextFormat('monolith.io.proto.ExampleBatch', genExampleBatch(ctx(), SPARSE, 3)),
      async (d) => parseTextFormat('monolith.io.proto.ExampleBatch', await readFile(join(d, 'example_batch.pbtxt'), 'utf8'), join(d, 'example_batch.pbtxt')),
    ),
    textKind(
      'text format (export state)',
      EXPORT_STATE_FILE,
      printTextFormat('monolith.model_export.ServingModelState', { entries: [{ exportDir: '/e/1', globalStep: 100 }, { exportDir: '/e/2', globalStep: 200 }] }),
      (d) => getExportSaverListenerState(d),
    ),
  ];
}

function readFramed(v: Buffer): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at + 12 <= v.length; ) {
    const len = v.readUInt32LE(at);
    out.push(v.subarray(at + 12, at + 12 + len));
    at += 16 + len;
  }
  return out.length ? out : [Buffer.alloc(0)];
}

/** A dense checkpoint with its JSON header changed (counts set huge, keys renamed), the floats and checksum kept. */
function mutateDenseHeader(rng: Rng, v: Buffer): Mutation {
  const len = v.readUInt32LE(4);
  const m = mutateText(rng, v.subarray(8, 8 + len).toString('utf8'));
  const floats = v.subarray((8 + len + 3) & ~3);
  const at = (8 + m.bytes.length + 3) & ~3;
  const out = Buffer.alloc(at + floats.length);
  v.copy(out, 0, 0, 4);
  out.writeUInt32LE(m.bytes.length, 4);
  m.bytes.copy(out, 8);
  floats.copy(out, at);
  return { name: `header: ${m.name}`, bytes: out };
}
