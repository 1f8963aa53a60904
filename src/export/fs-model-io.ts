import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import { FormatError, MonolithError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-file.js';
// Registers the custom layers (embedding slices, FM terms) an exported model may contain, so that
// a process that only loads exports (`monolith-ts serve`) can deserialize them.
import '../model/layers/embedding-layers.js';

/** tfjs's model format: `model.json` (topology + weights manifest) and one weights file. */
export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

/**
 * A `tf.io` save handler writing tfjs's model format into `dir` (tfjs-node's
 * `file://` handler is not available here): weights first, then model.json,
 * each through a temp file and a rename.
 */
export function fileSystemSaveHandler(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      await mkdir(dir, { recursive: true });
      const weights = artifacts.weightData ? new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData)) : new Uint8Array(0);
      await writeFileAtomic(join(dir, WEIGHTS_BIN), weights);
      const json: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as object,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
      };
      await writeFileAtomic(join(dir, MODEL_JSON), JSON.stringify(json));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
}

/** A `tf.io` load handler for what `fileSystemSaveHandler` wrote (one or more weight files, in manifest order). */
export function fileSystemLoadHandler(dir: string): tf.io.IOHandler {
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      const file = join(dir, MODEL_JSON);
      let json: tf.io.ModelJSON;
      try {
        json = JSON.parse(await readFile(file, 'utf8')) as tf.io.ModelJSON;
      } catch (err) {
        throw new FormatError(`cannot read tfjs model: ${(err as Error).message}`, { file }, { cause: err });
      }
      if (!json.modelTopology) throw new FormatError('model.json has no modelTopology', { file, field: 'modelTopology' });
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: ArrayBuffer[] = [];
      for (const group of json.weightsManifest ?? []) {
        specs.push(...group.weights);
        for (const p of group.paths) {
          const b = await readFile(join(dir, p));
          buffers.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
        }
      }
      const weightData = tf.io.CompositeArrayBuffer.join(buffers);
      const expected = specs.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1) * 4, 0);
      if (weightData.byteLength !== expected) {
        throw new FormatError(`weights hold ${weightData.byteLength} bytes, the manifest needs ${expected}`, { file: join(dir, WEIGHTS_BIN) });
      }
      return tf.io.getModelArtifactsForJSONSync(json, specs, weightData);
    },
  };
}

/** Saves a LayersModel into `dir` (tfjs format) atomically as a whole: written to a sibling temp dir, then renamed. */
export async function saveLayersModel(model: LayersModel, dir: string): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  try {
    await model.save(fileSystemSaveHandler(tmp));
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Loads a tfjs model directory; any failure (missing file, bad topology, weights that do not fit) is a FormatError naming the file. */
export async function loadLayersModelFromDir(dir: string): Promise<LayersModel> {
  try {
    return await loadLayersModel(fileSystemLoadHandler(dir));
  } catch (err) {
    if (err instanceof MonolithError) throw err;
    throw new FormatError(`cannot load tfjs model: ${(err as Error)?.message ?? String(err)}`, { file: join(dir, MODEL_JSON) }, { cause: err });
  }
}
