import { readdir, stat } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { ConfigError, FormatError } from '../errors.js';
import { restoreTable } from '../hashtable/checkpoint.js';
import { readCheckpointIndex } from '../hashtable/checkpoint-index.js';
import { ckptAssetDir } from '../hashtable/checkpoint-listeners.js';
import { EmbeddingHashTable } from '../hashtable/embedding-hash-table.js';
import type { ModelSpec } from '../model/model-spec.js';
import { restoreDenseParams } from '../graph/dense-checkpoint.js';
import type { SharedDenseParams } from '../workers/shared-dense-params.js';
import { assignSharedWeights, createSharedDenseParams } from '../workers/train-step.js';
import { loadLayersModelFromDir, saveLayersModel } from './fs-model-io.js';

/** The trained parameters an exporter writes out. */
export interface TrainedParams {
  dense: LayersModel;
  tables: ReadonlyMap<string, EmbeddingHashTable>;
}

/** Gives the parameters for a checkpoint prefix (`…/model.ckpt-<step>`), or the newest when none is given. */
export type ParamsProvider = (checkpointPath?: string) => Promise<TrainedParams>;

/** The model being trained, as it is in memory now (the checkpoint path is only used for shared_embedding). */
export function liveParams(dense: LayersModel, tables: ReadonlyMap<string, EmbeddingHashTable> | Record<string, EmbeddingHashTable>): ParamsProvider {
  const map = tables instanceof Map ? tables : new Map(Object.entries(tables));
  return async () => ({ dense, tables: map });
}

/** A fresh dense model of `spec` holding the shared dense parameters' current trainable weights. */
export function denseModelFromShared(spec: Pick<ModelSpec, 'buildDense'>, dense: SharedDenseParams): LayersModel {
  const model = spec.buildDense();
  assignSharedWeights(model.trainableWeights.map((w) => w.read() as tf.Variable), dense);
  return model;
}

/**
 * The parameters of a training pipeline as they are when the export runs
 * (the dense model is rebuilt from the shared weights at each call).
 */
export function sharedParams(spec: Pick<ModelSpec, 'buildDense'>, tables: Record<string, EmbeddingHashTable>, dense: SharedDenseParams): ParamsProvider {
  const map = new Map(Object.entries(tables));
  return async () => ({ dense: denseModelFromShared(spec, dense), tables: map });
}

export const DEFAULT_CKPT_BASENAME = 'model.ckpt';
/** Where a checkpoint keeps its dense model (tfjs format): `<prefix>.dense/`. */
export const denseCheckpointDir = (prefix: string): string => `${prefix}.dense`;

/** Writes the dense part of checkpoint `prefix` (what `checkpointParams` reads back). */
export function saveDenseCheckpoint(model: LayersModel, prefix: string): Promise<void> {
  return saveLayersModel(model, denseCheckpointDir(prefix));
}

/**
 * Steps that have a checkpoint in `modelDir`, newest last: those its index file
 * lists, or without an index every `<basename>-<step>` (.index, .assets or .dense) on disk.
 */
export async function existingCheckpointSteps(modelDir: string, basename = DEFAULT_CKPT_BASENAME): Promise<number[]> {
  const idx = await readCheckpointIndex(modelDir);
  if (idx) return idx.all;
  const re = new RegExp(`^${basename.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)\\.(index|assets|dense)$`);
  let names: string[];
  try {
    names = await readdir(modelDir);
  } catch {
    return [];
  }
  const steps = new Set<number>();
  for (const n of names) {
    const m = re.exec(n);
    if (m) steps.add(Number(m[1]));
  }
  return [...steps].sort((a, b) => a - b);
}

/**
 * The newest checkpoint of `modelDir`: the one its index file (`checkpoint`)
 * names, so a directory of a save cut short is never picked. Without an index,
 * the newest `<basename>-<step>` on disk.
 */
export async function latestCheckpoint(modelDir: string, basename = DEFAULT_CKPT_BASENAME): Promise<string | undefined> {
  const idx = await readCheckpointIndex(modelDir);
  if (idx) return join(modelDir, `${basename}-${idx.latest}`);
  const steps = await existingCheckpointSteps(modelDir, basename);
  return steps.length ? join(modelDir, `${basename}-${steps[steps.length - 1]}`) : undefined;
}

/** The dense model of checkpoint `prefix`: the runtime's `<prefix>.dense` file, or a tfjs model directory of that name. */
async function loadDenseCheckpoint(spec: Pick<ModelSpec, 'buildDense' | 'denseOptimizer'>, prefix: string): Promise<LayersModel> {
  const path = denseCheckpointDir(prefix);
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (err) {
    throw new FormatError(`checkpoint ${prefix} has no dense part: ${(err as Error).message}`, { file: path }, { cause: err });
  }
  if (isDir) return loadLayersModelFromDir(path);
  const dense = createSharedDenseParams(spec);
  await restoreDenseParams(path, dense);
  return denseModelFromShared(spec, dense);
}

/**
 * Parameters restored from a checkpoint directory: the dense model from
 * `<prefix>.dense` (the training runtime's file, or a tfjs model directory) and each table of `spec` from `<prefix>.assets/<table>`
 * (written by HashTableCheckpointSaverListener with single-table saves).
 */
export function checkpointParams(spec: Pick<ModelSpec, 'tables' | 'buildDense' | 'denseOptimizer'>, modelDir: string, basename = DEFAULT_CKPT_BASENAME): ParamsProvider {
  return async (checkpointPath) => {
    const prefix = checkpointPath ?? (await latestCheckpoint(modelDir, basename));
    if (!prefix) throw new ConfigError(`no checkpoint ${basename}-<step> in ${modelDir}`);
    const dense = await loadDenseCheckpoint(spec, prefix);
    const tables = new Map<string, EmbeddingHashTable>();
    for (const [name, config] of Object.entries(spec.tables)) {
      const t = EmbeddingHashTable.create({ ...config, name });
      await restoreTable(t, join(ckptAssetDir(prefix), name));
      tables.set(name, t);
    }
    return { dense, tables };
  };
}

/** The global step of a checkpoint path `…model.ckpt-<step>`; anything else is a ConfigError. */
export function getGlobalStep(checkpointPath: string): number {
  const m = /^.*model\.ckpt-(\d+)$/.exec(checkpointPath.trim());
  if (!m) throw new ConfigError(`cannot read a global step from checkpoint path "${checkpointPath}": expected …/model.ckpt-<step>`);
  return Number(m[1]);
}
