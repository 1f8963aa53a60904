import { ConfigError } from '../errors.js';
import type { SharedDenseParams } from '../workers/shared-dense-params.js';
import type { StepGate } from './step-gate.js';

/** The `pass` a source item carries (SourceBatch.pass, RecordBatch.pass), if any. */
function passOf(item: unknown): number | undefined {
  const p = item !== null && typeof item === 'object' ? (item as { pass?: unknown }).pass : undefined;
  return typeof p === 'number' ? p : undefined;
}

/**
 * Called with each item before its step: at the first item of a new pass it waits until the steps of
 * the previous one have finished (the gate, exclusive), then sets the pass every worker reads, so each
 * step applies its gradients with the regularization of its own pass. Undefined (nothing to wait for)
 * when the item carries no pass or the same one.
 */
export function enterPass(item: unknown, gate: StepGate, dense: SharedDenseParams): Promise<void> | undefined {
  const pass = passOf(item);
  if (pass === undefined || pass === dense.pass) return undefined;
  if (!(Number.isInteger(pass) && pass >= 1)) throw new ConfigError(`pipeline: a source item's pass must be an integer >= 1, got ${pass}`);
  return gate.exclusive(async () => void (dense.pass = pass));
}
