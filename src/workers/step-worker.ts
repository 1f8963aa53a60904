/**
 * Piscina worker entry: one per thread. On its first task the thread picks
 * its tfjs backend, imports the model module, attaches to the shared tables
 * and dense parameters and builds its TrainStep; later tasks reuse them.
 * Batches arrive as SharedArrayBuffers and are read in place; with a record
 * parser (`StepWorkerData.parser`) a task may instead carry the batch's
 * serialized records, framed in shared memory, and the thread parses them.
 */
import { threadId, workerData } from 'node:worker_threads';
import type { Batch } from '../batch/batch.js';
import { unframeRecords } from '../batch/record-frame.js';
import { fromSharedBatch } from '../batch/shared-batch.js';
import { ConfigError } from '../errors.js';
import type { EmbeddingHashTableHandle } from '../hashtable/embedding-hash-table.js';
import { FirstPassIdCounts, type FirstPassIdMemory } from '../hashtable/first-pass-ids.js';
import type { RunMode, StepResult } from '../graph/step-result.js';
import { packError } from './error-transfer.js';
import { loadModel, type ModelRef } from './load-model.js';
import { attachTables } from './model-tables.js';
import { SharedDenseParams, type SharedDenseParamsHandle } from './shared-dense-params.js';
import { loadRecordParser, type BatchRecordParser, type RecordParserRef } from './record-parser-ref.js';
import { initBackend, type BackendName } from './tf-backend.js';
import { TrainStep } from './train-step.js';

export interface StepWorkerData {
  model: ModelRef;
  tables: Record<string, EmbeddingHashTableHandle>;
  dense: SharedDenseParamsHandle;
  backend?: BackendName;
  reportSparse?: boolean;
  /** The parser of tasks that carry records instead of a laid-out batch. */
  parser?: RecordParserRef;
}

export interface StepTask {
  /** A batch laid out by toSharedBatch, or (`records`) serialized records framed by frameRecords. */
  buffer: SharedArrayBuffer;
  records?: boolean;
  /** File the framed records come from (error messages). */
  file?: string;
  /** Or, per record, where it came from (error messages). */
  origins?: readonly string[];
  mode: RunMode;
  batchIndex?: number;
  parseMs?: number;
  regularizationScale?: number;
  /** With records: leave the rare ids of these first-pass counts out of the parsed batch. */
  rareIds?: FirstPassIdMemory;
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

interface WorkerContext {
  step: TrainStep;
  backend: BackendName;
  parser?: BatchRecordParser;
}
let ready: Promise<WorkerContext> | undefined;

function init(): Promise<WorkerContext> {
  ready ??= (async () => {
    const data = workerData as StepWorkerData;
    const backend = await initBackend(data.backend);
    const spec = await loadModel(data.model);
    const step = new TrainStep({ spec, tables: attachTables(data.tables), dense: SharedDenseParams.attach(data.dense), worker: threadId, reportSparse: data.reportSparse });
    const parser = data.parser ? await loadRecordParser(data.parser) : undefined;
    return { step, backend, parser };
  })();
  return ready;
}

/** The task's batch, and how long parsing it took here (records) or upstream. */
function batchOf(task: StepTask, ctx: WorkerContext): { batch: Batch; parseMs?: number } {
  if (!task.records) return { batch: fromSharedBatch(task.buffer), parseMs: task.parseMs };
  if (!ctx.parser) throw new ConfigError('a step task carries records, but this worker has no record parser');
  const t0 = performance.now();
  const { records, offsets } = unframeRecords(task.buffer);
  const parsed = ctx.parser.parseRecords(records, { file: task.file, offsets, origins: task.origins });
  const batch = task.rareIds ? FirstPassIdCounts.attach(task.rareIds).withoutRareIds(parsed) : parsed;
  return { batch, parseMs: performance.now() - t0 };
}

export default async function runStepTask(task: StepTask): Promise<StepTaskOutcome> {
  const runner = new Float64Array(task.runner);
  runner[1] = Date.now();
  runner[0] = threadId;
  let ctx: WorkerContext;
  try {
    ctx = await init();
  } catch (error) {
    return { failed: 'init', error: packError(error), thread: threadId };
  }
  try {
    const { batch, parseMs } = batchOf(task, ctx);
    const res = ctx.step.run(batch, task.mode, { batchIndex: task.batchIndex, parseMs, regularizationScale: task.regularizationScale });
    return { ok: { ...res, backend: ctx.backend } };
  } catch (error) {
    return { failed: 'step', error: packError(error), thread: threadId };
  }
}
