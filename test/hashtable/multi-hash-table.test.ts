import test from 'ava';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MultiHashTable } from '../../src/hashtable/multi-hash-table.js';
import { HashTableCheckpointRestorerListener, HashTableCheckpointSaverListener } from '../../src/hashtable/checkpoint-listeners.js';
import type { EmbeddingHashTableConfig } from '../../src/hashtable/embedding-hash-table.js';
import { FormatError } from '../../src/errors.js';
import { arr, f32, testEntry } from './helpers.js';

const cfg = (dim: number): EmbeddingHashTableConfig => ({ entry: testEntry(dim), learningRates: [1] });

test('test_lookup_assign_add_reinitialize: status [0,1,1] and -1 for a missing table', (t) => {
  const m = MultiHashTable.fromConfigs({ slot0: cfg(1), not_used: cfg(2), slot1: cfg(2), slot2: cfg(2) });
  m.assignAdd({ slot0: [[0], f32([1])], slot1: [[1], f32([2, 2])], slot2: [[2, 3], f32([4, 4, 8, 8])] });
  let v = m.lookup({ slot0: [0], slot1: [1], slot2: [2, 3] });
  t.deepEqual([arr(v.slot0!), arr(v.slot1!), arr(v.slot2!)], [[1], [2, 2], [4, 4, 8, 8]]);
  const s1 = m.reinitialize('slot2', [1, 2, 3]);
  const s2 = m.reinitialize('slot3', [1, 2, 3]);
  v = m.lookup({ slot0: [0], slot1: [1], slot2: [1, 2, 3] });
  t.deepEqual([arr(v.slot0!), arr(v.slot1!), arr(v.slot2!)], [[1], [2, 2], [0, 0, 0, 0, 0, 0]]);
  t.deepEqual(arr(s1), [0, 1, 1]);
  t.deepEqual(arr(s2), [-1, -1, -1]);
});

test('test_apply_gradients', (t) => {
  const m = MultiHashTable.fromConfigs({ slot0: cfg(1), slot1: cfg(2) });
  m.lookup({ slot0: [0], slot1: [1, 2] });
  m.applyGradients({ slot0: [[0], f32([2])], slot1: [[1, 2], f32([1, 3, 2, 4])] }, { globalStep: 0 });
  const v = m.lookup({ slot0: [0], slot1: [1, 2] });
  t.deepEqual(arr(v.slot0!), [-2]);
  t.deepEqual(arr(v.slot1!), [-1, -3, -2, -4]);
});

test('raw ops: ragged ids in (tables in name order), flat values out', (t) => {
  const m = MultiHashTable.fromConfigs({ b: cfg(2), a: cfg(1) });
  t.deepEqual(m.names, ['a', 'b']);
  const ids = { values: [5, 6, 5], rowSplits: [0, 1, 3] };
  m.rawAssign(ids, f32([1, 2, 2, 3, 3]));
  t.deepEqual(arr(m.rawLookup(ids)), [1, 2, 2, 3, 3]);
  m.rawApplyGradients(ids, f32([1, 1, 1, 1, 1]));
  t.deepEqual(arr(m.rawLookup(ids)), [0, 1, 1, 2, 2]);
  t.throws(() => m.rawLookup({ values: [1], rowSplits: [0, 1] }), { message: /row_splits must have 3 entries/ });
  const fused = m.fusedLookup([5, 6], [1, 1], 1);
  t.deepEqual(arr(fused.embeddings), [0, 1, 1]);
  m.fusedApplyGradients([5, 6], [1, 1], f32([1, 1, 1]), 1, { learningRates: [2, 0.5] });
  t.deepEqual(arr(m.fusedLookup([5, 6], [1, 1], 1).embeddings), [-2, 0.5, 0.5]);
});

test('test_save_restore: restore into a table with different slots keeps the overlapping ones', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mht-'));
  const a = MultiHashTable.fromConfigs({ slot0: cfg(1), slot1: cfg(2), slot2: cfg(2) });
  a.assignAdd({
    slot0: [[0, 1], f32([1, 2])],
    slot1: [[2, 3, 4, 5], f32([1, 2, 2, 3, 3, 4, 4, 5])],
    slot2: [[6, 7, 8, 9, 10], f32([1, 1, 2, 2, 3, 3, 4, 4, 5, 5])],
  });
  t.is(await a.save(join(dir, 'mt'), { nshards: 2 }), 11);
  t.deepEqual((await readdir(dir)).sort(), ['mt-00000-of-00002', 'mt-00001-of-00002', 'mt.meta-00000-of-00002', 'mt.meta-00001-of-00002']);
  const b = MultiHashTable.fromConfigs({ slot0: cfg(1), slot2: cfg(2), slot3: cfg(3) });
  b.assign({ slot3: [[1], f32([1, 1, 1])] });
  t.is(await b.restore(join(dir, 'mt')), 7);
  const v = b.lookup({ slot0: [0, 1], slot2: [6, 7, 8, 9, 10] });
  t.deepEqual(arr(v.slot0!), [1, 2]);
  t.deepEqual(arr(v.slot2!), [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
  t.is(b.tables.get('slot3')!.size, 0);
  // A damaged data file: error, tables untouched.
  const f = join(dir, 'mt-00000-of-00002');
  const bytes = await readFile(f);
  bytes[20] ^= 0x55;
  await writeFile(f, bytes);
  await t.throwsAsync(b.restore(join(dir, 'mt')), { instanceOf: FormatError });
  t.is(b.size, 7);
  await rm(dir, { recursive: true });
});

test('test_save_restore_hook: restore overrides the updates made after the save', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mht-'));
  const basename = join(dir, 'model.ckpt');
  const table = MultiHashTable.fromConfigs({ slot0: cfg(1), slot1: cfg(2), slot2: cfg(2) });
  table.assignAdd({ slot0: [[0], f32([1])], slot1: [[1], f32([2, 2])], slot2: [[2, 3], f32([4, 4, 8, 8])] });
  await new HashTableCheckpointSaverListener(basename, [table]).beforeSave(0);
  table.assignAdd({ slot0: [[0], f32([-1])], slot1: [[1], f32([-2, -3])], slot2: [[2, 3], f32([-4, -5, -6, -7])] });
  await new HashTableCheckpointRestorerListener(basename, [table]).beforeRestore();
  const v = table.lookup({ slot0: [0], slot1: [1], slot2: [2, 3] });
  t.deepEqual([arr(v.slot0!), arr(v.slot1!), arr(v.slot2!)], [[1], [2, 2], [4, 4, 8, 8]]);
  const info = await readFile(join(dir, 'ckpt.info-0'), 'utf8');
  t.regex(info, /key: "slot2"\s+value: 2/);
  await rm(dir, { recursive: true });
});
