import { MonolithError } from '../errors.js';

/** A worker thread died (crashed, was killed or exited) while running a step. */
export class WorkerCrashError extends MonolithError {
  constructor(
    readonly threadIds: number[],
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
