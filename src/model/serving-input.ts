import type { Batch } from '../batch/batch.js';

/** A tensor as a serving signature or the model dump describes it. */
export interface TensorDescription {
  dtype: 'string' | 'float32' | 'int64' | 'int32';
  /** Dense shape with null for unknown dimensions (the batch dimension is null). */
  shape?: (number | null)[];
  /** Ragged (values + row_splits), as the dump records ragged features. */
  ragged?: boolean;
}

/**
 * Monolith's ServingInputReceiver: what the serving signature receives, what
 * features it yields, and the parser between them.
 */
export interface ServingInputReceiver<In = unknown> {
  receiverTensors: Record<string, TensorDescription>;
  features: Record<string, TensorDescription>;
  parse(inputs: In): Batch;
}
