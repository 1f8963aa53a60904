import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Batch } from '../../src/batch/batch.js';
import { ConfigError } from '../../src/errors.js';
import { DuplicateOutputError, ModeError } from '../../src/model/errors.js';
import type { MetricHookRequest } from '../../src/model/model-function.js';
import type { MonolithModelParams, ParamsOverrides } from '../../src/model/params.js';
import { StreamingAuc } from '../../src/model/metrics/streaming-auc.js';
import { StreamingMse } from '../../src/model/metrics/streaming-mse.js';
import { tempDir } from '../helpers.js';
import { FnModel, logitOf } from './helpers.js';
import { useCpu } from './tf-setup.js';

test.before(useCpu);

/** Two heads: ctr (classification, label 0) and dwell (regression, label 1). */
function twoHeads(params: ParamsOverrides<MonolithModelParams> = {}, extra?: (m: FnModel) => void) {
  return new FnModel((m) => {
    m.createEmbeddingFeatureColumn(1);
    const e = m.lookupEmbeddingSlice([1], 'vec', { sliceDim: 2 }) as SymbolicTensor[];
    extra?.(m);
    return {
      heads: [
        { name: 'ctr', logit: logitOf(e) },
        { name: 'dwell', logit: logitOf(e), kind: 'regression', labelIndex: 1 },
      ],
    };
  }, params);
}

const batch = (): Batch => ({
  rows: 4,
  sparse: [],
  dense: [],
  labels: Float32Array.from([0, 1, 0, 2, 1, 3, 1, 4]),
  labelWidth: 2,
  lineId: [{ name: 'uid', values: BigUint64Array.from([1n, 2n, 3n, 4n]) }],
});
const logits = [Float32Array.from([-2, -1, 0.5, 1]), Float32Array.from([1, 2, 3, 5])];

test('TRAIN: AUC per classification head, MSE per regression head, no file', async (t) => {
  const dir = await tempDir();
  const fn = twoHeads({ outputPath: dir, outputFields: 'uid', clipNorm: 5 }).createModelFn()('train');
  t.is(fn.mode, 'train');
  t.true(fn.metrics.get('ctr') instanceof StreamingAuc);
  t.true(fn.metrics.get('dwell') instanceof StreamingMse);
  t.is(fn.output, null);
  const preds = await fn.observe({ batch: batch(), logits });
  t.is(preds[1]![3], 5, 'regression predictions are the logits');
  t.true(Math.abs(preds[0]![0]! - 1 / (1 + Math.exp(2))) < 1e-7);
  // ctr labels [0, 0, 1, 1] with increasing logits → AUC 1; dwell labels [1, 2, 3, 4] vs [1, 2, 3, 5] → MSE 1/4.
  t.deepEqual(fn.metricValues(), { ctr_auc: 1, dwell_mse: 0.25 });
  t.deepEqual(fn.headNames, ['ctr', 'dwell']);
});

test('_get_real_mode: TRAIN runs as params.mode (EVAL here); EVAL passed directly is an error', async (t) => {
  const dir = await tempDir();
  const model = twoHeads({ mode: 'eval', outputPath: dir, outputFields: 'uid', delimiter: ',' });
  t.is(model.getRealMode('infer'), 'infer');
  t.is(model.getRealMode('train'), 'eval');
  const err = t.throws(() => model.getRealMode('eval'), { instanceOf: ModeError });
  t.is(err?.message, 'model error!');
  t.throws(() => model.createModelFn()('eval'), { instanceOf: ModeError });

  const fn = model.createModelFn()('train', { workerIndex: 2 });
  t.is(fn.mode, 'eval');
  t.is(fn.train, null, 'no gradients in EVAL');
  t.is(fn.metrics.size, 2);
  await fn.observe({ batch: batch(), logits });
  await fn.close();
  const text = await readFile(join(dir, 'part-00002'), 'utf8');
  t.is(text.split('\n')[0], '1,0.119202919,1', 'float32 sigmoid(-2) printed with 9 digits');
  t.is(text.split('\n').length, 5);
});

test('PREDICT: predictions per head, a prediction file unless exporting, no metrics', async (t) => {
  const dir = await tempDir();
  const model = twoHeads({ outputPath: dir, outputFields: 'uid' });
  const fn = model.createModelFn()('infer');
  t.is(fn.metrics.size, 0);
  t.is(fn.deepInsight, null);
  t.deepEqual(Object.keys(fn.predictionDict(logits)), ['ctr', 'dwell']);
  await fn.observe({ batch: batch(), logits });
  await fn.close();
  t.is((await readFile(join(dir, 'part-00000'), 'utf8')).split('\n')[3], '4\t0.731058598\t5');
  t.is(model.createModelFn()('infer', { exporting: true }).output, null);
  t.is(twoHeads().createModelFn()('infer').output, null, 'no output path, no file');
  t.throws(() => twoHeads({ outputPath: dir }).createModelFn()('infer'), { instanceOf: ConfigError, message: /output_fields/ });
  t.is(twoHeads().createModelFn()('train', { disableNativeMetrics: true }).metrics.size, 0);
});

test('deep insight: on with Kafka / file / deep-insight metrics and a positive sample ratio; one Kafka hook', (t) => {
  const reqs: MetricHookRequest[] = [];
  const metricHookFactory = (r: MetricHookRequest) => {
    reqs.push(r);
    return { kind: r.kind };
  };
  const fn = twoHeads({ metrics: { enableKafkaMetrics: true, enableFileMetrics: true, dumpFilename: 'di', deepInsightName: 'm1' } }, (m) => m.addTrainingHook({ kind: 'kafka' })).createModelFn()('train', { workerIndex: 7, metricHookFactory });
  t.deepEqual(fn.deepInsight, {
    modelName: 'm1',
    target: 'ctr_head',
    targets: ['ctr', 'dwell'],
    sampleRatio: 0.01,
    extraFieldsKeys: [],
    enableKafkaMetrics: true,
    dumpFilename: 'di.part-00007',
    hook: { kind: 'kafka' },
  });
  t.deepEqual(reqs, [{ kind: 'kafka' }]);
  t.deepEqual(fn.trainingHooks, [{ kind: 'kafka' }], 'a second Kafka hook is ignored');

  const file = twoHeads({ metrics: { enableFileMetrics: true } }).createModelFn()('train', { workerIndex: 1, metricHookFactory });
  t.like(file.deepInsight, { modelName: 'model_name', dumpFilename: null, enableKafkaMetrics: true, hook: { kind: 'file', workerId: 1, baseName: '/vepfs/jaguar_deepinsight_results', fileExt: 'txt' } });
  t.deepEqual(file.trainingHooks, [{ kind: 'file' }]);
  t.like(twoHeads({ metrics: { enableDeepInsight: true } }).createModelFn()('train').deepInsight, { enableKafkaMetrics: false, hook: null });
  t.is(twoHeads({ metrics: { enableDeepInsight: true, deepInsightSampleRatio: 0 } }).createModelFn()('train').deepInsight, null);
  t.is(twoHeads().createModelFn()('train').deepInsight, null);
});

test('training hooks, extra outputs and extra losses', (t) => {
  const model = twoHeads({}, (m) => {
    m.addTrainingHook({ kind: 'file' });
    m.addTrainingHook({ kind: 'file' });
    m.addTrainingHook({ kind: 'profiler' });
    m.addTrainingHook({ kind: 'profiler' });
    m.addExtraOutput('user_emb', m.lookupEmbeddingSlice([1], 'vec', { sliceDim: 2 }) as never);
    m.addLoss(() => tf.scalar(10));
    m.addLoss([() => tf.scalar(1), () => tf.scalar(0.5)]);
  });
  const fn = model.createModelFn()('train');
  t.deepEqual(fn.trainingHooks.map((h) => h.kind), ['file', 'profiler', 'profiler']);
  t.deepEqual(fn.signatureNames, ['user_emb']);
  t.deepEqual(fn.exportOutputNames, [], 'export outputs are kept only while exporting');
  t.deepEqual(model.createModelFn()('infer', { exporting: true }).exportOutputNames, ['user_emb']);
  const inputs = { logits: [tf.tensor2d([[0], [0]]), tf.tensor2d([[1], [1]])], labels: tf.tensor2d([[1, 1], [0, 3]]) };
  // default loss: mean xent of logit 0 = ln 2, plus mean squared error ((1−1)² + (1−3)²)/2 = 2; extras 11.5.
  const loss = fn.spec.loss!(inputs).arraySync() as number;
  t.true(Math.abs(loss - (Math.LN2 + 2 + 11.5)) < 1e-5, String(loss));

  const dup = twoHeads({}, (m) => {
    const e = m.lookupEmbeddingSlice([1], 'vec', { sliceDim: 2 }) as never;
    m.addExtraOutput('x', e);
    m.addExtraOutput('x', e);
  });
  const err = t.throws(() => dup.toModelSpec(), { instanceOf: DuplicateOutputError });
  t.is(err?.message, 'key x exists!');
  t.is(twoHeads().toModelSpec().loss, undefined, 'no model loss and no extra loss: the runtime default applies');
});
