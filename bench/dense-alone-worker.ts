/**
 * A plain worker thread running the dense step alone (bench/dense-alone.ts):
 * warms up, reports ready, waits for the shared start flag so that every
 * thread's timed loop runs at the same time, then reports the summed time of
 * its dense stages.
 * Measures what the machine gives n threads of pure dense compute.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ModelRef } from '../src/workers/load-model.js';
import { loadModel } from '../src/workers/load-model.js';
import { initBackend, type BackendName } from '../src/workers/tf-backend.js';
import { denseStepOf } from './dense-alone.js';

export interface DenseAloneWorkerData {
  model: ModelRef;
  backend: BackendName;
  rows: number;
  warm: number;
  batches: number;
  /** Int32 [0]: 0 = wait, 1 = go. */
  start: SharedArrayBuffer;
}

const d = workerData as DenseAloneWorkerData;
await initBackend(d.backend);
const { step, kernel } = denseStepOf(await loadModel(d.model), d.rows);
for (let i = 0; i < d.warm; i++) step();
parentPort!.postMessage({ ready: true });
const flag = new Int32Array(d.start);
Atomics.wait(flag, 0, 0, 600_000);
// The dense stages' own time: the step's lookup and apply (on its synthetic ids) are not the dense compute.
let ms = 0;
for (let i = 0; i < d.batches; i++) ms += step();
parentPort!.postMessage({ ms, kernel: kernel() });
