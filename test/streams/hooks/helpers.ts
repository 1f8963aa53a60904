import type { StepResult } from '../../../src/graph/step-result.js';

/** A train step result with the fields hooks read. */
export function step(n: number, extra: Partial<StepResult> = {}): StepResult {
  return { mode: 'train', step: n, examples: 4, loss: 1 / n, ...extra };
}
