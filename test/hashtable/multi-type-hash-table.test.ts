import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormatError } from '../../src/errors.js';
import { HashTableCheckpointRestorerListener, HashTableCheckpointSaverListener } from '../../src/hashtable/checkpoint-listeners.js';
import { MultiTypeHashTable, defaultTableFactory } from '../../src/hashtable/multi-type-hash-table.js';
import { MergedMultiTypeHashTable, mergedSlotName } from '../../src/hashtable/merged-multi-type-hash-table.js';
import { UnsupportedOperationError } from '../../src/hashtable/errors.js';
import { polynomialDecay } from '../../src/hashtable/learning-rate.js';
import type { EmbeddingHashTableConfig } from '../../src/hashtable/embedding-hash-table.js';
import { arr, close, f32, testEntry } from './helpers.js';

/** generate_test_hash_table_config(dim, learning_rate=1.0). */
const cfg = (dim: number, lr: EmbeddingHashTableConfig['learningRates'] = [1]): EmbeddingHashTableConfig => ({ entry: testEntry(dim), learningRates: lr });
const three = () => ({ slot0: cfg(1), slot1: cfg(2), slot2: cfg(2) });

test('MultiTypeHashTable test_basic: assign_add + lookup per slot', (t) => {
  const table = new MultiTypeHashTable(three());
  table.assignAdd({ slot0: [[0], f32([1])], slot1: [[1], f32([2, 2])], slot2: [[2, 3], f32([4, 4, 8, 8])] });
  const v = table.lookup({ slot0: [0], slot1: [1], slot2: [2, 3] });
  t.deepEqual(arr(v.slot0!), [1]);
  t.deepEqual(arr(v.slot1!), [2, 2]);
  t.deepEqual(arr(v.slot2!), [4, 4, 8, 8]);
  t.deepEqual(table.tableDimSizes(), { slot0: 1, slot1: 2, slot2: 2 });
  t.throws(() => table.reinitialize(), { instanceOf: UnsupportedOperationError });
});

test('MultiTypeHashTable test_apply_gradients', (t) => {
  const table = new MultiTypeHashTable({ slot0: cfg(1), slot1: cfg(2) });
  table.lookup({ slot0: [0], slot1: [1, 2] });
  table.applyGradients({ slot0: [[0], f32([2])], slot1: [[1, 2], f32([1, 3, 2, 4])] }, { globalStep: 0 });
  const v = table.lookup({ slot0: [0], slot1: [1, 2] });
  t.deepEqual(arr(v.slot0!), [-2]);
  t.deepEqual(arr(v.slot1!), [-1, -3, -2, -4]);
});

test('MultiTypeHashTable test_apply_gradients_with_learning_rate_decay', (t) => {
  const lr = polynomialDecay({ initialLearningRate: 0.1, decaySteps: 10, endLearningRate: 1.1 });
  const table = new MultiTypeHashTable({ slot0: cfg(1, [lr]), slot1: cfg(2, [lr]) });
  table.lookup({ slot0: [0], slot1: [1, 2] });
  table.applyGradients({ slot0: [[0], f32([2])], slot1: [[1, 2], f32([1, 3, 2, 4])] }, { globalStep: 0 });
  const v = table.lookup({ slot0: [0], slot1: [1, 2] });
  t.true(close(v.slot0!, [-0.2]));
  t.true(close(v.slot1!, [-0.1, -0.3, -0.2, -0.4]));
});

test('MultiTypeHashTable test_apply_gradients_without_lookup (duplicates summed)', (t) => {
  const table = new MultiTypeHashTable({ slot0: cfg(1), slot1: cfg(2) });
  table.applyGradients({ slot0: [[1], f32([3])], slot1: [[2, 2], f32([1.1, 3.1, 2.2, 4.2])] });
  const v = table.lookup({ slot0: [1], slot1: [1, 2] });
  t.true(close(v.slot0!, [-3]));
  t.true(close(v.slot1!, [0, 0, -3.3, -7.3]));
});

test('MultiTypeHashTable test_fused_lookup and test_fused_lookup_multi_shards', (t) => {
  const table = new MultiTypeHashTable(three());
  table.assignAdd({ slot0: [[0], f32([1])], slot1: [[1], f32([2, 2])], slot2: [[2, 3], f32([4, 4, 8, 8])] });
  const one = table.fusedLookup([0, 1, 2, 3], [1, 1, 2], 1);
  t.deepEqual(arr(one.embeddings), [1, 2, 2, 4, 4, 8, 8]);
  t.deepEqual(arr(one.recvSplits), [7]);
  t.deepEqual(arr(one.idOffsets), [0, 1, 2, 4]);
  t.deepEqual(arr(one.embOffsets), [0, 1, 3, 7]);
  const two = table.fusedLookup([0, 2, 1, 3], [1, 0, 1, 0, 1, 1], 2);
  t.deepEqual(arr(two.embeddings), [1, 4, 4, 2, 2, 8, 8]);
  t.deepEqual(arr(two.recvSplits), [3, 4]);
  t.deepEqual(arr(two.idOffsets), [0, 1, 1, 2, 2, 3, 4]);
  t.deepEqual(arr(two.embOffsets), [0, 1, 1, 3, 3, 5, 7]);
});

test('MultiTypeHashTable test_fused_apply_gradients and _missing_tables', (t) => {
  const a = new MultiTypeHashTable({ slot0: cfg(1), slot1: cfg(2) });
  a.fusedLookup([0, 1, 2], [1, 2], 1);
  a.fusedApplyGradients([0, 1, 2], [1, 2], f32([2, 1, 3, 2, 4]), 1, { globalStep: 0 });
  const r = a.fusedLookup([0, 1, 2], [1, 2], 1);
  t.deepEqual(arr(r.embeddings), [-2, -1, -3, -2, -4]);
  t.deepEqual(arr(r.recvSplits), [5]);
  t.deepEqual(arr(r.idOffsets), [0, 1, 3]);
  t.deepEqual(arr(r.embOffsets), [0, 1, 5]);
  const b = new MultiTypeHashTable({ slot0: cfg(1), slot1: cfg(2) });
  b.fusedLookup([1, 1], [1, 0, 1, 0], 2);
  b.fusedApplyGradients([1, 1], [1, 0, 1, 0], f32([1, 2]), 2);
  const q = b.fusedLookup([1, 1], [1, 0, 1, 0], 2);
  t.deepEqual(arr(q.embeddings), [-3, -3]);
  t.deepEqual(arr(q.recvSplits), [1, 1]);
  t.deepEqual(arr(q.idOffsets), [0, 1, 1, 2, 2]);
  t.deepEqual(arr(q.embOffsets), [0, 1, 1, 2, 2]);
});

const multiTypeFactory = (m: Record<string, EmbeddingHashTableConfig>) => new MultiTypeHashTable(m, defaultTableFactory());

test('MergedMultiTypeHashTable testBasic: slots 1 & 2 share a table', (t) => {
  const table = new MergedMultiTypeHashTable(three(), multiTypeFactory);
  t.is(table.slotMapping.slot1, table.slotMapping.slot2);
  t.not(table.slotMapping.slot0, table.slotMapping.slot1);
  table.assignAdd({ slot0: [[0], f32([1])], slot1: [[1], f32([2, 2])], slot2: [[1], f32([4, 4])] });
  const v = table.lookup({ slot0: [0], slot1: [1], slot2: [1] });
  t.deepEqual(Object.keys(v), ['slot0', 'slot1', 'slot2']);
  t.deepEqual(arr(v.slot0!), [1]);
  t.deepEqual(arr(v.slot1!), [6, 6]);
  t.deepEqual(arr(v.slot2!), [6, 6]);
  table.applyGradients({ slot0: [[0], f32([-1])], slot1: [[1], f32([1, 1])], slot2: [[1], f32([1, 1])] }, { globalStep: 0 });
  const w = table.lookup({ slot0: [0], slot1: [1] });
  t.deepEqual(arr(w.slot0!), [2]);
  t.deepEqual(arr(w.slot1!), [4, 4]);
  t.deepEqual(table.tableDimSizes(), { [table.slotMapping.slot0!]: 1, [table.slotMapping.slot1!]: 2 });
});

test('MergedMultiTypeHashTable testNameStability: md5("slot0,slot1")', (t) => {
  let keys: string[] = [];
  new MergedMultiTypeHashTable({ slot0: cfg(1), slot1: cfg(1) }, (m) => {
    keys = Object.keys(m);
    return multiTypeFactory(m);
  });
  t.deepEqual(keys, ['e21904dd414d1780e5fc904866dc69c2']);
});

test('MergedMultiTypeHashTable testRestoreName: extraRestoreNames has md5 of the old slot_* name', (t) => {
  let extra: string[] | undefined;
  new MergedMultiTypeHashTable({ fc_slot_0: cfg(1) }, (m) => {
    extra = Object.values(m)[0]!.extraRestoreNames;
    return multiTypeFactory(m);
  });
  t.deepEqual(extra, [createHash('md5').update('slot_0').digest('hex')]);
});

test('MultiTypeHashTable and MergedMultiTypeHashTable save and restore through the checkpoint listeners; merged restores from old slot_* names', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mtt-ckpt-'));
  const base = join(dir, 'model.ckpt');
  // Per-slot tables: saved under their slot names, restored by the restorer listener.
  const a = new MultiTypeHashTable(three());
  a.assign({ slot0: [[1], f32([1])], slot1: [[2, 3], f32([2, 2, 3, 3])] });
  await new HashTableCheckpointSaverListener(base, a.checkpointables()).beforeSave(10);
  const assets = await readdir(`${base}-10.assets`);
  t.true(['slot0', 'slot1', 'slot2'].every((s) => assets.includes(`${s}-00000-of-00001`)));
  const b = new MultiTypeHashTable(three());
  b.assign({ slot1: [[2], f32([9, 9])] });
  t.true(await new HashTableCheckpointRestorerListener(base, b.checkpointables()).beforeRestore());
  t.deepEqual(arr(b.lookup({ slot1: [2, 3] }).slot1!), [2, 2, 3, 3]);
  t.deepEqual(arr(b.lookup({ slot0: [1] }).slot0!), [1]);

  // A model whose slots were called slot_1/slot_2 saved its merged table under md5('slot_1,slot_2').
  const old = new MergedMultiTypeHashTable({ slot_1: cfg(2), slot_2: cfg(2) }, multiTypeFactory);
  old.assign({ slot_1: [[5], f32([5, 5])], slot_2: [[6], f32([6, 6])] });
  await new HashTableCheckpointSaverListener(base, old.checkpointables()).beforeSave(20);
  t.true((await readdir(`${base}-20.assets`)).includes(`${createHash('md5').update('slot_1,slot_2').digest('hex')}-00000-of-00001`));
  // The renamed model (fc_slot_*) finds it through extraRestoreNames.
  const renamed = new MergedMultiTypeHashTable({ fc_slot_1: cfg(2), fc_slot_2: cfg(2) }, multiTypeFactory);
  t.true(await new HashTableCheckpointRestorerListener(base, renamed.checkpointables()).beforeRestore());
  const v = renamed.lookup({ fc_slot_2: [6], fc_slot_1: [5] });
  t.deepEqual([arr(v.fc_slot_2!), arr(v.fc_slot_1!)], [[6, 6], [5, 5]]);
  // Saved again, it uses its own (new) name, which restore now prefers.
  await new HashTableCheckpointSaverListener(base, renamed.checkpointables()).beforeSave(30);
  t.true((await readdir(`${base}-30.assets`)).includes(`${mergedSlotName(['fc_slot_1', 'fc_slot_2'])}-00000-of-00001`));
  // A table under none of its names: a FormatError naming what was tried.
  const other = new MergedMultiTypeHashTable({ fc_slot_7: cfg(3) }, multiTypeFactory);
  const err = await t.throwsAsync(new HashTableCheckpointRestorerListener(base, other.checkpointables()).beforeRestore(), { instanceOf: FormatError });
  t.regex(err!.message, /maybe the model structure has changed/);
  await rm(dir, { recursive: true });
});
