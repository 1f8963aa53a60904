import type { Batch } from '../batch/batch.js';
import { ConfigError } from '../errors.js';

/** Label column `index` of a batch as one value per row. */
export function labelColumnValues(batch: Batch, index: number): Float32Array {
  if (index < 0 || index >= batch.labelWidth) throw new ConfigError(`label column ${index} is outside the batch's ${batch.labelWidth} label columns`);
  if (batch.labelWidth === 1) return batch.labels.subarray(0, batch.rows);
  const out = new Float32Array(batch.rows);
  for (let r = 0; r < batch.rows; r++) out[r] = batch.labels[r * batch.labelWidth + index]!;
  return out;
}
