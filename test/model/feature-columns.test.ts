import test from 'ava';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { Batch } from '../../src/batch/batch.js';
import { ConfigError } from '../../src/errors.js';
import { FeaturesShapeError, FusedLayoutError, SharedEmbeddingError } from '../../src/model/errors.js';
import { FeatureSlot } from '../../src/model/feature-slot.js';
import { NativeContext, SlotCollector } from '../../src/model/native-context.js';
import { monolith } from '../../src/proto.js';
import { layoutName } from '../../src/model/layout.js';
import { FnModel, logitOf } from './helpers.js';
import { useCpu } from './tf-setup.js';

test.before(useCpu);

const shapes = (x: SymbolicTensor | SymbolicTensor[]) => (Array.isArray(x) ? x.map((t) => t.shape) : x.shape);

test('createEmbeddingFeatureColumn: names, slots, combiners, one column per feature', (t) => {
  const seen: unknown[] = [];
  const model = new FnModel((m) => {
    const a = m.createEmbeddingFeatureColumn(7);
    const again = m.createEmbeddingFeatureColumn('fc_slot_7');
    const mean = m.createEmbeddingFeatureColumn('user_tags', { combiner: 'reduce_mean' });
    const seq = m.createEmbeddingFeatureColumn('clicks', { maxSeqLength: 5 });
    const seq2 = m.createEmbeddingFeatureColumn('views', { combiner: 'first_n', maxSeqLength: 3 });
    seen.push(a === again, a.featureName, a.slot, a.combiner, mean.combiner, seq.combiner, seq2.combiner);
    const out = m.lookupEmbeddingSlice({ fc_slot_7: 4, user_tags: 2, clicks: 3, views: 2 }, 'vec') as SymbolicTensor[];
    seen.push(shapes(out));
    return { heads: [{ name: 'ctr', logit: logitOf(out) }] };
  }, { featureList: { user_tags: 20 } });
  const spec = model.toModelSpec();
  t.deepEqual(seen, [
    true,
    'fc_slot_7',
    7,
    { kind: 'reduce_sum' },
    { kind: 'reduce_mean' },
    { kind: 'first_n', maxSeqLength: 5 },
    { kind: 'first_n', maxSeqLength: 3 },
    [
      [null, 4],
      [null, 2],
      [null, 5, 3],
      [null, 3, 2],
    ],
  ]);
  t.deepEqual(
    spec.features.map((f) => [f.name, f.slot, f.dim, f.combiner, f.maxSeqLength]),
    [
      ['fc_slot_7', 7, 4, 'reduce_sum', undefined],
      ['user_tags', 20, 2, 'reduce_mean', undefined],
      ['clicks', 1, 3, 'first_n', 5],
      ['views', 2, 2, 'first_n', 3],
    ],
  );
  const dense = spec.buildDense();
  t.deepEqual(dense.inputs.map((i) => i.shape), [[null, 4], [null, 2], [null, 15], [null, 6]]);
});

test('occurrence threshold and expire time flow into the table config; the default threshold comes from params', (t) => {
  const model = new FnModel(
    (m) => {
      m.createEmbeddingFeatureColumn(3, { occurrenceThreshold: 5, expireTime: 7 });
      m.createEmbeddingFeatureColumn(4);
      return { heads: [{ name: 'ctr', logit: logitOf(m.lookupEmbeddingSlice([3, 4], 'vec', { sliceDim: 2 }) as SymbolicTensor[]) }] };
    },
    { defaultOccurrenceThreshold: 2 },
  );
  const { tables } = model.toModelSpec();
  t.deepEqual(tables['fc_slot_3']!.occurrenceThreshold, { default: 5, slots: { 3: 5 } });
  t.deepEqual(tables['fc_slot_3']!.expireTime, { default: 7, slots: { 3: 7 } });
  t.deepEqual(tables['fc_slot_4']!.occurrenceThreshold, { default: 2, slots: { 4: 2 } });
  t.deepEqual(tables['fc_slot_4']!.expireTime, { default: 36500, slots: { 4: 36500 } });
  t.deepEqual(tables['fc_slot_3']!.entry.segments, [{ dimSize: 2, initConfig: { randomUniform: {} }, optConfig: { adagrad: { initialAccumulatorValue: 1 } }, compConfig: { fp16: {} } }]);
});

test('shared_name: a feature uses the table of another; an unresolvable owner is an error', (t) => {
  const model = new FnModel((m) => {
    m.createEmbeddingFeatureColumn('query');
    m.createEmbeddingFeatureColumn('title', { sharedName: 'query' });
    const out = m.lookupEmbeddingSlice(['query', 'title'], 'vec', { sliceDim: 4 }) as SymbolicTensor[];
    return { heads: [{ name: 'ctr', logit: logitOf(out) }] };
  });
  const spec = model.toModelSpec();
  t.deepEqual(Object.keys(spec.tables), ['query']);
  t.deepEqual(spec.features.map((f) => [f.name, f.table, f.dim]), [['query', 'query', 4], ['title', 'query', 4]]);
  t.is(spec.tables['query']!.entry.segments.length, 1, 'the shared feature reuses the owner slice');

  const created = new FnModel((m) => {
    m.createEmbeddingFeatureColumn('title', { sharedName: 'fc_slot_9' });
    return { heads: [{ name: 'ctr', logit: logitOf(m.lookupEmbeddingSlice(['title'], 'vec', { sliceDim: 2 }) as SymbolicTensor[]) }] };
  }).toModelSpec();
  t.deepEqual(created.features.map((f) => [f.name, f.table]), [['title', 'fc_slot_9']]);

  const bad = new FnModel((m) => {
    m.createEmbeddingFeatureColumn('title', { sharedName: 'slot_x' });
    return { heads: [] };
  });
  const err = t.throws(() => bad.toModelSpec(), { instanceOf: SharedEmbeddingError });
  t.is(err?.message, 'title shared embedding with slot_x, so slot_x should create first!');
});

test('lookupEmbeddingSlice: dict, list + dim, groups, pairs, out types, and slices reused by name', (t) => {
  const got: Record<string, unknown> = {};
  const model = new FnModel((m) => {
    for (const s of [1, 2, 3]) m.createEmbeddingFeatureColumn(s);
    got.list = shapes(m.lookupEmbeddingSlice([1, 2, 3], 'vec', { sliceDim: 4 }));
    got.concat = shapes(m.lookupEmbeddingSlice([1, 2, 3], 'vec', { sliceDim: 4, outType: 'concat' }));
    got.stack = shapes(m.lookupEmbeddingSlice([1, 2, 3], 'vec', { sliceDim: 4, outType: 'stack' }));
    got.addn = shapes(m.lookupEmbeddingSlice([1, 2, 3], 'vec', { sliceDim: 4, outType: 'add_n' }));
    got.groupsAdd = shapes(m.lookupEmbeddingSlice([[1, 2], [3]], 'vec', { sliceDim: 4 }));
    got.groupsConcat = shapes(m.lookupEmbeddingSlice([[1, 2], [3]], 'vec', { sliceDim: 4, groupOutType: 'concat' }));
    got.pairs = shapes(m.lookupEmbeddingSlice([[1, 2], [3, 6]] as [number, number][], 'bias'));
    const last = m.lookupEmbeddingSlice({ fc_slot_1: 4 }, 'vec', { outType: 'concat' }) as SymbolicTensor;
    return { heads: [{ name: 'ctr', logit: logitOf([last, ...(m.lookupEmbeddingSlice([3], 'bias', { sliceDim: 6 }) as SymbolicTensor[])]) }] };
  });
  const spec = model.toModelSpec();
  t.deepEqual(got, {
    list: [[null, 4], [null, 4], [null, 4]],
    concat: [null, 12],
    stack: [null, 3, 4],
    addn: [null, 4],
    groupsAdd: [[null, 4], [null, 4]],
    groupsConcat: [[null, 8], [null, 4]],
    pairs: [[null, 2], [null, 6]],
  });
  // slot 1: vec(4) + bias(2); slot 3: vec(4) + bias(6); slot 2 is not used by the head.
  t.deepEqual(spec.features.map((f) => [f.name, f.dim]), [['fc_slot_1', 6], ['fc_slot_3', 10]]);
  t.deepEqual(Object.keys(spec.tables), ['fc_slot_1', 'fc_slot_3']);
});

test('layout names are Monolith\'s: slice name + md5 of the sorted str() of the features (values from Python)', (t) => {
  t.is(layoutName('vec', ['user_id', 'item_id']), 'vec_922f8279060467a2d5602da94b71c6ce');
  t.is(layoutName('vec', [{ pair: ['user_id', 4] }, { pair: ['item_id', 8] }]), 'vec_95bed8296ccde50559a1592922b3035c');
  t.is(layoutName('bias', [{ group: [1, 2] }, { group: [3] }]), 'bias_242702603ed994f35db75d72aa344b98');
  t.is(layoutName('vec', [3, 10, 2]), 'vec_4bb391452097a34cfb28e1f5d45def3f');
  t.is(layoutName('vec', [{ pair: ["it's", 8] }]), 'vec_51b321fcac7b2ae1d3a0005ad6eb73d7');

  const model = new FnModel((m) => {
    m.createEmbeddingFeatureColumn('user_id');
    m.createEmbeddingFeatureColumn('item_id');
    const a = m.lookupEmbeddingSlice({ user_id: 4, item_id: 8 }, 'vec') as SymbolicTensor[];
    const b = m.lookupEmbeddingSlice([['user_id', 4], ['item_id', 8]] as [string, number][], 'vec', { outType: 'concat' }) as SymbolicTensor;
    return { heads: [{ name: 'ctr', logit: logitOf([...a, b]) }] };
  });
  model.toModelSpec();
  const T = monolith.io.proto.OutType;
  t.deepEqual(model.layoutDict.get('vec_922f8279060467a2d5602da94b71c6ce'), {
    outType: T.NONE,
    sliceConfigs: [
      { featureName: 'user_id', start: 0, end: 4 },
      { featureName: 'item_id', start: 0, end: 8 },
    ],
    shape: [{ dims: [-1, 4] }, { dims: [-1, 8] }],
  });
  t.deepEqual(model.layoutDict.get('vec_95bed8296ccde50559a1592922b3035c'), {
    outType: T.CONCAT,
    sliceConfigs: [
      { featureName: 'user_id', start: 0, end: 4 },
      { featureName: 'item_id', start: 0, end: 8 },
    ],
    shape: [{ dims: [-1, 12] }],
  });
  const rec = model.dumpRecord();
  t.deepEqual(rec.slices.map((s) => [s.layoutName, s.outType, s.outputShapes]), [
    ['vec_922f8279060467a2d5602da94b71c6ce', null, [[-1, 4], [-1, 8]]],
    ['vec_95bed8296ccde50559a1592922b3035c', 'concat', [[-1, 12]]],
  ]);
  t.deepEqual(rec.features.map((f) => [f.featureName, f.combiner, f.expireTime]), [['user_id', 'reduce_sum', 36500], ['item_id', 'reduce_sum', 36500]]);
  t.deepEqual(rec.featureSliceDims, { user_id: [4], item_id: [8] });
  t.deepEqual(rec.featureCombiners, { user_id: 'reduce_sum', item_id: 'reduce_sum' });
  t.is(rec.params, model.p);
  t.throws(() => new FnModel((m) => {
    m.createEmbeddingFeatureColumn('seq', { combiner: 'first_n' });
    return { heads: [] };
  }).toModelSpec(), { instanceOf: ConfigError, message: 'combiner first_n needs max_seq_length > 0' });
});

test('lookupEmbeddingSlice errors: ValueError for features, group / out types, unknown features', (t) => {
  const run = (fn: (m: FnModel) => unknown) =>
    new FnModel((m) => {
      m.createEmbeddingFeatureColumn(1);
      m.createEmbeddingFeatureColumn(2);
      fn(m);
      return { heads: [] };
    }).toModelSpec();
  const e1 = t.throws(() => run((m) => m.lookupEmbeddingSlice([1, [2]] as never, 'vec', { sliceDim: 4 })), { instanceOf: FeaturesShapeError });
  t.is(e1?.message, 'ValueError for features');
  t.throws(() => run((m) => m.lookupEmbeddingSlice([1, 2], 'vec')), { instanceOf: FeaturesShapeError, message: 'ValueError for features' });
  t.throws(() => run((m) => m.lookupEmbeddingSlice([[1, 2, 3]] as never, 'vec')), { instanceOf: FeaturesShapeError });
  t.throws(() => run((m) => m.lookupEmbeddingSlice([[1], [2]], 'vec', { sliceDim: 4, groupOutType: 'stack' as never })), { instanceOf: ConfigError, message: /group_out_type/ });
  t.throws(() => run((m) => m.lookupEmbeddingSlice([1, 2], 'vec', { sliceDim: 4, outType: 'max' as never })), { instanceOf: ConfigError, message: /out_type/ });
  t.throws(() => run((m) => m.lookupEmbeddingSlice(['nope'], 'vec', { sliceDim: 4 })), { instanceOf: ConfigError, message: /createEmbeddingFeatureColumn/ });
  t.throws(() => run((m) => m.lookupEmbeddingSlice([1], 'vec', { sliceDim: 0 })), { instanceOf: ConfigError, message: /positive integer/ });
});

test('fused layout: layouts come from the layout factory by name; group pooling is refused', (t) => {
  const asked: string[] = [];
  const collector = new SlotCollector();
  const ctx = new NativeContext({
    layoutFactory: {
      createFeatureSlot: (c) => collector.createFeatureSlot(c),
      getLayout: (name) => {
        asked.push(name);
        return [];
      },
    },
  });
  const model = new FnModel((m) => {
    m.createEmbeddingFeatureColumn('user_id');
    m.createEmbeddingFeatureColumn('item_id');
    m.lookupEmbeddingSlice(['user_id', 'item_id'], 'vec', { sliceDim: 4 });
    return { heads: [] };
  });
  (model as unknown as { _ctx: NativeContext })._ctx = ctx;
  t.true(model.isFusedLayout());
  model.createEmbeddingFeatureColumn('user_id');
  model.createEmbeddingFeatureColumn('item_id');
  model.lookupEmbeddingSlice(['user_id', 'item_id'], 'vec', { sliceDim: 4 });
  t.deepEqual(asked, ['vec_922f8279060467a2d5602da94b71c6ce']);
  const err = t.throws(() => model.lookupEmbeddingSlice([['user_id'], ['item_id']], 'vec', { sliceDim: 4 }), { instanceOf: FusedLayoutError });
  t.is(err?.message, 'group pool is not support when fused_layout');
  t.throws(() => model.toModelSpec(), { instanceOf: ConfigError });
});

test('shareSlot switches the slot of a feature in place or into `${name}_${suffix}`', (t) => {
  const model = new FnModel(() => ({ heads: [] }));
  const batch: Batch = {
    rows: 1,
    sparse: [{ name: 'a', slot: 1, fids: Uint32Array.from([5, (1 << 16) | 0x1234, 6, (1 << 16) | 0x1234]), rowSplits: Int32Array.from([0, 2]) }],
    dense: [],
    labels: new Float32Array(1),
    labelWidth: 1,
    lineId: [],
  };
  const copy = model.shareSlot(batch, { a: [false, 9] }) as Batch;
  t.deepEqual(copy.sparse.map((c) => [c.name, c.slot, Array.from(c.fids)]), [
    ['a', 1, [5, (1 << 16) | 0x1234, 6, (1 << 16) | 0x1234]],
    ['a_share', 9, [5, (9 << 16) | 0x1234, 6, (9 << 16) | 0x1234]],
  ]);
  t.deepEqual(model.featureNames.resolve('a_share'), ['a_share', 9]);
  const fn = model.shareSlot(null, { a: [true, 300] }) as (b: Batch) => Batch;
  t.deepEqual(fn(batch).sparse.map((c) => [c.name, c.slot, c.fids[1]]), [['a', 300, ((300 << 16) | 0x1234) >>> 0]]);
  t.deepEqual(model.featureNames.resolve('a'), ['a', 300]);
});

test('FeatureSlot: bias slice first, learning-rate functions fill every segment', (t) => {
  const slot = new FeatureSlot({ name: '4', hasBias: true, defaultVecOptimizer: { sgd: { learningRate: 0.3 } } }, () => {
    throw new Error('unused');
  });
  t.is(slot.slot, 4);
  t.deepEqual(slot.getBiasSlice(), { featureSlot: slot, start: 0, end: 1 });
  const s = slot.addFeatureSlice(3, null, null, null, { kind: 'polynomialDecay', initialLearningRate: 0.1, decaySteps: 10 });
  t.deepEqual([s.start, s.end, slot.dim], [1, 4, 4]);
  const cfg = slot.toTableConfig();
  t.deepEqual(cfg.entry.segments.map((x) => x.optConfig), [{ ftrl: { initialAccumulatorValue: 1e-6, beta: 1 } }, { sgd: { learningRate: 0.3 } }]);
  t.deepEqual(cfg.learningRates, [0.01, { kind: 'polynomialDecay', initialLearningRate: 0.1, decaySteps: 10 }]);
  t.throws(() => new FeatureSlot({ name: 'x' }, () => null as never).getBiasSlice(), { instanceOf: ConfigError });
  t.throws(() => new FeatureSlot({ name: 'x' }, () => null as never).toTableConfig(), { instanceOf: ConfigError });
});
