import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../workers/tf-backend.js';

/**
 * Makes sure this thread has a tfjs backend (chosen once by `initBackend`:
 * MONOLITH_TF_BACKEND, else the native, wasm or cpu backend, first that works)
 * and returns its tfjs name. Await it before any synchronous tfjs call: wasm
 * starts asynchronously.
 */
export async function ensureTfBackend(): Promise<string> {
  await initBackend();
  await tf.ready();
  return tf.getBackend();
}
