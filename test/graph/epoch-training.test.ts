import test from 'ava';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Batch } from '../../src/batch/batch.js';
import { aucOf, ConfigError, fileBatches, PlantedCtr, readIndex, TrainStep, trainEpochs, writePlantedCtrFile, type EpochReport } from '../../src/index.js';
import { loadModel } from '../../src/workers/load-model.js';
import { initBackend } from '../../src/workers/tf-backend.js';
import { tempDir } from '../helpers.js';

const DEEPFM = new URL('../../src/model/models/deepfm.js', import.meta.url).href;
const streamOpts = { seed: 9, sparseSlots: 4, multiValuedSlots: 1, vocabRange: [20, 2000] as [number, number], denseFeatures: 2, interactions: 1, idWeightScale: 1.5, idWeightVocabExponent: 0.35, denseWeightScale: 0.8 };

test.before(async () => {
  await initBackend('cpu');
});

function data(rows: number, seedShift: number): Batch[] {
  const s = new PlantedCtr({ ...streamOpts });
  const rng = new PlantedCtr({ ...streamOpts, seed: streamOpts.seed + seedShift });
  const out: Batch[] = [];
  for (let i = 0; i < rows; i += 128) out.push(s.toBatch(Array.from({ length: Math.min(128, rows - i) }, () => rng.sampleRow())));
  return out;
}

// A model that memorizes: unregularized first-order weights and fast embeddings on a small training set.
const overfitting = {
  sparseSlots: 4,
  denseFeatureNames: ['dense_0', 'dense_1'],
  embeddingDim: 8,
  hidden: [32],
  biasOptimizer: { ftrl: { learningRate: 0.3, initialAccumulatorValue: 1e-6, beta: 0 } },
  vecOptimizer: { adagrad: { learningRate: 0.2, initialAccumulatorValue: 1e-6 } },
  vecInitializer: { randomUniform: { minval: -0.1, maxval: 0.1 } },
  denseOptimizer: { name: 'adam', learningRate: 0.02 },
};

test('trainEpochs: held-out figures per pass, the overfitting warning, early stopping and the best pass restored', async (t) => {
  const train = data(512, 1);
  const heldOut = data(2048, 2);
  const dir = await tempDir();
  const seen: EpochReport[] = [];
  const res = await trainEpochs({
    model: { url: DEEPFM, options: overfitting },
    workers: 0,
    deterministic: true,
    trainSource: () => train,
    heldOut: () => heldOut,
    epochs: 12,
    patience: 3,
    bestCheckpointDir: dir,
    onEpoch: (r) => seen.push(r),
  });
  t.deepEqual(res.epochs, seen);
  t.true(res.epochs.every((r, i) => r.epoch === i + 1 && r.examples === 512 && r.heldOutAuc > 0.5 && r.calibration > 0 && Number.isFinite(r.heldOutLoss)));
  // Training loss keeps falling while held-out AUC falls: flagged, and training stops `patience` passes after the best one.
  t.true(res.epochs.some((r) => r.overfitting), JSON.stringify(res.epochs.map((r) => [r.trainLoss, r.heldOutAuc])));
  t.true(res.stoppedEarly);
  t.is(res.epochs.length, res.best.epoch + 3);
  t.is(res.best.heldOutAuc, Math.max(...res.epochs.map((r) => r.heldOutAuc)));
  // Only the best pass is kept, and it is what the returned tables and weights hold.
  t.deepEqual((await readIndex(dir))?.all, [res.best.globalStep]);
  t.true((await readdir(dir)).length > 0);
  const spec = await loadModel({ url: DEEPFM, options: overfitting });
  const step = new TrainStep({ spec, tables: res.tables, dense: res.dense, worker: -1 });
  const preds: number[] = [];
  const labels: number[] = [];
  for (const b of heldOut) {
    preds.push(...Object.values(step.run(b, 'eval').predictions!)[0]!);
    labels.push(...b.labels);
  }
  t.is(aucOf(preds, labels).toFixed(6), res.best.heldOutAuc.toFixed(6));
  t.true(res.best.heldOutAuc > res.epochs.at(-1)!.heldOutAuc);
});

test('trainEpochs rejects bad epochs and patience', async (t) => {
  const base = { model: { url: DEEPFM, options: overfitting }, workers: 0, trainSource: () => [], heldOut: () => [] };
  await t.throwsAsync(trainEpochs({ ...base, epochs: 0 }), { instanceOf: ConfigError, message: /epochs/ });
  await t.throwsAsync(trainEpochs({ ...base, epochs: 2, patience: 0 }), { instanceOf: ConfigError, message: /patience/ });
});

test('trainEpochs over record files written by writePlantedCtrFile (as the CLI reads user data)', async (t) => {
  const dir = await tempDir();
  const stream = new PlantedCtr({ ...streamOpts });
  const train = join(dir, 'train.pb');
  const held = join(dir, 'held.pb');
  const layout = await writePlantedCtrFile(train, stream, 768);
  const heldLayout = await writePlantedCtrFile(held, stream, 512, { sortId: false });
  const files = (path: string, l: typeof layout) => fileBatches({ paths: path, layout: l, variant: 'instance', parse: stream.parseConfig, batchSize: 128 });
  const res = await trainEpochs({
    model: { url: DEEPFM, options: { sparseSlots: 4, denseFeatureNames: stream.denseNames, hidden: [8] } },
    workers: 0,
    deterministic: true,
    trainSource: () => files(train, layout),
    heldOut: () => files(held, heldLayout),
    epochs: 2,
  });
  t.deepEqual(res.epochs.map((r) => [r.epoch, r.examples]), [[1, 768], [2, 768]]);
  t.true(res.epochs.every((r) => Number.isFinite(r.heldOutAuc) && Number.isFinite(r.heldOutLoss)));
  t.is(res.epochs[1]!.globalStep, 12);
});
