import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.js';
import { readModelSettings, type ModelSettings } from '../graph/model-settings.js';
import { validateRecordInput, type RecordInput } from '../streams/sources/record-input.js';
import type { ModelRef } from '../workers/load-model.js';

/**
 * The URL of a model module given as a file path (absolute or relative to the
 * working directory) or a package specifier (`monolith-ts/models/deepfm`).
 */
export function modelModuleUrl(fileOrSpecifier: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(fileOrSpecifier) || fileOrSpecifier.startsWith('file:')) return fileOrSpecifier;
  const path = resolve(fileOrSpecifier);
  if (existsSync(path) || isAbsolute(fileOrSpecifier) || fileOrSpecifier.startsWith('.')) return pathToFileURL(path).href;
  try {
    return import.meta.resolve(fileOrSpecifier);
  } catch (err) {
    throw new ConfigError(`--model-module ${fileOrSpecifier}: no such file, and not a package specifier that resolves (${(err as Error).message})`, { cause: err });
  }
}

export function modelOptionsArg(json: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (err) {
    throw new ConfigError(`--model-options is not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError('--model-options must be a JSON object');
  return v as Record<string, unknown>;
}

export interface StoredRun {
  settings?: ModelSettings;
  input?: RecordInput;
}

/** The settings stored in a model dir, with the input section checked. */
export async function storedRun(modelDir: string): Promise<StoredRun> {
  const settings = await readModelSettings(modelDir);
  if (!settings) return {};
  return { settings, ...(settings.input ? { input: validateRecordInput(settings.input, `${modelDir} settings: input`) } : {}) };
}

/**
 * The model from --model-module / --model-options, or the one stored in the
 * model dir. Flags that disagree with the stored model are an error: the
 * checkpoints would not fit.
 */
export function modelRefOf(o: { modelModule?: string; modelOptions?: string }, stored: ModelSettings | undefined, modelDir: string): Required<Omit<ModelRef, 'taskMode'>> {
  if (!o.modelModule) {
    if (o.modelOptions !== undefined && !stored) throw new ConfigError('--model-options needs --model-module');
    if (!stored) throw new ConfigError(`--model-module is required (${modelDir} holds no monolith-ts-model.json to read it from)`);
    if (o.modelOptions !== undefined) return { url: stored.model.url, options: modelOptionsArg(o.modelOptions) };
    return stored.model;
  }
  const ref = { url: modelModuleUrl(o.modelModule), options: modelOptionsArg(o.modelOptions ?? '{}') };
  return ref;
}

/** Says how `ref` differs from the stored model, or undefined when it does not. */
export function differsFromStored(ref: Required<Omit<ModelRef, 'taskMode'>>, stored: ModelSettings | undefined): string | undefined {
  if (!stored) return undefined;
  if (ref.url !== stored.model.url) return `module ${ref.url} (stored: ${stored.model.url})`;
  if (JSON.stringify(ref.options) !== JSON.stringify(stored.model.options)) return `options ${JSON.stringify(ref.options)} (stored: ${JSON.stringify(stored.model.options)})`;
  return undefined;
}
