import test from 'ava';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, FormatError } from '../../src/errors.js';
import { HashTableCheckpointSaverListener } from '../../src/hashtable/checkpoint-listeners.js';
import { checkpointableTable } from '../../src/hashtable/checkpoint.js';
import { EmbeddingHashTable } from '../../src/hashtable/embedding-hash-table.js';
import type { EntryConfig } from '../../src/hashtable/entry-config.js';
import { HashTableError } from '../../src/hashtable/errors.js';
import { DEFAULT_EXPIRE_TIME, getFsConf, slotPolicies } from '../../src/hashtable/feature-slot-config.js';
import { MultiHashTable } from '../../src/hashtable/multi-hash-table.js';
import { hashTableAssign, multiHashTableRawAssignSignatures, restoreForServing } from '../../src/hashtable/serving-tables.js';
import { arr, f32, testEntry } from './helpers.js';

const serving = (dim: number): EntryConfig => ({ ...testEntry(dim), entryType: 'SERVING' });

async function trainedCheckpoint(dir: string): Promise<string> {
  const emb = EmbeddingHashTable.create({ name: 'emb', entry: testEntry(2, { adagrad: {} }) });
  emb.assign([1, 2], f32([1, 1, 2, 2]));
  const mt = MultiHashTable.fromConfigs({ a: { entry: testEntry(1) }, b: { entry: testEntry(3) } }, { name: 'mt' });
  mt.assign({ a: [[7], f32([7])], b: [[8], f32([8, 8, 8])] });
  const base = join(dir, 'model.ckpt');
  await new HashTableCheckpointSaverListener(base, [checkpointableTable(emb), mt]).beforeSave(5);
  return `${base}-5`;
}

test('restoreForServing: serving tables restore from a training checkpoint, copied into the export assets or shared', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'serving-'));
  const ckpt = await trainedCheckpoint(dir);
  const make = () => ({
    emb: EmbeddingHashTable.create({ name: 'emb', entry: serving(2) }),
    mt: MultiHashTable.fromConfigs({ a: { entry: serving(1) }, b: { entry: serving(3) } }, { name: 'mt' }),
  });
  // Not shared: files copied into the export's assets, restored from there.
  const x = make();
  const assets = join(dir, 'export', 'assets');
  t.deepEqual(await restoreForServing([x.emb, x.mt], ckpt, { exportAssetDir: assets }), { emb: 2, mt: 2 });
  t.deepEqual((await readdir(assets)).sort(), ['emb-00000-of-00001', 'mt-00000-of-00001', 'mt.meta-00000-of-00001']);
  t.deepEqual(arr(x.emb.lookup([2, 1, 3])), [2, 2, 1, 1, 0, 0]); // serving lookups never insert
  t.is(x.emb.size, 2);
  t.deepEqual(arr(x.mt.lookup({ b: [8] }).b!), [8, 8, 8]);
  // Shared embedding: restored straight from the checkpoint, nothing copied.
  const y = make();
  const assets2 = join(dir, 'export2', 'assets');
  await restoreForServing([y.emb, y.mt], ckpt, { sharedEmbedding: true, exportAssetDir: assets2 });
  t.deepEqual(arr(y.mt.lookup({ a: [7] }).a!), [7]);
  await t.throwsAsync(readdir(assets2));
  // Not shared and no export dir: a ConfigError; a table the checkpoint lacks: a FormatError.
  await t.throwsAsync(restoreForServing([make().emb], ckpt), { instanceOf: ConfigError });
  const missing = EmbeddingHashTable.create({ name: 'other', entry: serving(2) });
  await t.throwsAsync(restoreForServing([missing], ckpt, { sharedEmbedding: true }), { instanceOf: FormatError });
  await rm(dir, { recursive: true });
});

test('hashtable_assign and <name>/raw_assign signatures write serving tables', (t) => {
  const emb = EmbeddingHashTable.create({ name: 'emb', entry: serving(2), skipZeroEmbedding: true });
  const bias = EmbeddingHashTable.create({ name: 'bias', entry: serving(1) });
  t.deepEqual(hashTableAssign([emb, bias], { emb_id: [1, 2], emb_value: f32([1, 1, 0, 0]) }), { emb_result: 2 });
  t.deepEqual(arr(emb.lookup([1, 2])), [1, 1, 0, 0]);
  t.is(emb.size, 1); // skip_zero_embedding: the all-zero row made no entry
  t.is(bias.size, 0);
  t.throws(() => hashTableAssign([emb], { emb_id: [1] }), { instanceOf: HashTableError });
  t.throws(() => hashTableAssign([emb], { nope_id: [1] }), { instanceOf: HashTableError });

  const mt = MultiHashTable.fromConfigs({ a: { entry: serving(1) }, b: { entry: serving(2) } }, { name: 'mt' });
  const sigs = multiHashTableRawAssignSignatures([mt]);
  t.deepEqual(Object.keys(sigs), ['mt/raw_assign']);
  t.deepEqual(sigs['mt/raw_assign']!({ id: [5, 6, 7], id_split: [0, 1, 3], flat_value: f32([5, 6, 6, 7, 7]) }), { result: 0 });
  t.deepEqual(arr(mt.rawLookup({ values: [5, 6, 7], rowSplits: [0, 1, 3] })), [5, 6, 6, 7, 7]);
  t.throws(() => multiHashTableRawAssignSignatures([mt, mt]), { instanceOf: ConfigError });
});

test('_get_fs_conf: feature slot configs and the per-slot table policies they give', (t) => {
  t.deepEqual(getFsConf('shared_emb', 3, 2, 7), { name: 'shared_emb', hasBias: false, slotId: 3, occurrenceThreshold: 2, expireTime: 7, hashtableConfig: 'cuckoo' });
  t.is(getFsConf(undefined, 4).name, '4');
  t.is(getFsConf('', 4, 0, DEFAULT_EXPIRE_TIME, { useGpuEmbTable: true }).hashtableConfig, 'gpucuco');
  t.throws(() => getFsConf('x', -1), { instanceOf: ConfigError });
  t.throws(() => getFsConf('x', 1, 0, 0), { instanceOf: ConfigError });

  const p = slotPolicies([getFsConf('a', 3, 2, 7), getFsConf('b', 1), getFsConf('c', 3, 2, 7)]);
  t.true(p.enableHashFilter);
  t.deepEqual(p.occurrenceThreshold.slotOccurrenceThresholds, [{ slot: 1, occurrenceThreshold: 0 }, { slot: 3, occurrenceThreshold: 2 }]);
  t.deepEqual(p.expireTime.slotExpireTimes, [{ slot: 1, expireTime: DEFAULT_EXPIRE_TIME }, { slot: 3, expireTime: 7 }]);
  t.throws(() => slotPolicies([getFsConf('a', 3, 2), getFsConf('b', 3, 5)]), { instanceOf: ConfigError });

  // The policies drive a table: slot 3 ids need two earlier sightings, slot 1 ids none.
  const table = EmbeddingHashTable.create({ entry: { segments: [{ dimSize: 1, initConfig: { ones: {} } }] }, occurrenceThreshold: p.occurrenceThreshold, expireTime: p.expireTime });
  const slot3 = BigInt(3) << 48n;
  const slot1 = BigInt(1) << 48n;
  t.deepEqual(arr(table.lookup([slot3 | 5n, slot1 | 5n])), [0, 1]);
  table.lookup([slot3 | 5n]);
  t.deepEqual(arr(table.lookup([slot3 | 5n])), [1]);
});
