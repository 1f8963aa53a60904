import { parentPort, workerData } from 'node:worker_threads';
import { EmbeddingHashTable, type EmbeddingHashTableHandle } from '../src/hashtable/embedding-hash-table.js';
import { BATCH } from './hashtable-workload.js';

/** Two-thread bench worker: runs op over its half of the batches (t, t+2, ...) between two barriers. */
interface Job {
  handle: EmbeddingHashTableHandle;
  ids: Uint32Array;
  grads: Float32Array;
  op: 'a' | 'b' | 'c';
  part: number;
  parts: number;
  gate: SharedArrayBuffer;
}
const j = workerData as Job;
const table = EmbeddingHashTable.attach(j.handle);
const out = new Float32Array(BATCH * table.dim);
const gate = new Int32Array(j.gate);
Atomics.add(gate, 0, 1);
Atomics.notify(gate, 0);
while (Atomics.load(gate, 1) === 0) Atomics.wait(gate, 1, 0);
const nb = j.ids.length / 2 / BATCH;
for (let b = j.part; b < nb; b += j.parts) {
  const w = j.ids.subarray(b * BATCH * 2, (b + 1) * BATCH * 2);
  if (j.op === 'a') table.lookup(w, out);
  else if (j.op === 'c') table.lookupOnly(w, out);
  else table.applyGradients(w, j.grads);
}
parentPort!.postMessage('done');
