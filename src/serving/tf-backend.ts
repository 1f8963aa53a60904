import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';

let ready: Promise<string> | undefined;

/**
 * Makes sure tfjs has a backend and returns its name: MONOLITH_TF_BACKEND
 * when set, else the one the process already uses (a training runtime may
 * have chosen), else wasm (measured 10-20x faster than cpu on dense layers
 * here), falling back to cpu. PROD mode silences tfjs's "install tfjs-node"
 * banner and skips debug checks.
 */
export function ensureTfBackend(): Promise<string> {
  return (ready ??= (async () => {
    tf.env().set('PROD', true);
    const wanted = process.env.MONOLITH_TF_BACKEND;
    if (wanted) {
      if (!(await tf.setBackend(wanted))) throw new Error(`tfjs backend "${wanted}" (MONOLITH_TF_BACKEND) failed to initialise`);
    } else if (!(await tf.setBackend(tf.getBackend() ?? 'wasm').catch(() => false))) {
      await tf.setBackend('cpu');
    }
    await tf.ready();
    return tf.getBackend();
  })());
}
