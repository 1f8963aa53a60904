import test from 'ava';
import type { Batch } from '../../src/batch/batch.js';
import { PlantedCtr, trainEpochs } from '../../src/index.js';
import { initBackend } from '../../src/workers/tf-backend.js';

const DEEPFM = new URL('../../src/model/models/deepfm.js', import.meta.url).href;

test.before(async () => {
  await initBackend('cpu');
});

function batches(stream: PlantedCtr, rows: number, size: number): Batch[] {
  const out: Batch[] = [];
  for (let i = 0; i < rows; i += size) out.push(stream.nextBatch(Math.min(size, rows - i)));
  return out;
}

// Monolith's slot defaults as DeepFM used them before: FTRL α 0.01 β 1 without L1/L2, Adagrad lr 0.001 (accumulator 1),
// uniform ±0.05 embeddings, dense Adagrad 0.01.
const MONOLITH_SLOT_DEFAULTS = {
  biasOptimizer: { ftrl: { initialAccumulatorValue: 1e-6, beta: 1.0 } },
  vecOptimizer: { adagrad: { initialAccumulatorValue: 1.0 } },
  vecInitializer: { randomUniform: {} },
  denseOptimizer: { name: 'adagrad', learningRate: 0.01 },
};

test('shipped DeepFM defaults learn on the harder planted stream in one pass (Monolith slot defaults do not)', async (t) => {
  const stream = new PlantedCtr({ seed: 2, sparseSlots: 10, multiValuedSlots: 3 });
  const train = batches(stream, 8192, 256);
  const held = batches(stream, 3072, 1024);
  const auc = async (extra: Record<string, unknown>) => {
    const res = await trainEpochs({
      model: { url: DEEPFM, options: { sparseSlots: 10, denseFeatureNames: stream.denseNames, ...extra } },
      workers: 0,
      deterministic: true,
      trainSource: () => train,
      heldOut: () => held,
      epochs: 1,
    });
    return res.best.heldOutAuc;
  };
  const shipped = await auc({});
  const monolith = await auc(MONOLITH_SLOT_DEFAULTS);
  t.log(`held-out AUC: shipped defaults ${shipped.toFixed(4)}, Monolith slot defaults ${monolith.toFixed(4)}`);
  t.true(shipped > 0.68, `shipped defaults: held-out AUC ${shipped}`);
  t.true(shipped - monolith > 0.05, `shipped ${shipped} vs Monolith slot defaults ${monolith}`);
});
