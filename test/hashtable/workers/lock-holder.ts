import { parentPort, workerData } from 'node:worker_threads';
import { EmbeddingHashTable, type EmbeddingHashTableHandle } from '../../../src/hashtable/embedding-hash-table.js';
import { mixFid } from '../../../src/hashtable/fid-hash.js';

/**
 * Holds the lock of one shard until another thread is blocked waiting for it
 * (the lock word turns 2), reports every shard's size at that moment, then
 * writes `value` into the embedding of id (lo, hi) and releases the lock.
 */
interface Job {
  handle: EmbeddingHashTableHandle;
  shard: number;
  lo: number;
  hi: number;
  value: number;
}
const j = workerData as Job;
const table = EmbeddingHashTable.attach(j.handle);
const sh = table.shards[j.shard]!;
sh.lock();
parentPort!.postMessage('locked');
while ((Atomics.load(sh.ctl, 0) & 3) !== 2) Atomics.wait(sh.ctl, 0, Atomics.load(sh.ctl, 0), 5);
// The other thread is now blocked on this shard: what has it done to the other shards already?
parentPort!.postMessage(table.shards.map((s) => s.size));
const slot = sh.find(j.lo, j.hi, mixFid(j.lo, j.hi));
const row = sh.valAt(slot) - 1;
for (let d = 0; d < table.dim; d++) sh.f32[row * sh.stride + d] = j.value;
sh.unlock();
