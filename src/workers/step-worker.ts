/**
 * Piscina worker entry: one per thread. On its first task the thread picks
 * its tfjs backend, imports the model module, attaches to the shared tables
 * and dense parameters and builds its TrainStep; later tasks reuse them.
 * Batches arrive as SharedArrayBuffers and are read in place.
 */
import { threadId, workerData } from 'node:worker_threads';
import { fromSharedBatch } from '../batch/shared-batch.js';
import type { EmbeddingHashTableHandle } from '../hashtable/embedding-hash-table.js';
import type { RunMode, StepResult } from '../graph/step-result.js';
import { loadModel, type ModelRef } from './load-model.js';
import { attachTables } from './model-tables.js';
import { SharedDenseParams, type SharedDenseParamsHandle } from './shared-dense-params.js';
import { initBackend, type BackendName } from './tf-backend.js';
import { TrainStep } from './train-step.js';

export interface StepWorkerData {
  model: ModelRef;
  tables: Record<string, EmbeddingHashTableHandle>;
  dense: SharedDenseParamsHandle;
  backend?: BackendName;
}

export interface StepTask {
  buffer: SharedArrayBuffer;
  mode: RunMode;
  batchIndex?: number;
  parseMs?: number;
}

export type StepTaskResult = StepResult & { backend: BackendName };

let ready: Promise<{ step: TrainStep; backend: BackendName }> | undefined;

function init(): Promise<{ step: TrainStep; backend: BackendName }> {
  ready ??= (async () => {
    const data = workerData as StepWorkerData;
    const backend = await initBackend(data.backend);
    const spec = await loadModel(data.model);
    const step = new TrainStep({ spec, tables: attachTables(data.tables), dense: SharedDenseParams.attach(data.dense), worker: threadId });
    return { step, backend };
  })();
  return ready;
}

export default async function runStepTask(task: StepTask): Promise<StepTaskResult> {
  const { step, backend } = await init();
  const res = step.run(fromSharedBatch(task.buffer), task.mode, { batchIndex: task.batchIndex, parseMs: task.parseMs });
  return { ...res, backend };
}
