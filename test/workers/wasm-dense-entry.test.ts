import test from 'ava';
// Through the package entry, as a user reaches the dense step.
import { ConfigError, DeepFMModel, StepWorkerPool, TrainStep, createModelTables, createSharedDenseParams, initBackend, type ModelSpec } from 'monolith-ts';
import { createModel as tinyModel } from './fixtures/tiny-model.js';
import { Rng } from '../../src/util/random.js';
import { tinyBatch } from './fixtures/tiny-batches.js';

test.before(async () => {
  await initBackend('wasm');
});

const deepFm = (interaction: 'fm' | 'fwfm'): ModelSpec => new DeepFMModel({ sparseSlots: 2, embeddingDim: 4, denseFeatures: 2, hidden: [16, 8], interaction, occurrenceThreshold: 0, seed: 3 }).toModelSpec();

function train(spec: ModelSpec, denseKernel?: 'tfjs' | 'wasm') {
  const tables = createModelTables(spec);
  const dense = createSharedDenseParams(spec);
  const step = new TrainStep({ spec, tables, dense, denseKernel });
  const rng = new Rng(11);
  const results = Array.from({ length: 5 }, () => step.run(tinyBatch(rng, 32), 'train'));
  return { results, dense };
}

const maxRelDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  return m;
};

test('the shipped DeepFM trains on the wasm kernels by default (timings say so) and matches its tfjs run', (t) => {
  const spec = deepFm('fm');
  const fast = train(spec);
  const ref = train(spec, 'tfjs');
  t.true(fast.results.every((r) => r.denseKernel === 'wasm'));
  t.true(ref.results.every((r) => r.denseKernel === 'tfjs'));
  fast.results.forEach((r, i) => t.true(Math.abs(r.loss! - ref.results[i]!.loss!) < 1e-4, `loss of step ${i + 1}: ${r.loss} vs ${ref.results[i]!.loss}`));
  t.true(maxRelDiff(fast.dense.flatWeights, ref.dense.flatWeights) < 1e-4);
});

test('DeepFM with the field-weighted FM (a layer the kernels do not run) trains in tfjs; asking for wasm is a ConfigError', (t) => {
  const spec = deepFm('fwfm');
  const { results } = train(spec);
  t.true(results.every((r) => r.denseKernel === 'tfjs' && Number.isFinite(r.loss)));
  t.throws(() => train(spec, 'wasm'), { instanceOf: ConfigError, message: /FieldWeightedFm|Fwfm|weights/i });
});

test('two worker threads run the kernels over the one shared weight memory: same weights as the same steps in this thread', async (t) => {
  const options = { seed: 4, denseOptimizer: 'adagrad' as const };
  const spec = tinyModel(options);
  const batches = Array.from({ length: 6 }, (_, i) => tinyBatch(new Rng(100 + i), 16, { features: 2 }));
  const local = { tables: createModelTables(spec), dense: createSharedDenseParams(spec) };
  const step = new TrainStep({ spec, ...local });
  for (const b of batches) step.run(b, 'train');
  const shared = { tables: createModelTables(spec), dense: createSharedDenseParams(spec) };
  const pool = new StepWorkerPool({ model: { url: new URL('./fixtures/tiny-model.js', import.meta.url).href, options }, ...shared, size: 2 });
  try {
    const kernels: (string | undefined)[] = [];
    const threads = new Set<number | undefined>();
    for (const b of batches) {
      // One step in flight at a time (deterministic), whichever thread takes it.
      const r = await pool.run(b, 'train');
      kernels.push(r.denseKernel);
      threads.add(r.worker);
    }
    t.deepEqual(kernels, batches.map(() => 'wasm'));
    t.true(maxRelDiff(shared.dense.flatState, local.dense.flatState) < 1e-5);
    t.is(shared.dense.globalStep, batches.length);
    // Two evaluations at once occupy both threads; each reads the trained weights in place.
    const probe = tinyBatch(new Rng(999), 16, { features: 2 });
    const want = step.run(probe, 'eval').loss!;
    const evals = await Promise.all([pool.run(probe, 'eval'), pool.run(probe, 'eval')]);
    evals.forEach((r) => threads.add(r.worker));
    t.is(threads.size, 2);
    for (const r of evals) {
      t.is(r.denseKernel, 'wasm');
      t.true(Math.abs(r.loss! - want) < 1e-5, `${r.loss} vs ${want}`);
    }
  } finally {
    await pool.destroy();
  }
});
