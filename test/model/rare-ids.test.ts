import test from 'ava';
import { DEFAULT_RARE_ID_COUNT, FirstPassIdCounts, PlantedCtr, trainEpochs, type Batch, type EmbeddingHashTable } from 'monolith-ts';
import { initBackend } from '../../src/workers/tf-backend.js';
import { plantedBatches } from './planted-batches.js';

const DEEPFM = import.meta.resolve('monolith-ts/models/deepfm');

test.before(async () => {
  await initBackend('cpu');
});

const key = (lo: number, hi: number) => `${hi}:${lo}`;

/** Every entry's embedding, by id. */
function entries(tables: Record<string, EmbeddingHashTable>): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const t of Object.values(tables)) t.shards.forEach((_, k) => t.forEachEntry(k, (lo, hi, row, sh) => out.set(`${t.name}/${key(lo, hi)}`, t.readEmbedding(sh, row).slice())));
  return out;
}

/** How often each id occurs in `batches` (ids carry their slot, so one count per id). */
function counts(batches: Batch[]): Map<string, number> {
  const c = new Map<string, number>();
  for (const b of batches) for (const col of b.sparse) for (let k = 0; k < col.fids.length; k += 2) c.set(key(col.fids[k]!, col.fids[k + 1]!), (c.get(key(col.fids[k]!, col.fids[k + 1]!)) ?? 0) + 1);
  return c;
}

test('trainEpochs leaves the ids seen at most DEFAULT_RARE_ID_COUNT (8) times in the first pass out of later passes: their entries keep what pass 1 learnt, the others train on', async (t) => {
  const stream = new PlantedCtr({ seed: 11 });
  const train = plantedBatches(stream, 8192, 512);
  const held = plantedBatches(stream, 2048, 1024);
  const seen = counts(train);
  const run = async (epochs: number, leaveOutRareIds?: number) => {
    const res = await trainEpochs({ model: { url: DEEPFM, options: { sparseSlots: stream.slots, denseFeatureNames: stream.denseNames } }, workers: 1, trainSource: () => train, heldOut: () => held, epochs, ...(leaveOutRareIds !== undefined ? { leaveOutRareIds } : {}) });
    return { auc: res.epochs.map((e) => e.heldOutAuc), rows: entries(res.tables) };
  };
  t.is(DEFAULT_RARE_ID_COUNT, 8);
  const one = await run(1);
  const two = await run(2);
  const kept = await run(2, 0);
  t.is(two.auc[0], one.auc[0]);
  t.is(kept.auc[0], one.auc[0]);
  const moved = (r: Map<string, Float32Array>, rare: boolean) => {
    let n = 0;
    let of = 0;
    for (const [id, v] of r) {
      const c = seen.get(id.slice(id.indexOf('/') + 1))!;
      if (c <= DEFAULT_RARE_ID_COUNT !== rare) continue;
      of++;
      if (v.some((x, j) => x !== one.rows.get(id)![j])) n++;
    }
    return { n, of };
  };
  const rareByDefault = moved(two.rows, true);
  const frequentByDefault = moved(two.rows, false);
  const rareKept = moved(kept.rows, true);
  t.log(`entries changed by pass 2: rare ${rareByDefault.n}/${rareByDefault.of}, frequent ${frequentByDefault.n}/${frequentByDefault.of}; with leaveOutRareIds 0, rare ${rareKept.n}/${rareKept.of}`);
  t.log(`held-out AUC by pass: default ${two.auc.map((a) => a.toFixed(4)).join(' → ')}, every id kept ${kept.auc.map((a) => a.toFixed(4)).join(' → ')}`);
  t.true(rareByDefault.of > 1000, 'the stream has rare ids');
  t.is(rareByDefault.n, 0, 'no entry of a rare id moves in pass 2');
  t.is(frequentByDefault.n, frequentByDefault.of, 'every other entry trains on');
  t.is(rareKept.n, rareKept.of, 'with leaveOutRareIds: 0 every entry trains on');
  t.is(two.rows.size, one.rows.size, 'pass 2 adds no entry');
  t.not(two.auc[1], kept.auc[1]);
});

test('FirstPassIdCounts: later batches lose the ids seen 1..maxCount times; ids the first pass never saw, and rows, stay', (t) => {
  const col = (ids: number[][]) => ({ name: 'user', slot: 1, fids: Uint32Array.from(ids.flat().flatMap((id) => [id, 0])), rowSplits: Int32Array.from([0, ...ids.map((_, r) => ids.slice(0, r + 1).flat().length)]) });
  const batch = (ids: number[][]): Batch => ({ rows: ids.length, sparse: [col(ids)], dense: [], labels: new Float32Array(ids.length), labelWidth: 1, lineId: [] });
  const counts = new FirstPassIdCounts(2);
  counts.count(batch([[1, 2], [2], [3], [3], [3]]));
  t.deepEqual([1, 2, 3, 4].map((id) => counts.countOf('user', id, 0)), [1, 2, 3, 0]);
  t.is(counts.ids, 3);
  const later = counts.withoutRareIds(batch([[1, 3, 4], [2], [], [3, 2]]));
  t.deepEqual(Array.from(later.sparse[0]!.fids), [3, 0, 4, 0, 3, 0]);
  t.deepEqual(Array.from(later.sparse[0]!.rowSplits), [0, 2, 2, 2, 3]);
  t.is(later.rows, 4);
  const frequent = batch([[3], [4]]);
  t.is(counts.withoutRareIds(frequent), frequent, 'a batch without rare ids is passed on as it is');
  t.throws(() => new FirstPassIdCounts(0), { message: /integer >= 1/ });
});

test('FirstPassIdCounts: thousands of ids with high bits set, in two features counted apart', (t) => {
  const ids = Array.from({ length: 5000 }, (_, i) => [(0x80000000 + i * 7919) >>> 0, i % 2 ? 0xffffffff : 0x80000000 + (i % 13)]);
  const column = (name: string, picked: number[][]) => ({ name, slot: name === 'a' ? 1 : 2, fids: Uint32Array.from(picked.flat()), rowSplits: Int32Array.from(picked.map((_, r) => r).concat(picked.length)) });
  const batch = (a: number[][], b: number[][]): Batch => ({ rows: a.length, sparse: [column('a', a), column('b', b)], dense: [], labels: new Float32Array(a.length), labelWidth: 1, lineId: [] });
  const counts = new FirstPassIdCounts(1);
  // Feature a sees every id once and the first 100 a second time; feature b sees id k at row k, every id once.
  counts.forPass(batch(ids, ids), 1);
  counts.forPass(batch(ids.slice(0, 100), ids.slice(0, 100)), 1);
  t.is(counts.ids, 10000);
  t.is(counts.countOf('a', ids[50]![0]!, ids[50]![1]!), 2);
  t.is(counts.countOf('a', ids[4999]![0]!, ids[4999]![1]!), 1);
  t.is(counts.countOf('b', ids[50]![0]!, ids[50]![1]!), 2);
  const later = counts.forPass(batch(ids.slice(0, 200), ids.slice(0, 200)), 2);
  const kept = (c: number) => Array.from(later.sparse[c]!.fids);
  t.deepEqual(kept(0), ids.slice(0, 100).flat(), 'ids seen twice stay, ids seen once go');
  t.deepEqual(kept(1), ids.slice(0, 100).flat());
  t.deepEqual(Array.from(later.sparse[0]!.rowSplits), [...Array.from({ length: 101 }, (_, r) => r), ...Array(100).fill(100)]);
});

test('trainEpochs rejects a bad leaveOutRareIds before training', async (t) => {
  await t.throwsAsync(trainEpochs({ model: { url: DEEPFM, options: {} }, trainSource: () => [], heldOut: () => [], epochs: 2, leaveOutRareIds: -1 }), { message: /leaveOutRareIds must be an integer >= 0, got -1/ });
});
