import { ConfigError } from '../errors.js';
import type { ModelModule, ModelSpec } from '../model/model-spec.js';
import { initBackend } from './tf-backend.js';

/** Where a worker thread finds a model: a module exporting `createModel(options)`. */
export interface ModelRef {
  /** file: URL (or any URL `import()` accepts) of a ModelModule. */
  url: string;
  options?: Record<string, unknown>;
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
  if (typeof mod.createModel !== 'function') throw new ConfigError(`model module ${ref.url} does not export createModel(options)`);
  return await mod.createModel(ref.options ?? {});
}
