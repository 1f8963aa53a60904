import test from 'ava';
import { Worker } from 'node:worker_threads';
import { EmbeddingHashTable } from '../../src/hashtable/embedding-hash-table.js';
import { shardOfFid } from '../../src/hashtable/fid-hash.js';
import { testEntry } from './helpers.js';

function runWorker(data: unknown): Promise<Float64Array> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./workers/apply-worker.js', import.meta.url), { workerData: data });
    w.once('message', resolve);
    w.once('error', reject);
  });
}

const twoWorkers = test.macro(async (t, shards: number) => {
  const universe = 3000;
  const table = EmbeddingHashTable.create({ entry: testEntry(4), shards, initialCapacity: 16 });
  const start = new SharedArrayBuffer(4);
  const common = { handle: table.handle(), start, batches: 60, batchSize: 1024, universe };
  const [a, b] = await Promise.all([runWorker({ ...common, seed: 1 }), runWorker({ ...common, seed: 2 })]);
  const ids = BigUint64Array.from({ length: universe }, (_, k) => (BigInt(k % 3) << 48n) | BigInt(k));
  const values = table.lookupOnly(ids);
  let distinct = 0;
  let wrong = 0;
  for (let k = 0; k < universe; k++) {
    const n = a![k]! + b![k]!;
    if (n > 0) distinct++;
    // SGD, lr 1, gradient 1: every (summed) occurrence subtracts exactly 1.
    for (let j = 0; j < 4; j++) if (values[k * 4 + j] !== -n) wrong++;
  }
  t.is(wrong, 0);
  t.is(table.size, distinct);
  let entries = 0;
  for (let s = 0; s < shards; s++) table.forEachEntry(s, () => entries++);
  t.is(entries, distinct);
});

test('two worker threads updating the same ids lose no update and duplicate no entry (4 shards)', twoWorkers, 4);
// One shard: every batch takes the same lock (a single-shard table once skipped locking altogether).
test('two worker threads updating the same ids lose no update and duplicate no entry (1 shard)', twoWorkers, 1);

test('one million inserts with growth from a tiny table: all present, none duplicated', (t) => {
  const n = 1_000_000;
  const table = EmbeddingHashTable.create({ entry: testEntry(8), shards: 4 });
  const ids = new BigUint64Array(4096);
  const vals = new Float32Array(4096 * 8);
  for (let b = 0; b < n; b += 4096) {
    const m = Math.min(4096, n - b);
    for (let i = 0; i < m; i++) {
      ids[i] = (BigInt((b + i) % 1000) << 48n) | BigInt(b + i);
      vals[i * 8] = b + i;
    }
    table.assign(ids.subarray(0, m), vals.subarray(0, m * 8));
  }
  t.is(table.size, n);
  let bad = 0;
  for (let b = 0; b < n; b += 4096) {
    const m = Math.min(4096, n - b);
    for (let i = 0; i < m; i++) ids[i] = (BigInt((b + i) % 1000) << 48n) | BigInt(b + i);
    const out = table.lookupOnly(ids.subarray(0, m));
    for (let i = 0; i < m; i++) if (out[i * 8] !== b + i) bad++;
  }
  t.is(bad, 0);
  t.is(table.size, n);
});

test('a busy shard is put off, then waited for: other shards are done first, and the write made under the lock is seen', async (t) => {
  const table = EmbeddingHashTable.create({ entry: testEntry(2), shards: 4 });
  const ids = BigUint64Array.from({ length: 64 }, (_, k) => BigInt(k + 1));
  table.assign(ids, Float32Array.from({ length: 128 }, (_, i) => i));
  const words = new Uint32Array(ids.buffer);
  const shardOf = (k: number) => shardOfFid(words[2 * k]!, words[2 * k + 1]!, 4);
  const k0 = Array.from(ids.keys()).find((k) => shardOf(k) === 0)!;
  // New ids, none of them on shard 0: the lookup below inserts them before it blocks on shard 0.
  const fresh: bigint[] = [];
  for (let x = 1000n; fresh.length < 30; x++) {
    const v = new Uint32Array(BigUint64Array.of(x).buffer);
    if (shardOfFid(v[0]!, v[1]!, 4) !== 0) fresh.push(x);
  }
  const before = table.shards.map((s) => s.size);
  const w = new Worker(new URL('./workers/lock-holder.js', import.meta.url), {
    workerData: { handle: table.handle(), shard: 0, lo: words[2 * k0], hi: words[2 * k0 + 1], value: 42 },
  });
  const messages: unknown[] = [];
  w.on('message', (m) => messages.push(m));
  const exited = new Promise((res, rej) => (w.once('exit', res), w.once('error', rej)));
  await new Promise((res) => w.once('message', res)); // 'locked'
  // Shard 0 is held: this lookup does the other shards first, then blocks on shard 0 until the worker wrote and unlocked.
  const all = BigUint64Array.from([...ids, ...fresh]);
  const out = table.lookup(all);
  await exited;
  const seen = messages[1] as number[];
  const after = table.shards.map((s) => s.size);
  t.deepEqual(seen, after, 'when the worker saw the lookup waiting, the other shards had their new ids already');
  t.is(seen[0], before[0]);
  t.is(after.reduce((a, b) => a + b, 0), 64 + 30);
  for (let k = 0; k < 64; k++) {
    const want = k === k0 ? [42, 42] : [2 * k, 2 * k + 1];
    t.deepEqual([out[2 * k], out[2 * k + 1]], want, `id ${k + 1}`);
  }
});
