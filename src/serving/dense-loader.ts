import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { FormatError } from '../errors.js';
import { loadLayersModelFromDir, MODEL_JSON } from '../export/fs-model-io.js';
import { checkLayerClassesRegistered, importLayerModules } from './layer-modules.js';
import { checkModelJson } from './model-json-check.js';

export interface DenseLoadOptions {
  /** Modules registering the model's custom layer classes (the manifest's layerModules). */
  layerModules?: readonly string[];
  /** How long a trial load in a worker thread may take before the model is refused (default 60000 ms; 0: no trial load). */
  trialLoadTimeoutMs?: number;
}

/**
 * Builds the model of `dir` in a worker thread and waits at most `timeoutMs`:
 * resolves when tfjs could build it, rejects with a FormatError when it threw
 * or did not finish in time (the worker is then terminated).
 */
export function trialLoad(dir: string, layerModules: readonly string[], timeoutMs: number): Promise<void> {
  const file = join(dir, MODEL_JSON);
  return new Promise<void>((resolve, reject) => {
    const worker = new Worker(new URL('./dense-trial-worker.js', import.meta.url), { workerData: { dir, modules: [...layerModules], file } });
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      void worker.terminate();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => finish(new FormatError(`tfjs did not finish building the model within ${timeoutMs} ms (a broken topology?)`, { file })), timeoutMs);
    worker.once('message', (m: { ok: boolean; message?: string }) => finish(m.ok ? undefined : new FormatError(`tfjs cannot build the model: ${m.message ?? 'unknown error'}`, { file })));
    worker.once('error', (err) => finish(new FormatError(`model trial load failed: ${err.message}`, { file }, { cause: err })));
    worker.once('exit', (code) => finish(new FormatError(`model trial load worker exited with code ${code}`, { file })));
  });
}

/**
 * Loads an export's tfjs dense model safely: the model.json is checked
 * (structure, references, weights manifest), its layer modules are imported
 * and its classes must be registered, the model is first built in a worker
 * thread with a timeout, and only then loaded here.
 */
export async function loadDenseModel(dir: string, opts: DenseLoadOptions = {}): Promise<LayersModel> {
  const file = join(dir, MODEL_JSON);
  let json: { modelTopology?: { config?: { layers?: { class_name?: unknown }[] } } };
  try {
    json = JSON.parse(await readFile(file, 'utf8')) as typeof json;
  } catch (err) {
    throw new FormatError(`cannot read tfjs model: ${(err as Error).message}`, { file }, { cause: err });
  }
  checkModelJson(json, file);
  const modules = opts.layerModules ?? [];
  await importLayerModules(modules, file);
  const layers = json.modelTopology?.config?.layers ?? (Array.isArray(json.modelTopology?.config) ? (json.modelTopology!.config as { class_name?: unknown }[]) : []);
  checkLayerClassesRegistered(layers, modules, file);
  const timeout = opts.trialLoadTimeoutMs ?? 60000;
  if (timeout > 0) await trialLoad(dir, modules, timeout);
  return loadLayersModelFromDir(dir);
}
