import test from 'ava';
import { ConfigError, PlantedCtr, trainEpochs } from 'monolith-ts';
import { initBackend } from '../../src/workers/tf-backend.js';
import { plantedBatches } from './planted-batches.js';

const DEEPFM = import.meta.resolve('monolith-ts/models/deepfm');
const DEEP_FWFM = import.meta.resolve('monolith-ts/models/deep-fwfm');

test.before(async () => {
  await initBackend('cpu');
});


const outputBias = (dense: { params: { name: string }[]; weights: Float32Array[] }): number => dense.weights[dense.params.findIndex((p) => p.name === 'output_logit/bias')]![0]!;

test("DeepFM's output bias starts at the logit of the first batch's positive rate (warmStartOutputBias); off, it starts at 0", async (t) => {
  const stream = new PlantedCtr({ seed: 3, sparseSlots: 4, multiValuedSlots: 1, vocabRange: [50, 500], denseFeatures: 2, baseCtr: 0.1 });
  const train = plantedBatches(stream, 2048, 512);
  const firstRate = train[0]!.labels.reduce((a, l) => a + l, 0) / train[0]!.rows;
  const run = async (extra: Record<string, unknown>) =>
    outputBias((await trainEpochs({ model: { url: DEEPFM, options: { sparseSlots: 4, denseFeatureNames: stream.denseNames, hidden: [8], ...extra } }, workers: 0, trainSource: () => train, heldOut: () => train.slice(0, 1), epochs: 1 })).dense);
  const warm = await run({});
  const cold = await run({ warmStartOutputBias: false });
  const want = Math.log((firstRate * 512 + 0.5) / 513 / (1 - (firstRate * 512 + 0.5) / 513));
  t.log(`output bias after 4 steps: warm start ${warm.toFixed(3)} (first batch's logit ${want.toFixed(3)}), off ${cold.toFixed(3)}`);
  // Adam at 0.01 moves it at most ~0.01 per step after the start.
  t.true(Math.abs(warm - want) < 0.05, `warm ${warm} vs ${want}`);
  t.true(Math.abs(cold) < 0.05, `cold ${cold}`);
});

test('a head that warm-starts a weight the dense model does not have is refused', async (t) => {
  const { MonolithModel } = await import('monolith-ts');
  class Broken extends MonolithModel {
    override modelFn() {
      this.createEmbeddingFeatureColumn(1);
      const v = this.lookupEmbeddingSlice([1], 'vec', { sliceDim: 1, outType: 'concat' });
      return { heads: [{ name: 'ctr', logit: v as never, warmStartBias: 'no_such_layer/bias' }] };
    }
  }
  const { TrainStep, createSharedDenseParams } = await import('../../src/workers/train-step.js');
  const { createModelTables } = await import('../../src/workers/model-tables.js');
  const spec = new Broken().toModelSpec();
  const e = t.throws(() => new TrainStep({ spec, tables: createModelTables(spec), dense: createSharedDenseParams(spec) }), { instanceOf: ConfigError });
  t.regex(e!.message, /head ctr warm-starts no_such_layer\/bias, which is not a trainable weight of one value/);
});

test("DeepFwFM pools a multi-valued slot by the mean of its ids' vectors in the pair term ('mean' counts ids with a frozen slice of ones); 'sum' adds them", async (t) => {
  const { DeepFwFMModel } = await import('monolith-ts');
  const slices = (extra: Record<string, unknown>) => new DeepFwFMModel({ sparseSlots: 3, denseFeatures: 0, hidden: [], ...extra }).toModelSpec().features.map((f) => f.dim);
  t.deepEqual(slices({}), [34, 34, 34], 'bias 1 + vec 8 + pair 3 slots × 8 (field-aware) + count 1');
  t.deepEqual(slices({ interactionPooling: 'sum' }), [33, 33, 33]);
  t.deepEqual(slices({ fieldAwarePairs: false }), [18, 18, 18], 'bias 1 + vec 8 + pair 8 + count 1');
  // After training the count column of every entry is still 1.
  const stream = new PlantedCtr({ seed: 2, sparseSlots: 3, multiValuedSlots: 1, vocabRange: [20, 40], denseFeatures: 0, interactions: 0 });
  const train = plantedBatches(stream, 1024, 256);
  const res = await trainEpochs({ model: { url: DEEP_FWFM, options: { sparseSlots: 3, denseFeatures: 0, hidden: [] } }, workers: 0, trainSource: () => train, heldOut: () => train.slice(0, 1), epochs: 1 });
  const table = res.tables['fc_slot_1']!;
  const rows = table.lookup(BigInt64Array.from({ length: 5 }, (_, i) => (1n << 54n) | BigInt(i + 1)));
  for (let i = 0; i < 5; i++) t.is(rows[i * 34 + 33], 1, `entry ${i}: count column`);
  t.true(rows.some((v, i) => i % 34 !== 33 && v !== 0), 'the other columns trained');
  const { MeanOverIds } = await import('monolith-ts');
  const tf = await import('@tensorflow/tfjs-core');
  // Row 0: slot 0 holds 2 ids (sum [2, 4]), slot 1 one id, slot 2 none.
  const vecs = tf.tensor3d([[[2, 4], [1, 1], [0, 0]]]);
  const counts = tf.tensor2d([[2, 1, 0]]);
  t.deepEqual((new MeanOverIds({}).apply([vecs, counts]) as InstanceType<typeof tf.Tensor>).arraySync(), [[[1, 2], [1, 1], [0, 0]]]);
});

test("DeepFwFM's pair term (one vector per id) has its own slice, whose Adagrad starts at an accumulator of 1e-6 (LEARNING_DEFAULTS.pairOptimizer): its first steps go ~10x as far as the vec slice's 1e-4 would take them", async (t) => {
  const stream = new PlantedCtr({ seed: 4, sparseSlots: 3, multiValuedSlots: 0, vocabRange: [20, 40], denseFeatures: 0, interactions: 1 });
  const train = plantedBatches(stream, 512, 256);
  const ids = BigInt64Array.from({ length: 5 }, (_, i) => (1n << 54n) | BigInt(i + 1));
  const pairColumns = async (extra: Record<string, unknown>) => {
    const res = await trainEpochs({ model: { url: DEEP_FWFM, options: { sparseSlots: 3, denseFeatures: 0, hidden: [], fieldAwarePairs: false, ...extra } }, workers: 0, trainSource: () => train, heldOut: () => train.slice(0, 1), epochs: 1 });
    const rows = res.tables['fc_slot_1']!.lookup(ids);
    return Array.from({ length: 5 }, (_, i) => Array.from(rows.subarray(i * 18 + 9, i * 18 + 17)));
  };
  const fresh = await trainEpochs({ model: { url: DEEP_FWFM, options: { sparseSlots: 3, denseFeatures: 0, hidden: [], fieldAwarePairs: false } }, workers: 0, trainSource: () => [], heldOut: () => train.slice(0, 1), epochs: 1 });
  const start = Array.from({ length: 5 }, (_, i) => Array.from(fresh.tables['fc_slot_1']!.lookup(ids).subarray(i * 18 + 9, i * 18 + 17)));
  const moved = (after: number[][]) => after.flat().reduce((a, v, k) => a + Math.abs(v - start.flat()[k]!), 0);
  const shipped = moved(await pairColumns({}));
  const slow = moved(await pairColumns({ pairOptimizer: { adagrad: { learningRate: 0.05, initialAccumulatorValue: 1e-4 } } }));
  t.log(`pair factors moved (sum |Δ| over 5 ids): accumulator 1e-6 ${shipped.toExponential(2)}, 1e-4 ${slow.toExponential(2)}`);
  t.true(shipped > 5 * slow, `${shipped} vs ${slow}`);
});
