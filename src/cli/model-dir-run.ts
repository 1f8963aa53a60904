import { availableParallelism } from 'node:os';
import { lastValueFrom, tap } from 'rxjs';
import { ConfigError } from '../errors.js';
import type { StepResult, RunMode } from '../graph/step-result.js';
import { TrainingPipeline } from '../graph/training-pipeline.js';
import type { ModelSpec } from '../model/model-spec.js';
import { ensureTfBackend } from '../serving/tf-backend.js';
import { recordFileBatches } from '../streams/sources/record-input-source.js';
import { checkModelInput, type RecordInput } from '../streams/sources/record-input.js';
import { loadModel } from '../workers/load-model.js';
import { inputFromFlags } from './input-flags.js';
import { modelRefOf, storedRun } from './model-flags.js';
import { checkDataFiles, checkDataFlags } from './run-input.js';

export interface ModelDirRunFlags extends Record<string, unknown> {
  modelDir: string;
  modelModule?: string;
  modelOptions?: string;
  data?: string[];
  workers?: number;
  batchSize: number;
}

export interface ModelDirRun {
  spec: ModelSpec;
  input: RecordInput;
  globalStep: number;
  /** Rows read per file. */
  files: Record<string, number>;
}

/**
 * Runs the newest checkpoint of a model dir over record files in eval or
 * predict mode: the model and the parse configuration come from the settings
 * stored there (flags override them); `consumer(spec, input)` returns the
 * function every step result goes to (in file order when `ordered`).
 */
export async function runModelDir(o: ModelDirRunFlags, mode: RunMode, consumer: (spec: ModelSpec, input: RecordInput) => (r: StepResult) => void, ordered = false): Promise<ModelDirRun> {
  checkDataFlags(o, false);
  const { settings, input: stored } = await storedRun(o.modelDir);
  const model = modelRefOf(o, settings, o.modelDir);
  const input = inputFromFlags(o, stored);
  await ensureTfBackend();
  const spec = await loadModel(model);
  checkModelInput(spec, input, mode === 'eval');
  await checkDataFiles(o.data!, input, mode === 'eval');
  const onResult = consumer(spec, input);
  const files: Record<string, number> = {};
  const source = recordFileBatches({ files: o.data!, input, batchSize: o.batchSize, onFileRead: (f, rows) => (files[f] = rows) });
  const workers = o.workers ?? availableParallelism();
  const p = await TrainingPipeline.create({ model, source, mode, workers, deterministic: ordered, checkpoint: { dir: o.modelDir, restore: true } });
  try {
    if (p.restoredStep === undefined) throw new ConfigError(`no checkpoint model.ckpt-<step> in ${o.modelDir}`);
    await lastValueFrom(p.run().pipe(tap(onResult)), { defaultValue: undefined });
  } finally {
    await p.close();
  }
  return { spec, input, globalStep: p.restoredStep, files };
}
