import { map, type OperatorFunction } from 'rxjs';
import type { Batch, SourceBatch } from '../batch/batch.js';

const parseMs = new WeakMap<Batch, number>();

/** Milliseconds the batch took to parse, when a `timedParse` node made it. */
export const parseTimeOf = (batch: Batch): number | undefined => parseMs.get(batch);

/** A parse node that records how long `parse` took per batch (reported in StepResult.timings.parse). */
export function timedParse<I>(parse: (raw: I) => SourceBatch | Batch): OperatorFunction<I, SourceBatch | Batch> {
  return map((raw) => {
    const t0 = performance.now();
    const out = parse(raw);
    const batch = 'rows' in out ? out : out.batch;
    parseMs.set(batch, performance.now() - t0);
    return out;
  });
}
