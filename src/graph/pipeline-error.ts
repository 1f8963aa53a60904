import { MonolithError } from '../errors.js';

/** An error of a pipeline, naming the graph node it came from; the original error is the cause. */
export class PipelineError extends MonolithError {
  constructor(
    readonly node: string,
    readonly original: unknown,
  ) {
    super(`pipeline node '${node}': ${original instanceof Error ? `${original.name}: ${original.message}` : String(original)}`, { cause: original });
  }

  /** Wraps `err` for `node` unless an upstream node already did. */
  static wrap(node: string, err: unknown): PipelineError {
    return err instanceof PipelineError ? err : new PipelineError(node, err);
  }
}
