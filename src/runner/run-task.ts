import { isAbsolute, join } from 'node:path';
import type { SchedulerLike } from 'rxjs';
import { ConfigError } from '../errors.js';
import { DistributedExporter, StandaloneExporter } from '../export/exporters.js';
import { ExportSaverListener } from '../export/export-saver-listener.js';
import { DumpUtils } from '../export/model-dump.js';
import { checkpointParams } from '../export/params-source.js';
import type { RunMode } from '../graph/step-result.js';
import { train, type CheckpointOptions, type NamedOperator, type PipelineOptions, type TrainSummary } from '../graph/training-pipeline.js';
import { createModelFunction } from '../model/model-function.js';
import { ModeKeys, type Mode } from '../model/mode.js';
import type { MonolithModel } from '../model/monolith-model.js';
import type { ModelSpec } from '../model/model-spec.js';
import type { ModelRef } from '../workers/load-model.js';
import { initBackend } from '../workers/tf-backend.js';
import { taskHooks, type TaskHookSettings } from './task-hooks.js';

/** A module exporting `createTask(options)` that returns a MonolithModel (worker threads build it too). */
export interface TaskRef {
  url: string;
  options?: Record<string, unknown>;
}

export interface RunTaskOptions extends TaskHookSettings, Pick<PipelineOptions, 'source' | 'before' | 'workers' | 'backend' | 'deterministic' | 'maxInFlight' | 'tables' | 'dense'> {
  task: TaskRef;
  /** 'train' (default) runs the task's `p.mode` (train or eval, as Monolith's TRAIN does); 'predict' runs PREDICT. */
  mode?: 'train' | 'predict';
  /**
   * Checkpoints (every `train.save_checkpoints_steps` / `_secs` and at the end
   * of training, restored at start), profiles, and a relative
   * `serving.export_dir_base` live here.
   */
  modelDir?: string;
  /** More operators after the params' hooks / sinks. */
  hooks?: NamedOperator[];
  sinks?: NamedOperator[];
  scheduler?: SchedulerLike;
}

export interface TaskSummary extends TrainSummary {
  /** The mode the model function ran in (`p.mode` for a train run). */
  mode: Mode;
  /** `{head}_auc` / `{head}_mse` at the end (train / eval). */
  metrics: Record<string, number>;
  /** Export directories written when saving (serving.export_when_saving). */
  exports: string[];
  /** Graph nodes of the run, in order (what the params attached). */
  nodes: string[];
}

async function importTask(ref: TaskRef): Promise<MonolithModel> {
  let mod: { createTask?: (o: Record<string, unknown>) => MonolithModel | Promise<MonolithModel> };
  try {
    mod = (await import(ref.url)) as typeof mod;
  } catch (err) {
    throw new ConfigError(`task module ${ref.url} cannot be imported: ${(err as Error).message}`, { cause: err });
  }
  if (typeof mod.createTask !== 'function') throw new ConfigError(`task module ${ref.url} does not export createTask(options)`);
  return await mod.createTask(ref.options ?? {});
}

const runModeOf = (m: Mode): RunMode => (m === ModeKeys.PREDICT ? 'predict' : m === ModeKeys.EVAL ? 'eval' : 'train');

/** The export that `serving.export_when_saving` attaches: `export_mode` decides standalone or distributed, into `export_dir_base`. */
function exporterOf(task: MonolithModel, spec: ModelSpec, modelDir: string): StandaloneExporter | DistributedExporter {
  const s = task.p.serving;
  const base = isAbsolute(s.exportDirBase) ? s.exportDirBase : join(modelDir, s.exportDirBase);
  const modelDump = new DumpUtils();
  modelDump.recordModel(task, spec);
  const common = { spec, exportDirBase: base, params: checkpointParams(spec, modelDir), sharedEmbedding: s.sharedEmbedding, modelDump, globalStepAsTimestamp: true };
  return s.exportMode === 'standalone' ? new StandaloneExporter(common) : new DistributedExporter({ ...common, withRemoteGpu: s.withRemoteGpu });
}

/**
 * Runs a MonolithModel task as its params say: builds its model function for
 * the mode, attaches the hooks its params enable (see `taskHooks`),
 * checkpoints into `modelDir` every `train.save_checkpoints_steps` /
 * `_secs` and at the end, exports on every save when `serving.export_when_saving` (with
 * `export_dir_base`, `export_mode`, and a model dump), writes prediction
 * files in predict / eval mode when `output_path` is set, and returns the
 * run's summary with the final metrics.
 */
export async function runTask(opts: RunTaskOptions): Promise<TaskSummary> {
  // The model function builds the model here too (as the pipeline does): pick the backend first.
  await initBackend(opts.workers === 0 ? opts.backend : (opts.backend ?? 'cpu'));
  const task = await importTask(opts.task);
  const fn = createModelFunction(task, opts.mode === 'predict' ? ModeKeys.PREDICT : ModeKeys.TRAIN, { workerIndex: opts.workerIndex });
  const mode = runModeOf(fn.mode);
  const p = task.p;
  const model: ModelRef = { url: opts.task.url, options: opts.task.options, taskMode: fn.mode };
  const th = taskHooks(task, fn, { ...opts, profileDir: opts.profileDir ?? opts.modelDir });

  let checkpoint: CheckpointOptions | undefined;
  const exports: string[] = [];
  if (opts.modelDir) {
    const everySteps = p.train.saveCheckpointsSteps ?? undefined;
    const everySeconds = p.train.saveCheckpointsSecs ?? undefined;
    checkpoint = { dir: opts.modelDir, scheduler: opts.scheduler, saveOnComplete: mode === 'train' };
    // Training always saves at its end; the params add saves every N steps / seconds.
    if (mode === 'train') Object.assign(checkpoint, everySteps === undefined && everySeconds === undefined ? { everySteps: Number.MAX_SAFE_INTEGER } : { everySteps, everySeconds });
    if (mode === 'train' && p.serving.exportWhenSaving) {
      const listener = new ExportSaverListener({ modelDir: opts.modelDir, exporter: exporterOf(task, fn.spec, opts.modelDir) });
      checkpoint.listeners = [{ afterSave: async (_path, step) => void exports.push(...(await listener.afterSave(step))) }];
    }
  } else if (p.serving.exportWhenSaving && mode === 'train') {
    throw new ConfigError('serving.export_when_saving needs a model dir to checkpoint and export into');
  }

  const nodes: string[] = [];
  const named = (list: NamedOperator[]) => list.map((h, i) => (typeof h === 'function' ? { name: `extra-${i + 1}`, op: h } : h));
  const hooks = named([...th.hooks, ...(opts.hooks ?? [])]);
  const sinks = named([...th.sinks, ...(opts.sinks ?? [])]);
  nodes.push(...hooks.map((h) => h.name), ...sinks.map((s) => s.name));
  const summary = await train({
    model,
    source: opts.source,
    before: opts.before,
    mode,
    workers: opts.workers,
    backend: opts.backend,
    deterministic: opts.deterministic,
    maxInFlight: opts.maxInFlight,
    tables: opts.tables,
    dense: opts.dense,
    hooks,
    sinks,
    checkpoint,
    keepBatch: th.keepBatch,
  });
  return { ...summary, mode: fn.mode, metrics: fn.metricValues(), exports, nodes };
}
