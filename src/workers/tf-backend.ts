import * as tf from '@tensorflow/tfjs-core';
import { log } from '../util/log.js';

/** Backends in the order they are tried; the native ones are optional packages. */
export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

const NATIVE: Record<'tensorflow-gpu' | 'tensorflow', string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

let chosen: Promise<BackendName> | undefined;

async function tryBackend(name: BackendName): Promise<boolean> {
  try {
    if (name === 'tensorflow-gpu' || name === 'tensorflow') {
      // Optional peers: absent on most machines; a dynamic specifier keeps tsc from requiring them.
      const spec = NATIVE[name];
      await import(spec);
      // tfjs-node registers itself as 'tensorflow' (the gpu build too).
      return await tf.setBackend('tensorflow');
    }
    if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
    else {
      await import('@tensorflow/tfjs-backend-cpu');
      // The cpu backend prints an install-tfjs-node banner through tfjs's warn(); the choice is logged below instead.
      tf.env().set('PROD', true);
    }
    return await tf.setBackend(name);
  } catch {
    return false;
  }
}

const NAMES: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

/** `MONOLITH_TF_BACKEND`, when it names a backend. */
function envBackend(): BackendName | undefined {
  const v = process.env.MONOLITH_TF_BACKEND;
  if (v === undefined || v === '') return undefined;
  if (!(NAMES as readonly string[]).includes(v)) throw new Error(`MONOLITH_TF_BACKEND=${v} is not one of ${NAMES.join(', ')}`);
  return v as BackendName;
}

/**
 * Chooses the tfjs backend of this thread once: `prefer` if given (and it
 * works; default: the MONOLITH_TF_BACKEND environment variable), else
 * tfjs-node-gpu, tfjs-node, wasm, cpu in that order. Logs the choice. Later calls return the first choice.
 */
export function initBackend(prefer: BackendName | undefined = envBackend()): Promise<BackendName> {
  chosen ??= (async () => {
    const candidates = prefer ? [prefer, ...NAMES.filter((b) => b !== prefer)] : NAMES;
    for (const b of candidates) {
      if (await tryBackend(b)) {
        log.info(`tfjs backend: ${b}${prefer && prefer !== b ? ` (preferred ${prefer} unavailable)` : ''}`);
        return b;
      }
    }
    throw new Error('no tfjs backend could be initialised (tried tfjs-node-gpu, tfjs-node, wasm, cpu)');
  })();
  return chosen;
}
