import { parentPort, workerData } from 'node:worker_threads';
import { EmbeddingHashTable, type EmbeddingHashTableHandle } from '../src/hashtable/embedding-hash-table.js';
import { adagradTable, BATCH } from './hashtable-workload.js';

/**
 * Two-thread bench worker. It attaches to the shared table, warms its JIT on
 * a private scratch table, then for each `{ op, ids }` message runs `op` over
 * its share of the batches (part, part + parts, ...) between a start barrier
 * (`gate[0]` = workers ready, `gate[1]` = go) and a 'done' message.
 */
interface Setup {
  handle: EmbeddingHashTableHandle;
  grads: Float32Array;
  warm: Uint32Array;
  part: number;
  parts: number;
  gate: SharedArrayBuffer;
}
type Op = 'a' | 'b' | 'c';
const j = workerData as Setup;
const table = EmbeddingHashTable.attach(j.handle);
const out = new Float32Array(BATCH * table.dim);
const gate = new Int32Array(j.gate);

function runOp(t: EmbeddingHashTable, op: Op, ids: Uint32Array, part: number, parts: number): void {
  const nb = ids.length / 2 / BATCH;
  for (let b = part; b < nb; b += parts) {
    const w = ids.subarray(b * BATCH * 2, (b + 1) * BATCH * 2);
    if (op === 'a') t.lookup(w, out);
    else if (op === 'c') t.lookupOnly(w, out);
    else t.applyGradients(w, j.grads);
  }
}

// JIT warm-up on a private table of the same shape (the shared table is not touched).
const scratch = adagradTable(table.dim, 1e4, table.shards.length);
for (let r = 0; r < 3; r++) for (const op of ['a', 'b', 'c'] as const) runOp(scratch, op, j.warm, 0, 1);

parentPort!.on('message', (m: { op: Op; ids: Uint32Array; round: number }) => {
  Atomics.add(gate, 0, 1);
  Atomics.notify(gate, 0);
  while (Atomics.load(gate, 1) < m.round) Atomics.wait(gate, 1, m.round - 1);
  runOp(table, m.op, m.ids, j.part, j.parts);
  parentPort!.postMessage('done');
});
parentPort!.postMessage('ready');
