import { readFile } from 'node:fs/promises';
import { ConfigError, FormatError } from '../errors.js';
import { parseTextFormat } from '../io/text-format.js';

/** What `serve` takes from a TF Serving model config file (`--model_config_file`). */
export interface ServedModelConfig {
  name: string;
  basePath: string;
  versionLabels: Record<string, number>;
}

type Int64 = number | { toNumber(): number };
interface ModelConfigMsg {
  name?: string;
  basePath?: string;
  modelVersionPolicy?: { latest?: { numVersions?: number }; all?: object; specific?: object };
  versionLabels?: Record<string, Int64>;
}

/**
 * Reads a ModelServerConfig in protobuf text format, as TF Serving's
 * `--model_config_file` does. One model is served per process, with the
 * latest version: a file with several models or another version policy is
 * refused by name, not half-applied.
 */
export async function readModelConfigFile(file: string): Promise<ServedModelConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`--model-config-file ${file}: ${(err as Error).message}`, { cause: err });
  }
  const msg = parseTextFormat('tensorflow.serving.ModelServerConfig', text, file) as { modelConfigList?: { config?: ModelConfigMsg[] } };
  const configs = msg.modelConfigList?.config ?? [];
  if (configs.length !== 1) throw new FormatError(`lists ${configs.length} models; monolith-ts serve serves one model per process`, { file, field: 'model_config_list.config' });
  const c = configs[0]!;
  if (!c.name) throw new FormatError('a model needs a name', { file, field: 'model_config_list.config.name' });
  if (!c.basePath) throw new FormatError('a model needs a base_path', { file, field: 'model_config_list.config.base_path' });
  const policy = c.modelVersionPolicy;
  if (policy && (policy.all || policy.specific || (policy.latest?.numVersions ?? 1) !== 1)) {
    throw new FormatError('only the latest version is served (model_version_policy { latest { num_versions: 1 } })', { file, field: 'model_config_list.config.model_version_policy' });
  }
  const versionLabels: Record<string, number> = {};
  for (const [label, v] of Object.entries(c.versionLabels ?? {})) {
    const n = typeof v === 'number' ? v : v.toNumber();
    if (!(Number.isSafeInteger(n) && n >= 0)) throw new FormatError(`version ${n} of label ${label} is not a version number`, { file, field: `model_config_list.config.version_labels[${label}]` });
    versionLabels[label] = n;
  }
  return { name: c.name, basePath: c.basePath, versionLabels };
}
