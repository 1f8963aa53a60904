import type { Batch, PlantedCtr } from 'monolith-ts';

/** The next `rows` rows of `stream` in batches of `size`. */
export function plantedBatches(stream: PlantedCtr, rows: number, size: number): Batch[] {
  const out: Batch[] = [];
  for (let i = 0; i < rows; i += size) out.push(stream.nextBatch(Math.min(size, rows - i)));
  return out;
}
