import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { DumpUtils, runTask, type MetricsClient } from 'monolith-ts';
import { tempDir } from '../helpers.js';
import { ctrBatches, seenByHook } from './fixtures/ctr-task.js';

const url = new URL('./fixtures/ctr-task.js', import.meta.url).href;

/** Records every point. */
function recorder() {
  const points: { kind: string; name: string; value: number }[] = [];
  const client: MetricsClient = {
    emitCounter: (name, value) => void points.push({ kind: 'counter', name, value }),
    emitTimer: (name, value) => void points.push({ kind: 'timer', name, value }),
    emitStore: (name, value) => void points.push({ kind: 'store', name, value }),
  };
  return { client, names: () => new Set(points.map((p) => p.name)), points };
}

/** A clock that moves 31 s each time it is read (throughput points are due at every step). */
function fastClock(): SchedulerLike {
  let t = 1_700_000_000_000;
  return { now: () => (t += 31_000), schedule: asyncScheduler.schedule.bind(asyncScheduler) };
}

const list = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).sort();

test('train: the hooks the params enable run (throughput, step loss, per-head AUC), a disabled one does not', async (t) => {
  const on = recorder();
  const s = await runTask({ task: { url, options: { params: { metrics: { enableThroughputHook: true } } } }, source: ctrBatches(6), workers: 1, metricsClient: on.client, scheduler: fastClock() });
  t.is(s.steps, 6);
  t.is(s.mode, 'train');
  t.true(on.names().has('run_steps.all'), 'throughput hook');
  t.is(on.points.filter((p) => p.name === 'step_loss').length, 6, 'step loss hook');
  t.true(on.names().has('ctr_auc'), 'per-head AUC emitted');
  t.true(s.metrics.ctr_auc! > 0 && s.metrics.ctr_auc! <= 1);
  t.deepEqual(s.nodes, ['throughput', 'step-loss', 'head-metrics']);

  const off = recorder();
  const s2 = await runTask({ task: { url, options: { params: { metrics: { enableThroughputHook: false } } } }, source: ctrBatches(6), workers: 1, metricsClient: off.client, scheduler: fastClock() });
  t.false(off.names().has('run_steps.all'));
  t.false(s2.nodes.includes('throughput'));
});

test('addTrainingHook with an operator: the runner attaches it after the step', async (t) => {
  seenByHook.length = 0;
  const s = await runTask({ task: { url, options: { hook: true, params: { metrics: { enableThroughputHook: false } } } }, source: ctrBatches(4), workers: 0, deterministic: true });
  t.true(s.nodes.includes('seen'));
  t.deepEqual(seenByHook, [1, 2, 3, 4]);
});

test('serving.export_when_saving exports at every checkpoint with export_dir_base and export_mode, with a model dump', async (t) => {
  const modelDir = await tempDir();
  const params = { train: { saveCheckpointsSteps: 2 }, serving: { exportWhenSaving: true, exportDirBase: 'exp', exportMode: 'standalone' as const, sharedEmbedding: false }, metrics: { enableTf2ProfilerHook: false } };
  const s = await runTask({ task: { url, options: { params } }, source: ctrBatches(4), workers: 1, deterministic: true, modelDir });
  t.deepEqual(await list(join(modelDir, 'exp')), ['2', '4', 'ExportSaverListenerState']);
  t.deepEqual(s.exports, [join(modelDir, 'exp', '2'), join(modelDir, 'exp', '4')]);
  const dump = await DumpUtils.load(join(modelDir, 'exp', '4', 'assets.extra', 'model_dump'));
  t.deepEqual(Object.keys(dump.featureSliceDims).sort(), ['fc_slot_1', 'fc_slot_2']);

  const dist = await tempDir();
  await runTask({ task: { url, options: { params: { ...params, serving: { ...params.serving, exportMode: 'distributed' as const } } } }, source: ctrBatches(2), workers: 1, modelDir: dist });
  t.deepEqual(await list(join(dist, 'exp')), ['entry', 'ps_0']);

  const none = await tempDir();
  await runTask({ task: { url, options: { params: { ...params, serving: { ...params.serving, exportWhenSaving: false } } } }, source: ctrBatches(2), workers: 1, modelDir: none });
  t.deepEqual(await list(join(none, 'exp')), []);
});

test('metrics.enable_tf2_profiler_hook profiles the step workers into the model dir; off, nothing is written', async (t) => {
  const modelDir = await tempDir();
  const profiler = { initStepRange: [0, 3] as [number, number], saveSteps: 100 };
  await runTask({ task: { url }, source: ctrBatches(4), workers: 1, modelDir, profiler });
  const [run] = await list(join(modelDir, 'plugins', 'profile'));
  t.truthy(run);
  t.true((await list(join(modelDir, 'plugins', 'profile', run!))).some((f) => /\.worker-\d+\.cpuprofile$/.test(f)));
  const off = await tempDir();
  await runTask({ task: { url, options: { params: { metrics: { enableTf2ProfilerHook: false } } } }, source: ctrBatches(4), workers: 1, modelDir: off, profiler });
  t.deepEqual(await list(join(off, 'plugins')), []);
});

test('predict mode writes the prediction file of output_path / output_fields', async (t) => {
  const out = await tempDir();
  const s = await runTask({ task: { url, options: { params: { outputPath: out, outputFields: 'uid', delimiter: ',' } } }, source: ctrBatches(2, 4), workers: 1, mode: 'predict' });
  t.is(s.mode, 'infer');
  const lines = (await readFile(join(out, 'part-00000'), 'utf8')).trim().split('\n');
  t.is(lines.length, 8);
  t.regex(lines[0]!, /^1,0\.\d+$/);
});

test('file metrics with deep insight write the sampled messages under file_base_name', async (t) => {
  const base = await tempDir();
  const params = { metrics: { enableFileMetrics: true, deepInsightSampleRatio: 1, deepInsightName: 'ctr_model', fileBaseName: base, enableThroughputHook: false } };
  const s = await runTask({ task: { url, options: { params } }, source: ctrBatches(2, 4), workers: 1 });
  t.true(s.nodes.includes('file-metrics'));
  const [model] = await list(base);
  t.is(model, 'ctr_model');
  const [date] = await list(join(base, 'ctr_model'));
  const files = await list(join(base, 'ctr_model', date!, 'worker_0'));
  const text = (await Promise.all(files.map((f) => readFile(join(base, 'ctr_model', date!, 'worker_0', f), 'utf8')))).join('');
  t.is(text.trim().split('\n').length, 8, 'one message per sampled row');
});

test('Kafka metrics with deep insight send the messages to the topic (librdkafka mock cluster)', async (t) => {
  const { startMockKafka, readMessages } = await import('../streams/sinks/kafka-mock.js');
  const kafka = await startMockKafka();
  t.teardown(() => kafka.close());
  const params = { metrics: { enableKafkaMetrics: true, deepInsightSampleRatio: 1, deepInsightName: 'ctr_model', enableThroughputHook: false } };
  const s = await runTask({ task: { url, options: { params } }, source: ctrBatches(1, 4), workers: 0, kafka: { brokers: kafka.bootstrap, topic: 'deep_insight' } });
  t.true(s.nodes.includes('kafka-metrics'));
  const msgs = (await readMessages(kafka.bootstrap, 'deep_insight', 4)).map((m) => JSON.parse(m) as Record<string, unknown>);
  t.deepEqual(msgs.map((m) => m.uid).sort(), ['1', '2', '3', '4']);
  t.like(msgs[0], { model_name: 'ctr_model', req_time: 1_700_000_000, targets: ['ctr'] });
});

test('deep insight without a metric hook writes its messages to dump_filename.part-<worker>', async (t) => {
  const dir = await tempDir();
  const params = { metrics: { enableDeepInsight: true, deepInsightSampleRatio: 1, dumpFilename: join(dir, 'di'), enableThroughputHook: false } };
  const s = await runTask({ task: { url, options: { params } }, source: ctrBatches(2, 4), workers: 0, workerIndex: 3 });
  t.true(s.nodes.includes('deep-insight-dump'));
  const lines = (await readFile(join(dir, 'di.part-00003'), 'utf8')).trim().split('\n');
  t.is(lines.length, 8);
  t.like(JSON.parse(lines[0]!), { model_name: 'model_name', uid: '1' });
});

test('train() takes a task module too: its params (clip_norm here) act in the worker threads', async (t) => {
  const { train, createSharedDenseParams } = await import('monolith-ts');
  const { createTask } = await import('./fixtures/ctr-task.js');
  const { initBackend } = await import('../../src/workers/tf-backend.js');
  await initBackend('cpu');
  const moved = async (clipNorm: number) => {
    const spec = createTask({ params: { clipNorm } }).toModelSpec();
    const dense = createSharedDenseParams(spec);
    const before = Float32Array.from(dense.flatWeights);
    await train({ model: { url, options: { params: { clipNorm } } }, source: ctrBatches(3), workers: 1, deterministic: true, dense });
    return Math.hypot(...Array.from(dense.flatWeights, (v, i) => v - before[i]!));
  };
  const free = await moved(1000);
  const clipped = await moved(1e-5);
  t.true(clipped <= 3 * 0.05 * 1e-5 + 1e-9, `clipped ${clipped}`);
  t.true(free > 100 * clipped, `free ${free}`);
});

test("params.mode 'eval': the train run evaluates the restored checkpoint (metrics, no updates)", async (t) => {
  const modelDir = await tempDir();
  const base = { metrics: { enableTf2ProfilerHook: false, enableThroughputHook: false } };
  const trained = await runTask({ task: { url, options: { params: base } }, source: ctrBatches(3), workers: 1, deterministic: true, modelDir });
  t.is(trained.globalStep, 3);
  const evaluated = await runTask({ task: { url, options: { params: { ...base, mode: 'eval' as const } } }, source: ctrBatches(2, 16, 9), workers: 1, modelDir });
  t.is(evaluated.mode, 'eval');
  t.is(evaluated.restoredStep, 3);
  t.is(evaluated.globalStep, 3, 'no step was applied');
  t.true(evaluated.metrics.ctr_auc! > 0);
  t.false(evaluated.nodes.includes('step-loss'));
});
