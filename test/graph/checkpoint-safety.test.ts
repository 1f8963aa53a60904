import test from 'ava';
import { spawnSync } from 'node:child_process';
import { cp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  checkpointParams,
  CheckpointSaver,
  checkpointableTable,
  createModelTables,
  createSharedDenseParams,
  FormatError,
  HashTableCheckpointRestorerListener,
  HashTableCheckpointSaverListener,
  initBackend,
  latestCheckpoint,
  readIndex,
  removeStaleTemps,
  type EmbeddingHashTable,
  type SharedDenseParams,
} from 'monolith-ts';
import { tempDir } from '../helpers.js';
import { createModel } from '../workers/fixtures/tiny-model.js';

test.before(async () => {
  await initBackend('cpu');
});

const IDS = Array.from({ length: 60 }, (_, i) => (BigInt((i % 2) + 1) << 48n) | BigInt(i * 7 + 1));

/** Fresh tables + dense params of the tiny model, filled with values derived from `v`. */
function state(v: number) {
  const spec = createModel({ seed: 1 });
  const tables = createModelTables(spec);
  const dense = createSharedDenseParams(spec);
  fill(tables, dense, v);
  return { spec, tables, dense };
}

function fill(tables: Record<string, EmbeddingHashTable>, dense: SharedDenseParams, v: number): void {
  for (const t of Object.values(tables)) t.assign(IDS, Float32Array.from({ length: IDS.length * t.dim }, (_, i) => v + i / 1000));
  dense.flatState.fill(v);
  dense.globalStep = v;
}

function snapshot(tables: Record<string, EmbeddingHashTable>, dense: SharedDenseParams) {
  return {
    tables: Object.fromEntries(Object.entries(tables).map(([n, t]) => [n, { size: t.size, values: Array.from(t.lookupOnly(IDS)) }])),
    dense: Array.from(dense.flatState),
    step: dense.globalStep,
  };
}

async function savedAt(step: number, opts: { keep?: number; tableShards?: number } = {}) {
  const dir = await tempDir();
  const s = state(step);
  const saver = new CheckpointSaver({ dir, tables: s.tables, dense: s.dense, ...opts });
  await saver.save(step);
  return { dir, ...s, saver };
}

/** Restores `dir` into a live state that differs from it; on failure the live state must be exactly as before. */
async function restoreFails(t: import('ava').ExecutionContext, dir: string, field?: RegExp) {
  const live = state(42);
  const before = snapshot(live.tables, live.dense);
  const err = await t.throwsAsync(new CheckpointSaver({ dir, tables: live.tables, dense: live.dense }).restore(), { instanceOf: FormatError });
  t.deepEqual(snapshot(live.tables, live.dense), before, 'a failed restore leaves tables, dense params and step untouched');
  if (field) t.regex(`${err!.field}`, field);
  return err!;
}

test('restore is atomic: a zero-length dense file fails with the live tables, dense params and step untouched', async (t) => {
  const { dir } = await savedAt(5);
  await truncate(join(dir, 'model.ckpt-5.dense'), 0);
  const err = await restoreFails(t, dir);
  t.true(err.message.includes('model.ckpt-5.dense'));
});

test('restore is atomic: a corrupt second table fails with the first table untouched', async (t) => {
  const { dir } = await savedAt(5);
  const assets = join(dir, 'model.ckpt-5.assets');
  const odd = (await readdir(assets)).find((n) => n.startsWith('odd-'))!;
  const buf = await readFile(join(assets, odd));
  buf[buf.length - 5] ^= 0xff;
  await writeFile(join(assets, odd), buf);
  const err = await restoreFails(t, dir);
  t.true(err.message.includes(odd), err.message);
});

test('a good restore swaps everything in', async (t) => {
  const { dir, tables, dense } = await savedAt(5);
  const live = state(42);
  t.is(await new CheckpointSaver({ dir, tables: live.tables, dense: live.dense }).restore(), 5);
  t.deepEqual(snapshot(live.tables, live.dense), snapshot(tables, dense));
});

test('damage read as valid before: a zero-length shard or a shard cut at a record boundary disagrees with ckpt.info', async (t) => {
  for (const damage of ['empty', 'cut'] as const) {
    const { dir } = await savedAt(5, { tableShards: 2 });
    const file = join(dir, 'model.ckpt-5.assets', 'even-00000-of-00002');
    const buf = await readFile(file);
    const firstLen = buf.readUInt32LE(0);
    await truncate(file, damage === 'empty' ? 0 : 12 + firstLen + 4);
    const err = await restoreFails(t, dir, /feature_counts\[even\]/);
    t.true(err.message.includes('ckpt.info-5'), err.message);
  }
});

/** Rewrites a dense checkpoint's JSON header (the floats and their checksum stay). */
async function rewriteDenseHeader(path: string, edit: (json: string) => string): Promise<void> {
  const buf = await readFile(path);
  const len = buf.readUInt32LE(4);
  const json = Buffer.from(edit(buf.subarray(8, 8 + len).toString('utf8')));
  const floats = buf.subarray((8 + len + 3) & ~3);
  const at = (8 + json.length + 3) & ~3;
  const out = Buffer.alloc(at + floats.length);
  out.writeUInt32LE(buf.readUInt32LE(0), 0);
  out.writeUInt32LE(json.length, 4);
  json.copy(out, 8);
  floats.copy(out, at);
  await writeFile(path, out);
}

test('dense header: a flipped "globalStep" key or a missing field is a FormatError naming the field, not step 0 or a TypeError', async (t) => {
  const cases: [string, (j: string) => string, string][] = [
    ['flipped key', (j) => j.replace('"globalStep"', '"globalStea"'), 'globalStep'],
    ['no params', (j) => JSON.stringify({ ...JSON.parse(j), params: undefined }), 'params'],
    ['params not shapes', (j) => JSON.stringify({ ...JSON.parse(j), params: [{ name: 'x' }] }), 'params[0]'],
    ['no optimizer', (j) => JSON.stringify({ ...JSON.parse(j), optimizer: undefined }), 'optimizer'],
    ['negative floats', (j) => JSON.stringify({ ...JSON.parse(j), floats: -1 }), 'floats'],
  ];
  for (const [what, edit, field] of cases) {
    const { dir } = await savedAt(5);
    await rewriteDenseHeader(join(dir, 'model.ckpt-5.dense'), edit);
    const err = await restoreFails(t, dir);
    t.is(err.field, field, what);
  }
});

test('the default restorer follows the index: a partial checkpoint directory it does not name is ignored', async (t) => {
  const { dir, tables } = await savedAt(5);
  // A later save killed after writing one table: model.ckpt-9.assets holds only "even".
  await cp(join(dir, 'model.ckpt-5.assets'), join(dir, 'model.ckpt-9.assets'), { recursive: true });
  for (const n of await readdir(join(dir, 'model.ckpt-9.assets'))) if (n.startsWith('odd-')) await rm(join(dir, 'model.ckpt-9.assets', n));
  const live = state(42);
  const cks = Object.values(live.tables).map((tb) => checkpointableTable(tb));
  t.true(await new HashTableCheckpointRestorerListener(join(dir, 'model.ckpt'), cks).beforeRestore());
  t.deepEqual(snapshot(live.tables, live.dense).tables, snapshot(tables, live.dense).tables, 'step 5 restored whole');
  // Readers that listed directories: the newest checkpoint is the index's.
  t.is(await latestCheckpoint(dir), join(dir, 'model.ckpt-5'));
  const params = await checkpointParams(createModel({ seed: 1 }), dir)();
  t.deepEqual(Array.from(params.tables.get('even')!.lookupOnly(IDS)), Array.from(tables.even!.lookupOnly(IDS)));
});

test('without an index, the listeners restore the newest step whose ckpt.info exists (a save cut short has none)', async (t) => {
  const dir = await tempDir();
  const base = join(dir, 'model.ckpt');
  const a = state(3);
  const cks = Object.values(a.tables).map((tb) => checkpointableTable(tb));
  await new HashTableCheckpointSaverListener(base, cks).beforeSave(3);
  await cp(join(dir, 'model.ckpt-3.assets'), join(dir, 'model.ckpt-8.assets'), { recursive: true });
  await rm(join(dir, 'model.ckpt-8.assets', (await readdir(join(dir, 'model.ckpt-8.assets'))).find((n) => n.startsWith('odd-'))!));
  const live = state(42);
  const restorer = new HashTableCheckpointRestorerListener(base, Object.values(live.tables).map((tb) => checkpointableTable(tb)));
  t.true(await restorer.beforeRestore());
  t.deepEqual(snapshot(live.tables, live.dense).tables, snapshot(a.tables, a.dense).tables);
});

test('the index is written in TensorFlow order (oldest to newest, model_checkpoint_path the latest)', async (t) => {
  const dir = await tempDir();
  const s = state(1);
  const saver = new CheckpointSaver({ dir, tables: s.tables, dense: s.dense, keep: 3 });
  for (const step of [10, 20, 30, 40]) await saver.save(step);
  t.is(
    await readFile(join(dir, 'checkpoint'), 'utf8'),
    'model_checkpoint_path: "model.ckpt-40"\nall_model_checkpoint_paths: "model.ckpt-20"\nall_model_checkpoint_paths: "model.ckpt-30"\nall_model_checkpoint_paths: "model.ckpt-40"\n',
  );
  t.false((await readdir(dir)).includes('model.ckpt-10.dense'));
});

test('a TensorFlow-written index: restore uses model_checkpoint_path and pruning never deletes the newest', async (t) => {
  const dir = await tempDir();
  const s = state(1);
  const saver = new CheckpointSaver({ dir, tables: s.tables, dense: s.dense, keep: 3 });
  for (const step of [10, 20, 30]) {
    fill(s.tables, s.dense, step);
    await saver.save(step);
  }
  // As TF 2's CheckpointManager writes it (absolute paths, timestamps).
  const ts = (n: number) => `all_model_checkpoint_timestamps: 1.7e+09${n}\n`;
  await writeFile(
    join(dir, 'checkpoint'),
    `model_checkpoint_path: "${dir}/model.ckpt-30"\n` +
      [10, 20, 30].map((n) => `all_model_checkpoint_paths: "${dir}/model.ckpt-${n}"\n`).join('') +
      [1, 2, 3].map(ts).join('') +
      'last_preserved_timestamp: 1700000000.5\n',
  );
  const idx = await readIndex(dir);
  t.deepEqual(idx, { latest: 30, all: [10, 20, 30], latestPath: `${dir}/model.ckpt-30` });
  const live = state(42);
  t.is(await new CheckpointSaver({ dir, tables: live.tables, dense: live.dense }).restore(), 30);
  fill(s.tables, s.dense, 40);
  await saver.save(40);
  const names = await readdir(dir);
  t.true(names.includes('model.ckpt-30.dense') && names.includes('model.ckpt-30.assets'), 'the previous newest checkpoint is kept');
  t.false(names.includes('model.ckpt-10.dense'), 'the oldest goes');
  t.deepEqual((await readIndex(dir))!.all, [20, 30, 40]);
});

test('an index in the newest-first order of older versions reads the same', async (t) => {
  const dir = await tempDir();
  await writeFile(join(dir, 'checkpoint'), 'model_checkpoint_path: "model.ckpt-30"\nall_model_checkpoint_paths: "model.ckpt-30"\nall_model_checkpoint_paths: "model.ckpt-20"\n');
  t.deepEqual((await readIndex(dir))!.all, [20, 30]);
  await writeFile(join(dir, 'checkpoint'), 'model_checkpoint_path: "model.ckpt-x"\n');
  await t.throwsAsync(readIndex(dir), { instanceOf: FormatError, message: /-<step>/ });
});

test('the next successful save removes temp files and directories of killed writers, not those of live ones', async (t) => {
  const { dir, saver } = await savedAt(5);
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const staleFile = join(dir, `.model.ckpt-7.dense.tmp-${dead}-0a1b2c3d`);
  const staleAsset = join(dir, 'model.ckpt-5.assets', `.even-00000-of-00001.tmp-${dead}-99aa`);
  const staleExport = join(dir, `.1700000000.tmp-${dead}-123456789`);
  const live = join(dir, `.model.ckpt-8.dense.tmp-${process.pid}-0a1b2c3d`);
  for (const f of [staleFile, staleAsset, live]) await writeFile(f, 'x');
  await cp(join(dir, 'model.ckpt-5.assets'), staleExport, { recursive: true });
  await saver.save(6);
  const names = await readdir(dir);
  t.false(names.includes(staleFile.split('/').pop()!));
  t.false(names.includes(staleExport.split('/').pop()!), 'export temp directories too');
  t.true(names.includes(live.split('/').pop()!));
  t.false((await readdir(join(dir, 'model.ckpt-6.assets'))).some((n) => n.includes('.tmp-')));
  t.deepEqual(await removeStaleTemps(dir), []);
});
