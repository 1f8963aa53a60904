import { workerData, parentPort } from 'node:worker_threads';
import { EmbeddingHashTable, type EmbeddingHashTableHandle } from '../../../src/hashtable/embedding-hash-table.js';
import { Rng } from '../../../src/util/random.js';

/** Concurrency-test worker: lookups and SGD updates (gradient 1) on ids drawn from a shared pool. */
interface Job {
  handle: EmbeddingHashTableHandle;
  start: SharedArrayBuffer;
  seed: number;
  batches: number;
  batchSize: number;
  universe: number;
}
const job = workerData as Job;
const table = EmbeddingHashTable.attach(job.handle);
const rng = new Rng(job.seed);
const counts = new Float64Array(job.universe);
const gate = new Int32Array(job.start);
Atomics.add(gate, 0, 1);
while (Atomics.load(gate, 0) < 2) Atomics.wait(gate, 0, Atomics.load(gate, 0), 1);
const ids = new BigUint64Array(job.batchSize);
const grads = new Float32Array(job.batchSize * table.dim).fill(1);
for (let b = 0; b < job.batches; b++) {
  for (let i = 0; i < ids.length; i++) {
    const k = rng.int(0, job.universe - 1);
    ids[i] = (BigInt(k % 3) << 48n) | BigInt(k);
    counts[k]!++;
  }
  table.lookup(ids);
  table.applyGradients(ids, grads, { learningRates: [1] });
}
parentPort!.postMessage(counts);
