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
  reportSparse?: boolean;
}

export interface StepTask {
  buffer: SharedArrayBuffer;
  mode: RunMode;
  batchIndex?: number;
  parseMs?: number;
  /** Two Float64s: the worker stores its threadId and the wall-clock ms when it starts the task (who ran it, for how long). */
  runner: SharedArrayBuffer;
}

export type StepTaskResult = StepResult & { backend: BackendName };

/**
 * What a task answers: its result, or the error of its thread's set-up (model
 * module import, backend) or of its step. Errors travel as values, so any
 * rejection of a task means its thread died (or was stopped).
 */
export type StepTaskOutcome = { ok: StepTaskResult } | { failed: 'init' | 'step'; error: unknown; thread: number };

let ready: Promise<{ step: TrainStep; backend: BackendName }> | undefined;

function init(): Promise<{ step: TrainStep; backend: BackendName }> {
  ready ??= (async () => {
    const data = workerData as StepWorkerData;
    const backend = await initBackend(data.backend);
    const spec = await loadModel(data.model);
    const step = new TrainStep({ spec, tables: attachTables(data.tables), dense: SharedDenseParams.attach(data.dense), worker: threadId, reportSparse: data.reportSparse });
    return { step, backend };
  })();
  return ready;
}

export default async function runStepTask(task: StepTask): Promise<StepTaskOutcome> {
  const runner = new Float64Array(task.runner);
  runner[1] = Date.now();
  runner[0] = threadId;
  let ctx: { step: TrainStep; backend: BackendName };
  try {
    ctx = await init();
  } catch (error) {
    return { failed: 'init', error, thread: threadId };
  }
  try {
    const res = ctx.step.run(fromSharedBatch(task.buffer), task.mode, { batchIndex: task.batchIndex, parseMs: task.parseMs });
    return { ok: { ...res, backend: ctx.backend } };
  } catch (error) {
    return { failed: 'step', error, thread: threadId };
  }
}
