import test from 'ava';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createModel } from './fixtures/tiny-model.js';
import { encodeInstances, randomRows, referencePredict, trainModel } from './fixtures/train.js';
import { StandaloneExporter, DistributedExporter } from '../../src/export/exporters.js';
import { liveParams } from '../../src/export/params-source.js';
import { loadExport } from '../../src/serving/load-export.js';
import { describeWarmupFile } from '../../src/export/warmup.js';
import { tempDir } from '../helpers.js';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, eps = 1e-5) => a.length === b.length && Array.from(a).every((x, i) => Math.abs(x - b[i]!) <= eps);

test('standalone export loads and predicts what the training-side model predicts', async (t) => {
  const tr = trainModel(createModel());
  const base = await tempDir();
  const exporter = new StandaloneExporter({ spec: tr.spec, exportDirBase: base, params: liveParams(tr.dense, tr.tables), clock: () => 1700000000 });
  const dir = await exporter.exportSavedModel();
  t.is(dir, join(base, '1700000000'));
  const files = (await readdir(dir)).sort();
  t.deepEqual(files, ['assets', 'assets.extra', 'dense', 'export.json', 'saved_model.pb']);
  const model = await loadExport(base);
  const rows = randomRows(tr, 33);
  const want = referencePredict(tr, rows);
  const got = model.predictRecords(encodeInstances(rows));
  t.true(close(got.ctr!, want.ctr!), `${Array.from(got.ctr!).slice(0, 4)} vs ${want.ctr!.slice(0, 4)}`);
  t.true(close(got.value!, want.value!));
  const warm: string[] = [];
  for await (const s of describeWarmupFile(join(dir, 'assets.extra', 'tf_serving_warmup_requests'))) warm.push(s);
  t.true(warm.length > 0);
  t.regex(warm[0]!, /signature_name: "serving_default"/);
});
