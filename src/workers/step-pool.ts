import { availableParallelism } from 'node:os';
import type { ResourceLimits, Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { Batch } from '../batch/batch.js';
import { frameRecords } from '../batch/record-frame.js';
import { toSharedBatch } from '../batch/shared-batch.js';
import { ConfigError } from '../errors.js';
import type { EmbeddingHashTable } from '../hashtable/embedding-hash-table.js';
import type { FirstPassIdCounts, FirstPassIdMemory } from '../hashtable/first-pass-ids.js';
import type { RunMode, StepResult } from '../graph/step-result.js';
import { log } from '../util/log.js';
import type { ModelRef } from './load-model.js';
import { unpackError } from './error-transfer.js';
import { tableHandles } from './model-tables.js';
import type { RecordParserRef } from './record-parser-ref.js';
import type { SharedDenseParams } from './shared-dense-params.js';
import type { StepTask, StepTaskOutcome, StepWorkerData } from './step-worker.js';
import type { BackendName } from './tf-backend.js';
import { StepTimeoutError, WorkerCrashError } from './worker-errors.js';

export interface StepPoolOptions {
  model: ModelRef;
  tables: Record<string, EmbeddingHashTable>;
  dense: SharedDenseParams;
  /** Worker threads (default: the machine's cores). */
  size?: number;
  /** Preferred tfjs backend of the workers (default: the best available). */
  backend?: BackendName;
  /**
   * A step running longer than this (ms) is stopped: its thread is terminated
   * and the step fails with a StepTimeoutError. Default 300000 (5 minutes; the
   * first step of a thread also loads the model). 0 or Infinity: no limit.
   */
  stepTimeoutMs?: number;
  /** Heap limits of each worker thread (Node's Worker resourceLimits). */
  resourceLimits?: ResourceLimits;
  /** Train steps report their sparse gradients (StepResult.sparseUpdates). */
  reportSparse?: boolean;
  /** The parser every worker loads, for steps given serialized records (`runRecords`). */
  parser?: RecordParserRef;
}

/**
 * The serialized records of one batch, for a worker to parse. Errors name a
 * record by `file` and its byte offset there (`offsets`), or by its own
 * `origins` entry (e.g. `kafka:topic/partition@offset`) when records come from several places.
 */
export interface RecordSlice {
  records: readonly Uint8Array[];
  /** Leave the rare ids of these first-pass counts out of the parsed batch (a later pass; see FirstPassIdCounts). */
  rareIds?: FirstPassIdCounts;
  file?: string;
  origins?: readonly string[];
  offsets?: readonly number[];
}

export interface PoolStepOptions {
  batchIndex?: number;
  parseMs?: number;
  /** Attach the batch to the result (it stays in this thread; nothing is copied back). */
  keepBatch?: boolean;
  /** As RunStepOptions.regularizationScale. */
  regularizationScale?: number;
  signal?: AbortSignal;
}

export const DEFAULT_STEP_TIMEOUT_MS = 300_000;

const describeError = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * A Piscina pool of step workers. Every worker attaches to the same shared
 * tables and dense parameters; a batch crosses to a worker as one
 * SharedArrayBuffer (no structured-clone copy of its columns).
 *
 * Every failure of a worker thread — it died, exited, ran out of heap, could
 * not load the model module, or overran `stepTimeoutMs` — becomes a
 * WorkerCrashError naming the thread, and the pool is broken from then on
 * (every later step fails with the same error). When a thread exits, the table
 * shard locks it held are declared broken, so no other thread waits for them.
 * Errors Piscina reports outside a task are kept as the pool's failure, never
 * thrown as uncaught exceptions.
 */
export class StepWorkerPool {
  private readonly pool: Piscina<StepTask, StepTaskOutcome>;
  private readonly workers = new Map<number, { worker: Worker; exited: Promise<unknown> }>();
  private readonly exited = new Map<number, number>();
  private readonly tables: EmbeddingHashTable[];
  private readonly stepTimeoutMs: number;
  private failure: WorkerCrashError | undefined;
  private destroyed = false;
  private backendLogged = false;
  private readonly hasParser: boolean;
  readonly size: number;

  constructor(opts: StepPoolOptions) {
    const size = opts.size ?? availableParallelism();
    if (!Number.isInteger(size) || size < 1) throw new ConfigError(`worker pool: size must be a positive integer, got ${size}`);
    const timeout = opts.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
    if (!(timeout >= 0)) throw new ConfigError(`worker pool: stepTimeoutMs must be a non-negative number of ms, got ${timeout}`);
    this.stepTimeoutMs = timeout === 0 ? Number.POSITIVE_INFINITY : timeout;
    this.size = size;
    this.tables = Object.values(opts.tables);
    this.hasParser = opts.parser !== undefined;
    const workerData: StepWorkerData = { model: opts.model, tables: tableHandles(opts.tables), dense: opts.dense.handle, backend: opts.backend, reportSparse: opts.reportSparse, parser: opts.parser };
    this.pool = new Piscina({
      filename: new URL('./step-worker.js', import.meta.url).href,
      minThreads: size,
      maxThreads: size,
      idleTimeout: Number.POSITIVE_INFINITY,
      // A step is CPU work; let each thread own at most one at a time.
      concurrentTasksPerWorker: 1,
      // Idle workers wait with Atomics.waitAsync, so their event loop (and inspector: profiling) keeps running.
      atomics: 'async',
      workerData,
      resourceLimits: opts.resourceLimits,
    });
    // Piscina emits 'error' for a worker failing while it runs no task of ours and for a
    // result arriving from a worker it already gave up on ("Unexpected message from Worker").
    // Without a listener either would be an uncaught exception.
    this.pool.on('error', (err: unknown) => {
      if (this.destroyed) return;
      void this.threads;
      const dead = [...this.exited.keys()];
      this.fail(new WorkerCrashError(dead, `${this.which(dead)} failed outside a step: ${describeError(err)}`, { cause: err }));
    });
    this.pool.on('workerCreate', () => void this.threads);
    void this.threads;
  }

  /** The live worker threads (tests kill one of them). */
  get threads(): Worker[] {
    const ts = this.pool.threads as Worker[];
    for (const w of ts) this.watch(w);
    return ts;
  }

  /** The first failure of a worker thread, once there was one. */
  get failed(): WorkerCrashError | undefined {
    return this.failure;
  }

  private watch(w: Worker): void {
    const id = w.threadId;
    if (this.workers.has(id) || id < 0) return;
    // (Not events.once: it rejects when the worker emits 'error' first, as a crashing one does.)
    const exited = new Promise<number>((r) => w.once('exit', r)).then((code) => {
      this.exited.set(id, code);
      // The thread is gone: whatever shard lock it held will never be released.
      for (const t of this.tables) {
        const broken = t.breakLocksOf(id);
        if (broken.length) log.warn(`table ${t.name}: thread ${id} exited holding the lock of shard(s) ${broken.join(', ')}`);
      }
    });
    this.workers.set(id, { worker: w, exited });
  }

  private which(ids: number[]): string {
    return ids.length ? `worker thread${ids.length > 1 ? 's' : ''} ${ids.join(', ')}` : 'a worker thread';
  }

  private fail(err: WorkerCrashError): WorkerCrashError {
    this.failure ??= err;
    return err;
  }

  /**
   * Waits (bounded) until thread `id` has exited and its locks are broken; when
   * the thread is not known, until some thread has exited.
   */
  private async afterExitOf(id: number | undefined): Promise<void> {
    const waits = id !== undefined
      ? [this.workers.get(id)?.exited].filter((p) => p !== undefined)
      : this.exited.size > 0 ? [] : [...this.workers.values()].map((w) => w.exited);
    if (waits.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([...waits, new Promise((r) => (timer = setTimeout(r, 5_000)))]);
    clearTimeout(timer);
  }

  /** Runs one step in a worker. */
  async run(batch: Batch | SharedArrayBuffer, mode: RunMode, opts: PoolStepOptions = {}): Promise<StepResult> {
    if (this.failure) throw this.failure;
    const res = await this.runTask({ buffer: batch instanceof SharedArrayBuffer ? batch : toSharedBatch(batch) }, mode, opts);
    if (opts.keepBatch) res.batch = batch instanceof SharedArrayBuffer ? undefined : batch;
    return res;
  }

  /**
   * Runs one step on serialized records: they are copied into shared memory
   * as they are and the worker parses them with the pool's `parser`, so this
   * thread neither parses nor lays out the batch. Parse errors keep their
   * class and location (file, byte offset).
   */
  async runRecords(slice: RecordSlice, mode: RunMode, opts: Omit<PoolStepOptions, 'keepBatch' | 'parseMs'> = {}): Promise<StepResult> {
    if (this.failure) throw this.failure;
    if (!this.hasParser) throw new ConfigError('worker pool: runRecords needs a pool created with a record parser (StepPoolOptions.parser)');
    return this.runTask({ buffer: frameRecords(slice.records, slice.offsets), records: true, file: slice.file, origins: slice.origins, rareIds: slice.rareIds?.memory() }, mode, opts);
  }

  private async runTask(task: { buffer: SharedArrayBuffer; records?: boolean; file?: string; origins?: readonly string[]; rareIds?: FirstPassIdMemory }, mode: RunMode, opts: PoolStepOptions): Promise<StepResult> {
    void this.threads; // start watching threads created since the last call
    const runner = new SharedArrayBuffer(16);
    const ran = new Float64Array(runner);
    ran[0] = -1;
    const timeout = new AbortController();
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    // The step's time counts from when a worker started it, not from when it was queued.
    const arm = (ms: number) => {
      timer = setTimeout(() => {
        const elapsed = ran[0]! >= 0 ? Date.now() - ran[1]! : 0;
        if (elapsed < this.stepTimeoutMs) return arm(this.stepTimeoutMs - elapsed);
        timedOut = true;
        timeout.abort(new Error(`step timeout of ${this.stepTimeoutMs} ms`));
      }, ms);
    };
    if (Number.isFinite(this.stepTimeoutMs)) arm(this.stepTimeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout.signal]) : timeout.signal;
    let out: StepTaskOutcome;
    try {
      out = await this.pool.run({ ...task, mode, batchIndex: opts.batchIndex, parseMs: opts.parseMs, regularizationScale: opts.regularizationScale, runner }, { signal });
    } catch (err) {
      const thread = ran[0]! >= 0 ? ran[0]! : undefined;
      void this.threads;
      // The thread is being terminated; its locks are broken once it is gone.
      await this.afterExitOf(thread);
      if (this.failure) throw this.failure;
      if (timedOut) {
        const ids = thread === undefined ? [] : [thread];
        throw this.fail(new StepTimeoutError(ids, this.stepTimeoutMs, `${this.which(ids)} ran a ${mode} step for more than ${this.stepTimeoutMs} ms and was terminated`));
      }
      if (opts.signal?.aborted) throw err;
      const dead = thread !== undefined ? [thread] : [...this.exited.keys()];
      throw this.fail(new WorkerCrashError(dead, `${this.which(dead)} died during a ${mode} step: ${describeError(err)}`, { cause: err }));
    } finally {
      clearTimeout(timer);
    }
    if ('failed' in out) {
      const error = unpackError(out.error);
      if (out.failed === 'init') {
        throw this.fail(new WorkerCrashError([out.thread], `worker thread ${out.thread} could not load the model: ${describeError(error)}`, { cause: error }));
      }
      throw error;
    }
    const res = out.ok;
    if (!this.backendLogged) {
      this.backendLogged = true;
      log.info(`step workers: ${this.size} thread(s), tfjs backend ${res.backend}`);
    }
    const { backend: _backend, ...result } = res;
    return result;
  }

  /** Terminates the threads (steps still running are stopped); their shard locks are broken. */
  async destroy(): Promise<void> {
    this.destroyed = true;
    void this.threads;
    await this.pool.destroy();
    await Promise.all([...this.workers.keys()].map((id) => this.afterExitOf(id)));
  }
}
