import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

let ready: Promise<void> | undefined;

/**
 * Makes sure tfjs has a backend: the one already chosen by the process (a
 * training runtime may have set wasm), else the cpu backend. PROD mode
 * silences tfjs's "install tfjs-node" banner and skips debug checks.
 */
export function ensureTfBackend(): Promise<void> {
  return (ready ??= (async () => {
    tf.env().set('PROD', true);
    await tf.ready();
    if (!tf.getBackend()) await tf.setBackend('cpu');
  })());
}
