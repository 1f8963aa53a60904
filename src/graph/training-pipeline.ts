import { availableParallelism } from 'node:os';
import type { ResourceLimits } from 'node:worker_threads';
import { defer, from, lastValueFrom, tap, type Observable, type OperatorFunction } from 'rxjs';
import type { Batch, SourceBatch } from '../batch/batch.js';
import { ConfigError } from '../errors.js';
import type { EmbeddingHashTable } from '../hashtable/embedding-hash-table.js';
import { LockHolderDiedError } from '../hashtable/shard-lock.js';
import type { ModelSpec } from '../model/model-spec.js';
import { log } from '../util/log.js';
import { loadModel, type ModelRef } from '../workers/load-model.js';
import { createModelTables } from '../workers/model-tables.js';
import type { SharedDenseParams } from '../workers/shared-dense-params.js';
import { loadRecordParser, type RecordParserRef } from '../workers/record-parser-ref.js';
import { StepWorkerPool, type RecordSlice } from '../workers/step-pool.js';
import { initBackend, type BackendName } from '../workers/tf-backend.js';
import { createSharedDenseParams, TrainStep } from '../workers/train-step.js';
import { checkpointOperator, type CheckpointTrigger } from './checkpoint-operator.js';
import { fitCallbacks, type FitCallbacksOptions, type History } from './fit-callbacks.js';
import { progressLine } from './progress-line.js';
import { RedisTraining, type RedisTrainingOptions } from './redis-training.js';
import { CheckpointSaver, type CheckpointListener } from './checkpoint-saver.js';
import { parseTimeOf } from './parse-timing.js';
import { passScaleOf } from './source-pass.js';
import { SourcePositions } from './source-positions.js';
import { readIndex } from './checkpoint-saver.js';
import type { SourceLike } from './pull-source.js';
import type { RunMode, StepResult } from './step-result.js';
import { StepGate } from './step-gate.js';
import { StreamGraph } from './stream-graph.js';

/**
 * An operator of the graph with its node name (a bare operator gets a
 * generated name), or one made from the pipeline's tables (e.g. tensorBoardSink).
 */
export type NamedOperator<I = StepResult, O = StepResult> =
  | { name: string; op: OperatorFunction<I, O> }
  | {
      name: string;
      make: (p: { spec: ModelSpec; tables: Record<string, EmbeddingHashTable>; dense: SharedDenseParams }) => OperatorFunction<I, O>;
      /** The operator reads StepResult.sparseUpdates: train steps then report the ids and gradients they applied. */
      sparseUpdates?: boolean;
    }
  | OperatorFunction<I, O>;

export interface CheckpointOptions extends CheckpointTrigger {
  dir: string;
  /** Restore the newest checkpoint in `dir` before running (default true). */
  restore?: boolean;
  /** Checkpoints kept (default 5). */
  keep?: number;
  /** Called after each checkpoint (exporters). */
  listeners?: CheckpointListener[];
  /**
   * The sources' read positions, saved with every checkpoint and loaded from
   * the restored one (pass the same object to the source): after a restart the
   * source continues exactly where the restored model's data ends.
   */
  positions?: SourcePositions;
}

export interface PipelineOptions {
  /** The model module (imported by every worker) and its options. */
  model: ModelRef;
  /** Batches (or SourceBatches with ack), or raw records when `before` parses them. */
  source: SourceLike<unknown>;
  mode?: RunMode;
  /**
   * Operators before the step (parse, batch), in order; they must end in Batch or SourceBatch
   * (with `parseInWorkers`: in RecordBatch or Uint8Array[]).
   */
  before?: Array<{ name: string; op: OperatorFunction<any, any>; kind?: 'parse' | 'batch' | 'transform' }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /**
   * The workers parse the batches: the items reaching the step are the
   * serialized records of one batch each (`Uint8Array[]`, or a RecordBatch
   * with their file, offsets and ack), and every worker parses its own with
   * this parser (e.g. `workerRecordParser(config, variant)`). This thread only
   * copies the records' bytes into shared memory. A RecordBatch's `rareIds`
   * has the worker leave those ids out of the parsed batch. Items that are
   * already batches (Batch, SourceBatch) run as they are. Not with `keepBatch`.
   */
  parseInWorkers?: RecordParserRef;
  /** Worker threads; 0 runs the steps in this thread. Default: the machine's cores. */
  workers?: number;
  backend?: BackendName;
  /**
   * A step running longer than this (ms) fails the pipeline with a StepTimeoutError
   * (its worker thread is terminated). Default 300000; 0: no limit. Worker threads only.
   */
  stepTimeoutMs?: number;
  /** Heap limits of each worker thread; a thread over them fails the pipeline with a WorkerCrashError. */
  workerResourceLimits?: ResourceLimits;
  /** Batches between the source and the end of their step (default 2 per worker). */
  maxInFlight?: number;
  /** One batch at a time: bit-reproducible training with any worker count. */
  deterministic?: boolean;
  hooks?: NamedOperator[];
  sinks?: NamedOperator[];
  checkpoint?: CheckpointOptions;
  /** Attach each batch to its StepResult (for deep insight / prediction output sinks). */
  keepBatch?: boolean;
  /** Tables to use instead of fresh ones (e.g. to evaluate what a training run holds). */
  tables?: Record<string, EmbeddingHashTable>;
  dense?: SharedDenseParams;
  /**
   * Train against tables and dense parameters in a Redis Cluster, shared with
   * other trainers (the local tables become caches of hot rows). Only a chief
   * restores and writes checkpoints; a worker ignores `checkpoint`.
   */
  redis?: RedisTrainingOptions;
  /**
   * Train steps report the ids and gradients they applied (StepResult.sparseUpdates),
   * e.g. for a hook publishing updated rows. Always on with `redis`.
   */
  reportSparse?: boolean;
}

/** The serialized records of one batch, for pipelines whose workers parse (`parseInWorkers`); `ack` as in SourceBatch. */
export interface RecordBatch extends RecordSlice {
  ack?: () => void;
  /** As SourceBatch.pass. */
  pass?: number;
}

const isSourceBatch = (x: SourceBatch | Batch): x is SourceBatch => !('rows' in x) && 'batch' in x;
/** A parsed batch (Batch or SourceBatch): a pipeline whose workers parse runs these as they are. */
const isBatchItem = (x: unknown): boolean => typeof x === 'object' && x !== null && ('rows' in x || ('batch' in x && !('records' in x)));

type Runner = (batch: Batch, mode: RunMode, opts: { batchIndex: number; parseMs?: number; keepBatch?: boolean; regularizationScale: number }) => Promise<StepResult>;
type RecordRunner = (slice: RecordSlice, mode: RunMode, opts: { batchIndex: number; regularizationScale: number }) => Promise<StepResult>;

function recordBatchOf(item: unknown): RecordBatch {
  if (Array.isArray(item) && item.every((r) => r instanceof Uint8Array)) return { records: item as Uint8Array[] };
  const rb = item as RecordBatch;
  if (rb && Array.isArray(rb.records)) return rb;
  throw new ConfigError('pipeline: with parseInWorkers the step takes the serialized records of a batch (Uint8Array[] or { records }), got something else');
}

/**
 * A ready-to-run train / eval / predict pipeline: the model's tables and
 * dense parameters in shared memory (restored from the newest checkpoint when
 * there is one), a worker pool, and the graph
 * `source → [before…] → step → [hooks…] → checkpoint → [sinks…]`.
 */
export class TrainingPipeline {
  private closed: Promise<void> | undefined;
  private failed = false;

  private constructor(
    readonly spec: ModelSpec,
    readonly tables: Record<string, EmbeddingHashTable>,
    readonly dense: SharedDenseParams,
    readonly graph: StreamGraph<StepResult>,
    readonly pool: StepWorkerPool | undefined,
    readonly saver: CheckpointSaver | undefined,
    readonly gate: StepGate,
    /** Step of the checkpoint restored at creation, if any. */
    readonly restoredStep: number | undefined,
    /** The Redis parameter store, when training against one. */
    readonly redis?: RedisTraining,
  ) {}

  static async create(opts: PipelineOptions): Promise<TrainingPipeline> {
    const mode = opts.mode ?? 'train';
    const workers = opts.workers ?? availableParallelism();
    if (!Number.isInteger(workers) || workers < 0) throw new ConfigError(`pipeline: workers must be a non-negative integer, got ${workers}`);
    if (opts.parseInWorkers && opts.keepBatch) throw new ConfigError('pipeline: keepBatch needs the batches in this thread; parse them here (a parse node in `before`) instead of parseInWorkers');
    if (opts.parseInWorkers && opts.redis) throw new ConfigError('pipeline: parseInWorkers does not go with redis (a step\'s rows are pulled from Redis before the step, from the parsed batch)');
    // The main thread builds the model once, for the tables' configs and the initial dense weights.
    await initBackend(workers === 0 ? opts.backend : (opts.backend ?? 'cpu'));
    const spec = await loadModel(opts.model);
    const tables = opts.tables ?? createModelTables(spec);
    const dense = opts.dense ?? createSharedDenseParams(spec);
    let ck = opts.checkpoint;
    let redis: RedisTraining | undefined;
    if (opts.redis) {
      if (mode !== 'train') throw new ConfigError(`pipeline: Redis-backed parameters are for training, not ${mode}`);
      if (ck?.positions) throw new ConfigError('pipeline: checkpoint positions (exactly-once) do not go with Redis-backed parameters; offsets are committed once a step\'s updates are in Redis');
      redis = await RedisTraining.open(opts.redis, spec, tables, dense);
      if (redis.role === 'worker' && ck) {
        log.info('redis training: this trainer is a worker; the chief writes the checkpoints');
        ck = undefined;
      }
    }
    const saver = ck ? new CheckpointSaver({ dir: ck.dir, tables, dense, keep: ck.keep, listeners: ck.listeners, tableCheckpoints: redis?.checkpointables() }) : undefined;
    let restoredStep: number | undefined;
    if (redis) {
      try {
        restoredStep = await redis.start(saver && (ck!.restore ?? true) ? () => saver.restore() : undefined);
      } catch (err) {
        await redis.close();
        throw err;
      }
    } else if (saver && (ck!.restore ?? true)) {
      restoredStep = await saver.restore();
      if (restoredStep !== undefined) {
        await ck!.positions?.load(ck!.dir, restoredStep);
        log.info(`restored checkpoint step ${restoredStep} from ${ck!.dir}`);
      }
    }

    try {
      const readsUpdates = [...(opts.hooks ?? []), ...(opts.sinks ?? [])].some((h) => typeof h !== 'function' && 'make' in h && h.sparseUpdates === true);
      const reportSparse = !!redis || !!opts.reportSparse || readsUpdates;
      let run: Runner;
      let runRecords: RecordRunner | undefined;
      let pool: StepWorkerPool | undefined;
      if (workers === 0) {
        const local = new TrainStep({ spec, tables, dense, worker: 0, reportSparse });
        run = async (batch, m, o) => local.run(batch, m, o);
        if (opts.parseInWorkers) {
          const parser = await loadRecordParser(opts.parseInWorkers);
          runRecords = async (slice, m, o) => {
            const t0 = performance.now();
            const parsed = parser.parseRecords(slice.records, { file: slice.file, offsets: slice.offsets, origins: slice.origins });
            const batch = slice.rareIds ? slice.rareIds.withoutRareIds(parsed) : parsed;
            return local.run(batch, m, { ...o, parseMs: performance.now() - t0 });
          };
        }
      } else {
        pool = new StepWorkerPool({ model: opts.model, tables, dense, size: workers, backend: opts.backend, stepTimeoutMs: opts.stepTimeoutMs, resourceLimits: opts.workerResourceLimits, reportSparse, parser: opts.parseInWorkers });
        run = (batch, m, o) => pool!.run(batch, m, o);
        if (opts.parseInWorkers) runRecords = (slice, m, o) => pool!.runRecords(slice, m, o);
      }
      const gate = new StepGate();
      const maxInFlight = opts.deterministic ? 1 : (opts.maxInFlight ?? Math.max(1, 2 * workers));

      const graph0 = new StreamGraph(`${spec.name}-${mode}`).from('source', opts.source);
      let g: StreamGraph<unknown> = graph0;
      for (const b of opts.before ?? []) g = g.through(b.name, b.op, b.kind ?? 'transform');
      const stepRunner = (item: unknown, index: number) =>
        gate.shared(async () => {
          let ack: (() => void) | undefined;
          let res: StepResult;
          try {
            // A train step applies its own item's pass to the regularization (steps of two passes may overlap).
            const regularizationScale = mode === 'train' ? passScaleOf(item) : 1;
            if (runRecords && !isBatchItem(item)) {
              const rb = recordBatchOf(item);
              ack = rb.ack;
              res = await runRecords(rb, mode, { batchIndex: index + 1, regularizationScale });
            } else {
              const sb = item as SourceBatch | Batch;
              const src = isSourceBatch(sb) ? sb : { batch: sb };
              ack = src.ack;
              await redis?.beforeStep(src.batch);
              res = await run(src.batch, mode, { batchIndex: index + 1, parseMs: parseTimeOf(src.batch), keepBatch: opts.keepBatch, regularizationScale });
              // The source's offsets are acked below, only once the step's updates are in Redis.
              await redis?.afterStep(res);
            }
          } catch (err) {
            // No step starts after a failure, and a waiting checkpoint is not written.
            gate.fail(err);
            throw err;
          }
          ack?.();
          return res;
        });
      let graph = g.step(mode, stepRunner, { maxInFlight, detail: `${workers === 0 ? 'in this thread' : `${workers} worker(s)`}${opts.parseInWorkers ? ' parsing their batches' : ''}, at most ${maxInFlight} in flight${opts.deterministic ? ', deterministic' : ''}` });
      const named = (list: NamedOperator[] | undefined, kind: 'hook' | 'sink') =>
        (list ?? []).forEach((h, i) => {
          const { name, op } = typeof h === 'function' ? { name: `${kind}-${i + 1}`, op: h } : 'make' in h ? { name: h.name, op: h.make({ spec, tables, dense }) } : h;
          graph = graph.then(name, op, kind);
        });
      named(opts.hooks, 'hook');
      if (saver && mode === 'train' && (ck!.everySteps !== undefined || ck!.everySeconds !== undefined)) {
        const save = () => from(gate.exclusive(async () => {
          // No step is running: a lock still held belongs to a thread that died holding it.
          assertNoLockHeld(tables);
          await redis?.syncDense();
          const step = dense.globalStep;
          // The positions go first: the checkpoint's index, written last, makes both current at once.
          const positions = await ck!.positions?.write(ck!.dir, step);
          await saver.save(step);
          if (positions) {
            await SourcePositions.prune(ck!.dir, (await readIndex(ck!.dir))?.all ?? [step]);
            ck!.positions!.committed(positions);
          }
          return step;
        }));
        graph = graph.then('checkpoint', checkpointOperator(save, ck!, restoredStep ?? 0), 'checkpoint', `every ${[ck!.everySteps && `${ck!.everySteps} steps`, ck!.everySeconds && `${ck!.everySeconds} s`].filter(Boolean).join(' or ')} to ${ck!.dir}`);
      }
      named(opts.sinks, 'sink');
      return new TrainingPipeline(spec, tables, dense, graph, pool, saver, gate, restoredStep, redis);
    } catch (err) {
      // A pipeline that cannot be built leaves no connection open.
      await redis?.close();
      throw err;
    }
  }

  /** Runs the graph (cold: each subscription runs it once). */
  run(): Observable<StepResult> {
    return defer(() => this.graph.compile()).pipe(
      tap({ error: () => (this.failed = true) }),
    );
  }

  describe(): string {
    return this.graph.describe();
  }
  toDot(): string {
    return this.graph.toDot();
  }

  /**
   * Stops the workers. After a normal end the steps in flight are waited for;
   * after a failure (a worker may have died holding a table lock) they are not.
   */
  close(): Promise<void> {
    this.closed ??= (async () => {
      const ok = !this.failed && !this.gate.failed;
      if (ok) await this.gate.exclusive(async () => undefined).catch(() => undefined);
      await this.pool?.destroy();
      if (this.redis) {
        try {
          // This trainer's last dense changes go to the cluster.
          if (ok) await this.redis.syncDense();
        } finally {
          await this.redis.close();
        }
      }
    })();
    return this.closed;
  }
}

/** Throws when a shard lock of `tables` is held: called when no step runs, so its holder is dead. */
function assertNoLockHeld(tables: Record<string, EmbeddingHashTable>): void {
  for (const t of Object.values(tables)) {
    const held = t.heldLocks();
    if (held.length) throw new LockHolderDiedError(held[0]!.thread, `table ${t.name} shard ${held[0]!.shard} (checkpoint not written)`);
  }
}

export interface TrainSummary {
  /** Steps run by this call. */
  steps: number;
  examples: number;
  globalStep: number;
  lastLoss?: number;
  restoredStep?: number;
  /** Loss and metrics per epoch (`stepsPerEpoch` steps). */
  history: History;
}

export interface TrainOptions extends PipelineOptions, FitCallbacksOptions {
  /** A progress line on stderr (default: when stderr is a terminal). */
  progress?: boolean;
}

/** Runs a pipeline to the end of its source, then closes it; tfjs-style callbacks and History. */
export async function train(opts: TrainOptions): Promise<TrainSummary> {
  const fit = fitCallbacks(opts);
  const progress = (opts.progress ?? Boolean(process.stderr.isTTY)) ? [{ name: 'progress', op: progressLine() }] : [];
  const p = await TrainingPipeline.create({ ...opts, hooks: [...(opts.hooks ?? []), ...progress, { name: 'callbacks', op: fit }] });
  let steps = 0;
  let examples = 0;
  let lastLoss: number | undefined;
  try {
    await lastValueFrom(
      p.run().pipe(
        tap((r) => {
          steps++;
          examples += r.examples;
          if (r.loss !== undefined) lastLoss = r.loss;
        }),
      ),
      { defaultValue: undefined },
    );
  } finally {
    await p.close();
  }
  return { steps, examples, globalStep: p.dense.globalStep, lastLoss, restoredStep: p.restoredStep, history: fit.history };
}
