import test from 'ava';
// Through the package entry, as a user reaches the dense step.
import { ConfigError, DeepFMModel, TrainStep, createModelTables, createSharedDenseParams, initBackend, type ModelSpec } from 'monolith-ts';
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
