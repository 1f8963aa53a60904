import { HashTableError } from '../errors.js';

/** A Redis node did not answer (down, unreachable, timed out, or the cluster is down): names the node(s). */
export class RedisNodeError extends HashTableError {
  constructor(
    message: string,
    /** "host:port" of every node whose batch failed. */
    readonly nodes: string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
