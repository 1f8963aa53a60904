import * as tf from '@tensorflow/tfjs-core';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FormatError } from '../errors.js';
// The library's own layer classes register themselves on import: every export may use them.
import '../model/layers/embedding-layers.js';

const imported = new Map<string, Promise<unknown>>();

/**
 * Imports the modules an export names for its custom tfjs layer classes
 * (specifiers, file URLs, or absolute paths), once per thread.
 */
export async function importLayerModules(modules: readonly string[], file: string): Promise<void> {
  for (const m of modules) {
    const spec = isAbsolute(m) ? pathToFileURL(m).href : m;
    let p = imported.get(spec);
    if (!p) imported.set(spec, (p = import(spec)));
    try {
      await p;
    } catch (err) {
      imported.delete(spec);
      throw new FormatError(`cannot import layer module ${m}: ${(err as Error).message}`, { file, field: 'layerModules' }, { cause: err });
    }
  }
}

/** Throws when a layer class of the topology is not registered in this thread. */
export function checkLayerClassesRegistered(layers: readonly { class_name?: unknown }[], modules: readonly string[], file: string): void {
  const known = tf.serialization.SerializationMap.getMap().classNameMap;
  for (const l of layers) {
    const name = String(l.class_name);
    if (!Object.hasOwn(known, name)) {
      throw new FormatError(`layer class ${name} is not registered: the export's layerModules (${modules.length ? modules.join(', ') : 'none'}) do not register it`, { file, field: 'layerModules' });
    }
  }
}
