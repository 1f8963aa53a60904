/**
 * Worker of `trialLoad`: builds a tfjs model from an export's model.json on
 * the cpu backend, so a topology that sends tfjs into an endless loop blocks
 * only this thread, which the caller terminates after its timeout.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadLayersModelFromDir } from '../export/fs-model-io.js';
import { importLayerModules } from './layer-modules.js';

const { dir, modules, file } = workerData as { dir: string; modules: string[]; file: string };
try {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
  await importLayerModules(modules, file);
  const model = await loadLayersModelFromDir(dir);
  model.dispose();
  parentPort!.postMessage({ ok: true });
} catch (err) {
  parentPort!.postMessage({ ok: false, message: (err as Error).message });
}
