import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, FormatError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import type { ModelRef } from '../workers/load-model.js';

/** Name of the settings file kept beside a model's checkpoints. */
export const MODEL_SETTINGS_FILE = 'monolith-ts-model.json';
const FORMAT = 'monolith-ts/model-settings';

/**
 * What a model directory was trained with: the model module (URL) and its
 * options, and how its records were read. Written beside the checkpoints so
 * that export, eval, predict and serve need nothing repeated.
 */
export interface ModelSettings {
  model: Required<Omit<ModelRef, 'taskMode'>>;
  /** How the training records were read (format, variant, parse configuration); opaque to this module. */
  input?: Record<string, unknown>;
}

interface SettingsFile extends ModelSettings {
  format: typeof FORMAT;
  version: 1;
}

export const modelSettingsPath = (modelDir: string): string => join(modelDir, MODEL_SETTINGS_FILE);

/** Writes `<modelDir>/monolith-ts-model.json` (temp file + rename). */
export async function writeModelSettings(modelDir: string, settings: ModelSettings): Promise<string> {
  const path = modelSettingsPath(modelDir);
  const body: SettingsFile = { format: FORMAT, version: 1, ...settings };
  await writeFileAtomic(path, `${JSON.stringify(body, null, 2)}\n`);
  return path;
}

/** The settings stored in `modelDir`, or undefined when there is no settings file. */
export async function readModelSettings(modelDir: string): Promise<ModelSettings | undefined> {
  const path = modelSettingsPath(modelDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let json: Partial<SettingsFile>;
  try {
    json = JSON.parse(text) as Partial<SettingsFile>;
  } catch (err) {
    throw new FormatError(`not JSON: ${(err as Error).message}`, { file: path }, { cause: err });
  }
  if (json?.format !== FORMAT) throw new FormatError(`not a monolith-ts model settings file (format ${JSON.stringify(json?.format)})`, { file: path, field: 'format' });
  if (json.version !== 1) throw new FormatError(`settings version ${String(json.version)} is not supported (1 is)`, { file: path, field: 'version' });
  const m = json.model;
  if (!m || typeof m.url !== 'string' || typeof m.options !== 'object' || m.options === null || Array.isArray(m.options)) {
    throw new FormatError('needs model.url (string) and model.options (object)', { file: path, field: 'model' });
  }
  if (json.input !== undefined && (typeof json.input !== 'object' || json.input === null)) throw new FormatError('input must be an object', { file: path, field: 'input' });
  return { model: { url: m.url, options: m.options }, ...(json.input ? { input: json.input } : {}) };
}

/** The stored settings, or a ConfigError saying what to pass instead. */
export async function requireModelSettings(modelDir: string, instead: string): Promise<ModelSettings> {
  const s = await readModelSettings(modelDir);
  if (!s) throw new ConfigError(`${modelSettingsPath(modelDir)} does not exist: ${instead}`);
  return s;
}
