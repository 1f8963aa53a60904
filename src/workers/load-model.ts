import { ConfigError } from '../errors.js';
import type { ModelModule, ModelSpec } from '../model/model-spec.js';
import { initBackend } from './tf-backend.js';

/**
 * Where a worker thread finds a model: a module exporting `createModel(options)`,
 * or `createTask(options)` returning a MonolithModel (its `toModelSpec({ mode })` is used).
 */
export interface ModelRef {
  /** file: URL (or any URL `import()` accepts) of a ModelModule. */
  url: string;
  options?: Record<string, unknown>;
  /** For a task module: the mode its model is built for (default 'train'). */
  taskMode?: 'train' | 'eval' | 'infer';
}

/** What a task module's createTask returns (a MonolithModel). */
interface TaskLike {
  toModelSpec(opts: { mode?: 'train' | 'eval' | 'infer' }): ModelSpec;
}

/**
 * Imports the module and builds the spec; errors name the module. Building a
 * model needs a tfjs backend: unless this thread already has one
 * (`initBackend`), the usual one is chosen first, as the workers do.
 */
export async function loadModel(ref: ModelRef): Promise<ModelSpec> {
  await initBackend();
  let mod: Partial<ModelModule>;
  try {
    mod = (await import(ref.url)) as Partial<ModelModule>;
  } catch (err) {
    throw new ConfigError(`model module ${ref.url} cannot be imported: ${(err as Error).message}`, { cause: err });
  }
  if (typeof mod.createModel === 'function') return await mod.createModel(ref.options ?? {});
  const createTask = (mod as { createTask?: (o: Record<string, unknown>) => TaskLike | Promise<TaskLike> }).createTask;
  if (typeof createTask === 'function') return (await createTask(ref.options ?? {})).toModelSpec({ mode: ref.taskMode ?? 'train' });
  throw new ConfigError(`model module ${ref.url} exports neither createModel(options) nor createTask(options)`);
}
