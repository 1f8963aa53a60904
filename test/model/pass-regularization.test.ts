import test from 'ava';
import { PlantedCtr, trainEpochs, type EmbeddingHashTable } from 'monolith-ts';
import { initBackend } from '../../src/workers/tf-backend.js';
import { plantedBatches } from './planted-batches.js';

const DEEPFM = import.meta.resolve('monolith-ts/models/deepfm');

test.before(async () => {
  await initBackend('cpu');
});

/** Sum of squared embedding values over every entry of the tables. */
function squaredNorm(tables: Record<string, EmbeddingHashTable>): number {
  let s = 0;
  for (const t of Object.values(tables)) {
    const out = new Float32Array(t.dim);
    t.shards.forEach((_, k) =>
      t.forEachEntry(k, (_lo, _hi, row, sh) => {
        for (const v of t.readEmbedding(sh, row, out)) s += v * v;
      }),
    );
  }
  return s;
}

test("trainEpochs scales the tables' L2 regularization by the pass number: the first pass is unchanged, the second trains against a prior twice as strong and holds better", async (t) => {
  const stream = new PlantedCtr({ seed: 6 });
  const train = plantedBatches(stream, 24576, 512);
  const held = plantedBatches(stream, 4096, 1024);
  const run = async (scaleRegularizationByPass: boolean) => {
    const res = await trainEpochs({ model: { url: DEEPFM, options: { sparseSlots: stream.slots, denseFeatureNames: stream.denseNames } }, workers: 1, trainSource: () => train, heldOut: () => held, epochs: 2, scaleRegularizationByPass, leaveOutRareIds: 0 });
    return { auc: res.epochs.map((e) => e.heldOutAuc), norm: squaredNorm(res.tables) };
  };
  const on = await run(true);
  const off = await run(false);
  const f = (a: number[]) => a.map((x) => x.toFixed(4)).join(' → ');
  t.log(`held-out AUC pass 1 → pass 2: scaled ${f(on.auc)}, not scaled ${f(off.auc)}; squared norm of the tables: ${on.norm.toFixed(2)} vs ${off.norm.toFixed(2)}`);
  t.is(on.auc[0], off.auc[0], 'pass 1 trains with the configured strengths');
  t.true(on.norm < off.norm, `scaled ${on.norm} vs not ${off.norm}`);
  t.true(on.auc[1]! - on.auc[0]! > off.auc[1]! - off.auc[0]!, `scaled ${f(on.auc)} vs not ${f(off.auc)}`);
});
