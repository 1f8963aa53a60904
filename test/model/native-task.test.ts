import test from 'ava';
import { ConfigError } from '../../src/errors.js';
import { FeatureSlot } from '../../src/model/feature-slot.js';
import { NativeContext, SlotCollector } from '../../src/model/native-context.js';
import { NativeTask } from '../../src/model/native-task.js';
import { monolithBaseModelParams, monolithModelParams, nativeTaskParams, withOverrides } from '../../src/model/params.js';

test('NativeTask.params(): every metrics / train / serving default of Monolith', (t) => {
  const p = nativeTaskParams();
  t.deepEqual(p.metrics, {
    enableDeepInsight: false,
    deepInsightTarget: 'ctr_head',
    deepInsightName: null,
    deepInsightSampleRatio: 0.01,
    extraFieldsKeys: [],
    enableThroughputHook: true,
    enableKafkaMetrics: false,
    enableTf2ProfilerHook: true,
    enableFileMetrics: false,
    fileBaseName: '/vepfs/jaguar_deepinsight_results',
    fileExt: 'txt',
    parseFn: null,
    keyFn: null,
    layoutFn: null,
    dumpFilename: '',
    useDataService: false,
  });
  t.is(p.mode, 'train');
  t.like(p.train, {
    maxPendingSecondsForBarrier: 30,
    slowStartSteps: 0,
    sampleBias: 0,
    useGpuEmbTable: false,
    useFountain: false,
    fountainZkHost: '',
    fountainModelName: '',
    fountainParseOnServer: false,
    fountainPrecomputeValueRowids: false,
    perReplicaBatchSize: null,
    labelKey: 'label',
    repeat: false,
  });
  t.deepEqual(p.serving, {
    exportWithGpuAllowed: false,
    exportWithClearedEntryDevices: false,
    exportWhenSaving: false,
    exportDirBase: 'exported_models',
    exportMode: 'distributed',
    sharedEmbedding: true,
    withRemoteGpu: false,
  });
  t.deepEqual(p.eval, { perReplicaBatchSize: null, stepsPerEval: 10000, steps: null });
});

test('MonolithBaseModel / MonolithModel params and their defaults', (t) => {
  t.like(monolithBaseModelParams(), {
    outputPath: null,
    outputFields: null,
    delimiter: '\t',
    fileName: '',
    enableGradsAndVarsSummary: false,
    denseWeightDecay: 0,
    clipNorm: 1000,
    sparseNormWarmupSteps: null,
    defaultOccurrenceThreshold: 0,
  });
  t.is(monolithModelParams().featureList, null);
});

test('params are fresh objects; overrides merge group by group', (t) => {
  const a = nativeTaskParams();
  a.metrics.extraFieldsKeys.push('x');
  t.deepEqual(nativeTaskParams().metrics.extraFieldsKeys, [], 'no shared mutable default (Monolith shares the list)');
  const p = withOverrides(nativeTaskParams(), { train: { perReplicaBatchSize: 32 }, metrics: { enableKafkaMetrics: true } });
  t.is(p.train.perReplicaBatchSize, 32);
  t.is(p.train.maxPendingSecondsForBarrier, 30);
  t.true(p.metrics.enableKafkaMetrics);
  t.is(p.metrics.deepInsightTarget, 'ctr_head');
});

class Task extends NativeTask {}

test('batchSize reads train or eval per_replica_batch_size by mode and sets both', (t) => {
  const task = new Task(nativeTaskParams());
  task.p.train.perReplicaBatchSize = 64;
  task.p.eval.perReplicaBatchSize = 16;
  t.is(task.batchSize, 64);
  task.p.mode = 'eval';
  t.is(task.batchSize, 16);
  task.batchSize = 8;
  t.is(task.p.train.perReplicaBatchSize, 8);
  t.is(task.p.eval.perReplicaBatchSize, 8);
  t.is(task.createServingInputReceiverFn(), null);
});

test('NativeContext: feature_factory and layout_factory are mutually exclusive', (t) => {
  const layoutFactory = { createFeatureSlot: () => null as unknown as FeatureSlot, getLayout: () => [] };
  const err = t.throws(() => new NativeContext({ featureFactory: new SlotCollector(), layoutFactory }), { instanceOf: ConfigError });
  t.is(err?.message, 'Cannot set feature_factory and layout_factory in the same time');
});

test('NativeContext delegates slots, gradients and async functions', (t) => {
  const calls: string[] = [];
  const collector = new SlotCollector();
  const ctx = new NativeContext({
    featureFactory: Object.assign(collector, { applyGradients: (_g: unknown, scale: number) => calls.push(`feature:${scale}`) }),
    asyncFunctionMgr: { addAsyncFunction: (_f, o) => calls.push(`async:${o.queueName}:${String(o.isAsync)}`) },
  });
  const slot = ctx.createFeatureSlot({ name: 'a', slotId: 3 });
  t.is(collector.slots[0], slot);
  ctx.applyEmbeddingGradients([], 2);
  ctx.addAsyncFunction(() => 1, { isAsync: true });
  const layoutSlots: string[] = [];
  const fused = new NativeContext({
    layoutFactory: {
      createFeatureSlot: (c) => {
        layoutSlots.push(c.name!);
        return collector.createFeatureSlot(c);
      },
      applyGradients: () => calls.push('layout'),
      getLayout: () => [],
    },
  });
  fused.createFeatureSlot({ name: 'b' });
  fused.applyEmbeddingGradients([], 5);
  t.deepEqual(calls, ['feature:2', 'async:async_queue:true', 'layout']);
  t.deepEqual(layoutSlots, ['b']);
  t.throws(() => new NativeContext().createFeatureSlot({ name: 'x' }), { instanceOf: ConfigError });
  t.throws(() => new NativeContext({ featureFactory: new SlotCollector() }).applyEmbeddingGradients([]), { instanceOf: ConfigError });
});
