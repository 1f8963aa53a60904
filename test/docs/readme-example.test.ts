import test from 'ava';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// The README's online-training example, run with a generated topic stand-in and a small budget.
import {
  ExportSaverListener,
  PrometheusMetricsClient,
  StandaloneExporter,
  SyntheticCtr,
  checkpointParams,
  initBackend,
  loadModel,
  stepLossMetric,
  throughputMetric,
  train,
  type SourceBatch,
} from '../../src/index.js';

test('README: online training with metrics, checkpoints and export on save in a dozen lines', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'readme-'));
  const stream = new SyntheticCtr({ seed: 3, sparseSlots: 4, vocabSize: 50 });
  // In the README the source is kafkaSource({ brokers, topics, groupId, variant: 'instance', parse, batchSize }).
  const source = (function* (): Generator<SourceBatch> {
    for (let i = 0; i < 12; i++) yield { batch: stream.nextBatch(64) };
  })();
  await initBackend('cpu');

  // --- README example starts (paths and sizes shrunk) ---
  const model = { url: new URL('../../src/model/models/deepfm.js', import.meta.url).href, options: { sparseSlots: 4, hidden: [16] } };
  const spec = await loadModel(model);
  const ckpt = join(dir, 'ckpt');
  const exporter = new StandaloneExporter({ spec, exportDirBase: join(dir, 'export'), params: checkpointParams(spec, ckpt) });
  const metrics = new PrometheusMetricsClient();
  const summary = await train({
    model,
    source,
    workers: 2,
    deterministic: true,
    hooks: [throughputMetric({ modelName: 'ctr', client: metrics }), stepLossMetric({ client: metrics })],
    checkpoint: { dir: ckpt, everySteps: 5, listeners: [new ExportSaverListener({ modelDir: ckpt, exporter }).asCheckpointListener()] },
  });
  // --- README example ends ---

  t.is(summary.steps, 12);
  t.is(summary.globalStep, 12);
  t.true((await readdir(join(dir, 'export'))).length >= 2, 'exported on every checkpoint');
  t.regex(await metrics.text(), /step_loss/);
  await metrics.close();
});
