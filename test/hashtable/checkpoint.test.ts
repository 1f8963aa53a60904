import test from 'ava';
import { copyFile, mkdtemp, readdir, readFile, writeFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddingHashTable } from '../../src/hashtable/embedding-hash-table.js';
import { checkpointableTable, restoreTable, saveTable } from '../../src/hashtable/checkpoint.js';
import { decodeEntryDump, encodeEntryDump, entryToDump } from '../../src/hashtable/entry-dump.js';
import { HashTableCheckpointRestorerListener, HashTableCheckpointSaverListener } from '../../src/hashtable/checkpoint-listeners.js';
import { readAllTFRecords, writeTFRecords } from '../../src/io/tfrecord.js';
import { FormatError } from '../../src/errors.js';
import { arr, close, f32, fakeClock, testEntry } from './helpers.js';
import type { EntryConfig } from '../../src/hashtable/entry-config.js';

const ASSETS = '/work/shared/fixtures/monolith_assets/ps_0/1622716114/assets';
const tmp = () => mkdtemp(join(tmpdir(), 'ht-ckpt-'));

/** The fixture tables, grouped by basename, with shards that were empty in the original added back as empty files. */
async function fixtureTables(dir: string): Promise<Map<string, string[]>> {
  const groups = new Map<string, string[]>();
  for (const n of await readdir(ASSETS)) {
    const m = /^(MonolithHashTable_[0-9a-f]+_\d)-(\d{5})-of-00004$/.exec(n);
    if (!m) continue;
    await copyFile(join(ASSETS, n), join(dir, n));
    groups.set(m[1]!, [...(groups.get(m[1]!) ?? []), n]);
  }
  for (const base of groups.keys()) {
    for (let i = 0; i < 4; i++) {
      const f = join(dir, `${base}-${String(i).padStart(5, '0')}-of-00004`);
      await stat(f).catch(() => writeFile(f, ''));
    }
  }
  return groups;
}

/** An EntryConfig matching a Monolith dump: an FTRL 1-float bias segment before an SGD segment when the dump says so. */
function configFor(rec: Buffer): EntryConfig {
  const e = decodeEntryDump(rec);
  const kinds = (e.opt?.dump ?? []).map((d) => Object.keys(d).find((k) => (d as Record<string, unknown>)[k] != null));
  if (kinds.length === 2) return { segments: [{ dimSize: 1, optConfig: { ftrl: {} } }, { dimSize: e.num.length - 1, optConfig: { sgd: {} } }] };
  return { segments: [{ dimSize: e.num.length, optConfig: { sgd: {} } }] };
}

test('every record of the Monolith fixtures re-encodes to identical bytes after a restore', async (t) => {
  const dir = await tmp();
  const groups = await fixtureTables(dir);
  t.is(groups.size, 20);
  let records = 0;
  for (const base of groups.keys()) {
    const recs: Buffer[] = [];
    for (let i = 0; i < 4; i++) recs.push(...(await readAllTFRecords(join(dir, `${base}-0000${i}-of-00004`))));
    if (recs.length === 0) continue;
    const table = EmbeddingHashTable.create({ name: base, entry: configFor(recs[0]!) });
    t.is(await restoreTable(table, join(dir, base)), recs.length);
    for (const rec of recs) {
      const e = decodeEntryDump(rec);
      t.deepEqual(arr(table.lookupOnly(Uint32Array.of(e.lo, e.hi))), arr(Float32Array.from(e.num)));
      // Our EntryDump of the restored entry is byte-for-byte Monolith's record.
      let mine: Uint8Array | undefined;
      for (let s = 0; s < table.shards.length; s++) {
        table.forEachEntry(s, (lo, hi, row, sh) => {
          if (lo === e.lo && hi === e.hi) mine = encodeEntryDump(entryToDump(table, lo, hi, row, sh));
        });
      }
      t.deepEqual(Buffer.from(mine!), rec);
      records++;
    }
  }
  t.is(records, 30);
  await rm(dir, { recursive: true });
});

test('a fixture file rewritten through our TFRecord writer is byte-identical', async (t) => {
  const dir = await tmp();
  const name = 'MonolithHashTable_0b9721ec6fc5396c38499b5be394b722_0-00002-of-00004';
  const original = await readFile(join(ASSETS, name));
  const recs = await readAllTFRecords(join(ASSETS, name));
  await writeTFRecords(join(dir, name), recs.map((r) => {
    const e = decodeEntryDump(r);
    const table = EmbeddingHashTable.create({ entry: configFor(r) });
    table.putEntry(e.lo, e.hi, e.num, e.ts);
    let out!: Uint8Array;
    table.forEachEntry(0, (lo, hi, row, sh) => (out = encodeEntryDump(entryToDump(table, lo, hi, row, sh))));
    return out;
  }));
  t.deepEqual(await readFile(join(dir, name)), original);
  await rm(dir, { recursive: true });
});

const adagradEntry: EntryConfig = {
  segments: [
    { dimSize: 1, optConfig: { ftrl: {} }, initConfig: { zeros: {} } },
    { dimSize: 4, optConfig: { adagrad: { learningRate: 0.1 } }, initConfig: { randomUniform: {} } },
  ],
};

test('save -> restore round trip with optimizer state, into a different shard count', async (t) => {
  const dir = await tmp();
  const clock = fakeClock();
  const a = EmbeddingHashTable.create({ entry: adagradEntry, shards: 3, seed: 1 }, { clock: clock.now });
  const ids = BigUint64Array.from({ length: 500 }, (_, i) => (BigInt(i % 5) << 48n) | BigInt(i * 31));
  a.lookup(ids);
  a.applyGradients(ids, Float32Array.from({ length: 2500 }, (_, i) => Math.sin(i)));
  t.is(await saveTable(a, join(dir, 't'), { nshards: 2 }), 500);
  t.deepEqual((await readdir(dir)).sort(), ['t-00000-of-00002', 't-00001-of-00002']);
  const b = EmbeddingHashTable.create({ entry: adagradEntry, shards: 5 }, { clock: clock.now });
  b.assign([12345], f32([9, 9, 9, 9, 9]));
  t.is(await restoreTable(b, join(dir, 't')), 500);
  t.is(b.size, 500);
  t.deepEqual(arr(b.lookupOnly([12345])), [0, 0, 0, 0, 0]); // restore replaces the table's content
  t.deepEqual(arr(b.lookupOnly(ids)), arr(a.lookupOnly(ids)));
  // Same optimizer state: the same update gives the same result.
  const g = Float32Array.from({ length: 2500 }, (_, i) => Math.cos(i));
  a.applyGradients(ids, g);
  b.applyGradients(ids, g);
  t.true(close(b.lookupOnly(ids), a.lookupOnly(ids), 1e-6));
  // Saving again with 1 shard removes the old 2-shard files.
  await saveTable(b, join(dir, 't'), { nshards: 1 });
  t.deepEqual(await readdir(dir), ['t-00000-of-00001']);
  await rm(dir, { recursive: true });
});

test('corrupt checkpoint: clear error naming the file, live table untouched', async (t) => {
  const dir = await tmp();
  const a = EmbeddingHashTable.create({ entry: testEntry(2), shards: 2 });
  a.assign([1, 2, 3, 4, 5, 6], f32([1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]));
  await saveTable(a, join(dir, 'c'), { nshards: 2 });
  const f = join(dir, 'c-00001-of-00002');
  const bytes = await readFile(f);
  bytes[bytes.length - 6] ^= 0xff;
  await writeFile(f, bytes);
  const b = EmbeddingHashTable.create({ entry: testEntry(2) });
  b.assign([7], f32([7, 7]));
  const err = await t.throwsAsync(restoreTable(b, join(dir, 'c')), { instanceOf: FormatError });
  t.regex(err!.message, /c-00001-of-00002/);
  t.is(b.size, 1);
  t.deepEqual(arr(b.lookupOnly([7])), [7, 7]);
  // Missing shard and wrong dimension are errors too.
  await rm(f);
  await t.throwsAsync(restoreTable(b, join(dir, 'c')), { message: /missing shard 1 of 2/ });
  const wide = EmbeddingHashTable.create({ entry: testEntry(3) });
  await saveTable(a, join(dir, 'd'), { nshards: 1 });
  await t.throwsAsync(restoreTable(wide, join(dir, 'd')), { message: /has 2 floats, the table's entries have 3/ });
  await rm(dir, { recursive: true });
});

test('saver / restorer listeners: restore overrides later updates; ckpt.info-<step> has counts', async (t) => {
  const dir = await tmp();
  const basename = join(dir, 'model.ckpt');
  const table = EmbeddingHashTable.create({ name: 'emb', entry: testEntry(2) });
  const ck = checkpointableTable(table);
  table.assignAdd([(1n << 48n) | 1n, (2n << 48n) | 2n], f32([2, 2, 4, 4]));
  await new HashTableCheckpointSaverListener(basename, [ck]).beforeSave(10);
  table.assignAdd([(1n << 48n) | 1n], f32([-2, -3]));
  t.true(await new HashTableCheckpointRestorerListener(basename, [ck]).beforeRestore());
  t.deepEqual(arr(table.lookupOnly([(1n << 48n) | 1n])), [2, 2]);
  const info = await readFile(join(dir, 'ckpt.info-10'), 'utf8');
  t.regex(info, /feature_counts/);
  t.regex(info, /key: "emb"\s+value: 2/);
  t.false(await new HashTableCheckpointRestorerListener(join(dir, 'none'), [ck]).beforeRestore());
  await rm(dir, { recursive: true });
});
