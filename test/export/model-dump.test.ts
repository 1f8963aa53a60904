import test from 'ava';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { DumpUtils } from '../../src/export/model-dump.js';
import { createModel } from './fixtures/tiny-model.js';
import { ConfigError, FormatError } from '../../src/errors.js';
import { tempDir } from '../helpers.js';

test('a model dump is written and read back as data', async (t) => {
  const spec = createModel();
  const d = new DumpUtils();
  t.false(d.hasCollected());
  d.recordModelSpec({ ...spec, tables: { user: { ...spec.tables.user!, occurrenceThreshold: { default: 3 }, expireTime: { default: 1, slots: { 1: 7 } } }, item: spec.tables.item! } });
  d.recordReceiver({ features: { user: { isRagged: true, dtype: 'int64' }, ctx: { isRagged: false, dtype: 'float32', lastDim: 3 } }, receiverTensors: { instances: { dtype: 'string', shape: [-1] } } });
  d.addSignatures([{ name: 'serving_default', inputs: { instances: { dtype: 'string', shape: [-1] } }, outputs: { ctr: { dtype: 'float32', shape: [-1] } } }]);
  d.addSubModel('ps', 'ps_0');
  d.recordParams({ batchSize: 64, _private: 1, fn: () => 1, nested: { a: [1, 2] } });
  t.true(d.hasCollected());
  const file = join(await tempDir(), 'model_dump');
  await d.save(file);
  const back = await DumpUtils.load(file);
  t.deepEqual(back.dump, d.dump);
  t.deepEqual(back.featureSliceDims, { user: [4], item: [4], item_hist: [4] });
  t.deepEqual(back.featureCombiners, { user: 'reduce_sum', item: 'reduce_mean', item_hist: 'first_n' });
  t.is(back.dump.params.batchSize, 64);
  t.false('_private' in back.dump.params || 'fn' in back.dump.params);
  t.deepEqual([...back.slotToOccurrenceThreshold()], [[1, 3], [2, 0], [3, 0]]);
  t.deepEqual([...back.slotToExpireTime()], [[1, 7], [2, 36500], [3, 36500]]);
  t.deepEqual(back.tableConfigs.item, spec.tables.item);
});

test('model dump refuses code: learning-rate functions, non-data records, half collections, other files', async (t) => {
  const d = new DumpUtils();
  t.throws(() => d.recordSlice({ featureName: 'f', dim: 2, learningRateFn: () => 0.1 }), { instanceOf: ConfigError, message: /learning_rate_fn/ });
  t.throws(() => d.recordFeature({ featureName: 'f', fn: () => 1 }), { instanceOf: ConfigError });
  d.recordSlice({ featureName: 'f', dim: 2 });
  t.throws(() => d.hasCollected(), { instanceOf: ConfigError, message: /half collected/ });
  const file = join(await tempDir(), 'x');
  await writeFile(file, '{"format":"pickle"}');
  await t.throwsAsync(DumpUtils.load(file), { instanceOf: FormatError });
});
