import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { Batch } from '../batch/batch.js';
import { toSharedBatch } from '../batch/shared-batch.js';
import { ConfigError } from '../errors.js';
import type { EmbeddingHashTable } from '../hashtable/embedding-hash-table.js';
import type { RunMode, StepResult } from '../graph/step-result.js';
import { log } from '../util/log.js';
import type { ModelRef } from './load-model.js';
import { tableHandles } from './model-tables.js';
import type { SharedDenseParams } from './shared-dense-params.js';
import type { StepTask, StepTaskResult, StepWorkerData } from './step-worker.js';
import type { BackendName } from './tf-backend.js';
import { WorkerCrashError } from './worker-errors.js';

export interface StepPoolOptions {
  model: ModelRef;
  tables: Record<string, EmbeddingHashTable>;
  dense: SharedDenseParams;
  /** Worker threads (default: the machine's cores). */
  size?: number;
  /** Preferred tfjs backend of the workers (default: the best available). */
  backend?: BackendName;
}

export interface PoolStepOptions {
  batchIndex?: number;
  parseMs?: number;
  /** Attach the batch to the result (it stays in this thread; nothing is copied back). */
  keepBatch?: boolean;
  signal?: AbortSignal;
}

/**
 * A Piscina pool of step workers. Every worker attaches to the same shared
 * tables and dense parameters; a batch crosses to a worker as one
 * SharedArrayBuffer (no structured-clone copy of its columns). A worker that
 * dies turns the step into a WorkerCrashError naming the thread.
 */
export class StepWorkerPool {
  private readonly pool: Piscina<StepTask, StepTaskResult>;
  private readonly watched = new WeakSet<Worker>();
  private readonly exited = new Map<number, number>();
  private backendLogged = false;
  readonly size: number;

  constructor(opts: StepPoolOptions) {
    const size = opts.size ?? availableParallelism();
    if (!Number.isInteger(size) || size < 1) throw new ConfigError(`worker pool: size must be a positive integer, got ${size}`);
    this.size = size;
    const workerData: StepWorkerData = { model: opts.model, tables: tableHandles(opts.tables), dense: opts.dense.handle, backend: opts.backend };
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
    });
  }

  /** The live worker threads (tests kill one of them). */
  get threads(): Worker[] {
    const ts = this.pool.threads as Worker[];
    for (const w of ts) this.watch(w);
    return ts;
  }

  private watch(w: Worker): void {
    if (this.watched.has(w)) return;
    this.watched.add(w);
    const id = w.threadId;
    w.once('exit', (code) => this.exited.set(id, code));
  }

  /** Runs one step in a worker. */
  async run(batch: Batch | SharedArrayBuffer, mode: RunMode, opts: PoolStepOptions = {}): Promise<StepResult> {
    void this.threads; // start watching threads created since the last call
    const buffer = batch instanceof SharedArrayBuffer ? batch : toSharedBatch(batch);
    let res: StepTaskResult;
    try {
      res = await this.pool.run({ buffer, mode, batchIndex: opts.batchIndex, parseMs: opts.parseMs }, { signal: opts.signal ?? null });
    } catch (err) {
      const msg = (err as Error).message ?? String(err);
      if (/worker exited|Terminating worker thread/i.test(msg)) {
        void this.threads;
        const dead = [...this.exited.keys()];
        const which = dead.length ? `worker thread${dead.length > 1 ? 's' : ''} ${dead.join(', ')}` : 'a worker thread';
        throw new WorkerCrashError(dead, `${which} died during a ${mode} step: ${msg}`, { cause: err });
      }
      throw err;
    }
    if (!this.backendLogged) {
      this.backendLogged = true;
      log.info(`step workers: ${this.size} thread(s), tfjs backend ${res.backend}`);
    }
    const { backend: _backend, ...result } = res;
    if (opts.keepBatch) result.batch = batch instanceof SharedArrayBuffer ? undefined : batch;
    return result;
  }

  async destroy(): Promise<void> {
    await this.pool.destroy();
  }
}
