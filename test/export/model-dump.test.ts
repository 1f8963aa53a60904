import test from 'ava';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { DumpUtils, StandaloneExporter, DistributedExporter, createModelTables } from 'monolith-ts';
import { liveParams } from '../../src/export/params-source.js';
import { createModel } from './fixtures/tiny-model.js';
import { ConfigError, FormatError } from '../../src/errors.js';
import { FnModel, logitOf } from '../model/helpers.js';
import { useCpu } from '../model/tf-setup.js';
import { tempDir } from '../helpers.js';

test.before(useCpu);

/** Slots 1 and 2 (slice `vec`, dim 2 each, slot 2 with occurrence threshold 3), one extra output, one extra loss. */
const model = () =>
  new FnModel(
    (m) => {
      m.createEmbeddingFeatureColumn(1);
      m.createEmbeddingFeatureColumn(2, { occurrenceThreshold: 3, expireTime: 7 });
      const e = m.lookupEmbeddingSlice([1, 2], 'vec', { sliceDim: 2, outType: 'concat' }) as SymbolicTensor;
      const logit = logitOf(e);
      m.addExtraOutput('emb', { emb: e });
      m.addLoss(() => undefined as never);
      return { heads: [{ name: 'ctr', logit }] };
    },
    { name: 'dumped' },
  );

test("a model's dump holds its own feature and slice records, written on export and read back", async (t) => {
  const m = model();
  const spec = m.toModelSpec();
  const dump = new DumpUtils();
  dump.recordModel(m, spec);
  t.true(dump.hasCollected());
  const base = await tempDir();
  const exporter = new StandaloneExporter({ spec, exportDirBase: base, params: liveParams(spec.buildDense(), createModelTables(spec)), warmupFile: false, modelDump: dump, clock: () => 1700000000 });
  const dir = await exporter.exportSavedModel();
  const back = await DumpUtils.load(join(dir, 'assets.extra', 'model_dump'));
  const d = back.dump;
  t.is(d.modelName, 'dumped');
  t.deepEqual(d.features, m.dumpRecord().features, 'the records MonolithModel kept, unchanged');
  t.like(d.features[1], { featureName: 'fc_slot_2', slot: 2, occurrenceThreshold: 3, expireTime: 7, combiner: 'reduce_sum' });
  t.deepEqual(d.slices, JSON.parse(JSON.stringify(m.dumpRecord().slices)));
  t.like(d.slices[0], { sliceName: 'vec', sliceDim: 2, outType: 'concat' });
  t.deepEqual(Object.keys(d.layouts), Object.keys(m.dumpRecord().layouts));
  t.deepEqual(d.extraOutputs, ['emb']);
  t.is(d.extraLosses, 1);
  t.deepEqual(back.featureSliceDims, { fc_slot_1: [2], fc_slot_2: [2] });
  t.deepEqual(back.featureCombiners, { fc_slot_1: 'reduce_sum', fc_slot_2: 'reduce_sum' });
  t.deepEqual(back.tableConfigs, JSON.parse(JSON.stringify(spec.tables)));
  t.is(back.slotToOccurrenceThreshold().get(2), 3);
  t.is(back.slotToExpireTime().get(2), 7);
  t.is((d.params as { clipNorm?: number }).clipNorm, 1000, 'params are the model params');
  t.true(d.signatures.some((s) => s.name === 'serving_default'), 'the export signatures are recorded');
  t.deepEqual(d.heads, spec.heads);
});

test('a distributed export writes the dump into the entry, naming its parameter servers', async (t) => {
  const spec = createModel();
  const dump = new DumpUtils();
  dump.recordModelSpec(spec);
  const base = await tempDir();
  const out = await new DistributedExporter({ spec, exportDirBase: base, numPs: 2, params: liveParams(spec.buildDense(), createModelTables(spec)), warmupFile: false, modelDump: dump }).exportSavedModel();
  const back = await DumpUtils.load(join(out.entry!, 'assets.extra', 'model_dump'));
  t.deepEqual(back.dump.subModels, { ps: ['ps_0', 'ps_1'] });
  t.deepEqual(back.featureCombiners, { user: 'reduce_sum', item: 'reduce_mean', item_hist: 'first_n' });
});

test('model dump refuses code: learning-rate functions, non-data records, half collections, other files', async (t) => {
  const d = new DumpUtils();
  const slice = { features: ['f'], sliceName: 'vec', sliceDim: 2, layoutName: 'vec', groupOutType: 'none', outType: null, initializer: null, optimizer: null, compressor: null, learningRate: null, outputShapes: [] };
  t.throws(() => d.recordSlice({ ...slice, learningRateFn: () => 0.1 }), { instanceOf: ConfigError, message: /learning_rate_fn/ });
  t.throws(() => d.recordSlice({ ...slice, initializer: (() => 1) as never }), { instanceOf: ConfigError });
  d.recordSlice(slice);
  t.throws(() => d.hasCollected(), { instanceOf: ConfigError, message: /half collected/ });
  const file = join(await tempDir(), 'x');
  await writeFile(file, '{"format":"pickle"}');
  await t.throwsAsync(DumpUtils.load(file), { instanceOf: FormatError });
});
