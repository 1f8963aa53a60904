import { MonolithError } from '../errors.js';

/**
 * A worker thread failed: it crashed, was killed, exited, ran out of heap,
 * could not load the model module, or was stopped after a step timeout.
 * `threadIds` names the threads (empty when Node did not say which).
 */
export class WorkerCrashError extends MonolithError {
  constructor(
    readonly threadIds: number[],
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A step ran longer than the pool's `stepTimeoutMs`; its thread was terminated. */
export class StepTimeoutError extends WorkerCrashError {
  constructor(
    threadIds: number[],
    readonly timeoutMs: number,
    message: string,
  ) {
    super(threadIds, message);
  }
}
