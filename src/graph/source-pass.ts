import { ConfigError } from '../errors.js';

/**
 * The factor a train step multiplies the tables' L2 regularization by: the `pass` its source item
 * carries (SourceBatch.pass, RecordBatch.pass), 1 when it carries none. Each step takes its own item's
 * factor, so steps of two passes may be in flight at once.
 */
export function passScaleOf(item: unknown): number {
  const pass = item !== null && typeof item === 'object' ? (item as { pass?: unknown }).pass : undefined;
  if (pass === undefined) return 1;
  if (!(typeof pass === 'number' && Number.isInteger(pass) && pass >= 1)) throw new ConfigError(`pipeline: a source item's pass must be an integer >= 1, got ${String(pass)}`);
  return pass;
}
