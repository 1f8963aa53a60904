/**
 * The dense compute of a model alone: the dense stage of a training step
 * (forward + backward with the model's own loss, gradients for the weights and
 * for the pooled embedding inputs, the dense update) on one synthetic batch,
 * on the same dense kernel the pipeline picks for the model (MONOLITH_DENSE_KERNEL
 * or auto). Timed from the step's own dense timing: no parse, lookup or apply.
 * The baseline the pipeline benchmark divides by.
 */
import type { ModelSpec } from '../src/model/model-spec.js';
import { createModelTables } from '../src/workers/model-tables.js';
import { createSharedDenseParams, TrainStep } from '../src/workers/train-step.js';
import { syntheticBatch } from './dense-batch.js';

/** A function running one training step of `spec` on `rows` rows and returning the ms of its dense stage, and the kernel it runs on. */
export function denseStepOf(spec: ModelSpec, rows: number, seed = 3): { step: () => number; kernel: () => string | undefined } {
  const step = new TrainStep({ spec, tables: createModelTables(spec), dense: createSharedDenseParams(spec) });
  const batch = syntheticBatch(spec, rows, seed);
  let kernel: string | undefined;
  return {
    step: () => {
      const r = step.run(batch, 'train');
      kernel = r.denseKernel;
      return r.timings!.dense!;
    },
    kernel: () => kernel,
  };
}
