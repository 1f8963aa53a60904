import test from 'ava';
import { from, lastValueFrom, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { Batch } from '../../../src/batch/batch.js';
import { ConfigError, FormatError } from '../../../src/errors.js';
import type { StepResult } from '../../../src/graph/step-result.js';
import { float32Number, uidSampled, writeDeepInsight, writeDeepInsightV2 } from '../../../src/metrics/deep-insight.js';
import { deepInsight, deepInsightMessages } from '../../../src/streams/hooks/deep-insight.js';

const BIG_UID = (1n << 63n) + 12345n; // beyond 2^53: must survive exactly

function batch(rows: number, omit: string[] = []): Batch {
  const lineId = [
    { name: 'uid', values: BigUint64Array.from({ length: rows }, (_, i) => (i === rows - 1 ? BIG_UID : BigInt(i + 1))) },
    { name: 'req_time', values: BigInt64Array.from({ length: rows }, (_, i) => 1_664_236_800n + BigInt(i)) },
    { name: 'sample_rate', values: Float32Array.from({ length: rows }, () => 0.5) },
    { name: 'cvr_rate', values: Float32Array.from({ length: rows }, () => 0.25) },
    { name: 'chnid', values: BigInt64Array.from({ length: rows }, (_, i) => BigInt(100 + i)) },
    { name: 'score', values: Float32Array.from({ length: rows }, (_, i) => i / 10) },
  ].filter((c) => !omit.includes(c.name));
  return { rows, sparse: [], dense: [], labels: new Float32Array(rows * 2), labelWidth: 2, lineId };
}

function result(rows: number, omit: string[] = []): StepResult {
  const labels = Float32Array.from({ length: rows * 2 }, (_, i) => (i % 2 === 0 ? 1 : 0)); // ctr label 1, cvr label 0
  return {
    mode: 'train',
    step: 7,
    examples: rows,
    loss: 0.1,
    predictions: { ctr: Float32Array.from({ length: rows }, () => 0.3), cvr: Float32Array.from({ length: rows }, () => 0.05) },
    labels,
    labelWidth: 2,
    batch: batch(rows, omit),
  };
}

const all = () => true;
const clock = { now: () => 1_700_000_000_000, schedule: () => { throw new Error('unused'); } } as never;

test('v1 (single target): one JSON message per sampled row with uid exact over 64 bits, req_time, train_time, predict / label / sample_rate of the target', (t) => {
  const msgs = deepInsightMessages(result(3), { modelName: 'm', target: 'ctr', sampler: all, scheduler: clock, sampleRatio: 0.5 });
  t.is(msgs.length, 3);
  const parsed = msgs.map((m) => JSON.parse(m));
  t.deepEqual(parsed.map((p) => p.uid), ['1', '2', BIG_UID.toString()]);
  t.deepEqual(parsed[0], {
    model_name: 'm',
    uid: '1',
    req_time: 1_664_236_800,
    train_time: 1_700_000_000,
    sample_ratio: 0.5,
    targets: ['ctr'],
    predict: { ctr: 0.3 },
    label: { ctr: 1 },
    sample_rate: { ctr: 0.5 },
  });
  t.true(msgs.every((m) => !m.includes('extra_')));
  const cvr = deepInsightMessages(result(1), { modelName: 'm', target: 'cvr', sampler: all });
  t.is(JSON.parse(cvr[0]!).label.cvr, 0, 'the second head reads the second label column');
  const explicit = deepInsightMessages(result(1), { modelName: 'm', target: 'cvr', labelIndex: { cvr: 0 }, sampler: all });
  t.is(JSON.parse(explicit[0]!).label.cvr, 1);
});

test('utils_test.test_basic: the uids written are the batch uid column [1, 2, 3]', (t) => {
  const msgs = writeDeepInsight({
    modelName: 'model_name',
    target: 'ctr_head',
    uids: [1n, 2n, 3n],
    reqTimes: [1, 2, 3],
    labels: [1, 0, 1],
    preds: [0.1, 0.2, 0.3],
    sampleRates: [1, 1, 1],
    sampleRatio: 1,
    useZeroTrainTime: true,
  });
  t.deepEqual(msgs.map((m) => JSON.parse(m).uid), ['1', '2', '3']);
  t.true(msgs.every((m) => JSON.parse(m).train_time === 0 && JSON.parse(m).targets[0] === 'ctr_head'));
});

test('sampling is by user: ratio 0 writes nothing, 1 everything, 0.3 about 30% of users and always the same ones', (t) => {
  const uids = Array.from({ length: 2000 }, (_, i) => BigInt(i) * 7919n + 13n);
  t.false(uids.some((u) => uidSampled(u, 0)));
  t.true(uids.every((u) => uidSampled(u, 1)));
  const picked = uids.filter((u) => uidSampled(u, 0.3));
  t.true(Math.abs(picked.length - 600) < 80, `${picked.length} of 2000`);
  t.deepEqual(uids.filter((u) => uidSampled(u, 0.3)), picked);
  const rows = uids.length;
  const msgs = writeDeepInsight({ modelName: 'm', uids, reqTimes: uids, labels: new Float32Array(rows), preds: new Float32Array(rows), sampleRates: new Float32Array(rows), sampleRatio: 0.3 });
  t.is(msgs.length, rows, 'the op returns one entry per row');
  t.is(msgs.filter((m) => m !== '').length, picked.length, 'unsampled rows are empty messages');
});

test('req_time absent disables deep insight (no messages); a missing uid or sample_rate names the field', (t) => {
  t.deepEqual(deepInsightMessages(result(2, ['req_time']), { modelName: 'm', target: 'ctr', sampler: all }), []);
  t.throws(() => deepInsightMessages(result(2, ['uid']), { modelName: 'm', target: 'ctr', sampler: all }), { instanceOf: FormatError, message: /LineId column uid/ });
  t.throws(() => deepInsightMessages(result(2, ['sample_rate']), { modelName: 'm', target: 'ctr', sampler: all }), { instanceOf: FormatError, message: /sample_rate/ });
  t.throws(() => deepInsightMessages(result(2), { modelName: 'm', sampler: all }), { instanceOf: ConfigError, message: /name the target head \(heads: ctr, cvr\)/ });
  t.throws(() => deepInsightMessages(result(2), { modelName: 'm', target: 'nope', sampler: all }), { instanceOf: ConfigError, message: /no predictions for head nope/ });
});

test('v2 (multi-target): one message per row for all targets, extra fields by type, uid always present and the caller\'s keys never mutated', (t) => {
  const keys = Object.freeze(['chnid', 'score']);
  const opts = { modelName: 'm', targets: ['ctr', 'cvr'], extraFieldsKeys: keys, sampler: all, scheduler: clock };
  const first = deepInsightMessages(result(2), opts);
  const second = deepInsightMessages(result(2), opts);
  t.deepEqual(first, second, 'a second call is the same (no uid accumulated in a shared default)');
  t.deepEqual(keys, ['chnid', 'score']);
  const m = JSON.parse(first[1]!);
  t.is(m.uid, BIG_UID.toString());
  t.deepEqual(m.targets, ['ctr', 'cvr']);
  t.deepEqual(m.predict, { ctr: 0.3, cvr: 0.05 });
  t.deepEqual(m.label, { ctr: 1, cvr: 0 });
  t.deepEqual(m.sample_rate, { ctr: 0.5, cvr: 0.5 });
  t.deepEqual(m.extra_int, { chnid: 101 });
  t.deepEqual(m.extra_float, { score: 0.1 });
  t.false('uid' in (m.extra_int ?? {}));
  // the default extraFieldsKeys is also left alone
  t.is(deepInsightMessages(result(1), { modelName: 'm', targets: ['ctr'], sampler: all }).length, 1);
  t.is(deepInsightMessages(result(1), { modelName: 'm', targets: ['ctr'], sampler: all }).length, 1);
});

test('v2 sample rates: per-target LineId columns, else sample_rate for every target; a non-list is the seed\'s error', (t) => {
  const [msg] = deepInsightMessages(result(1), { modelName: 'm', targets: ['ctr', 'cvr'], sampleRateFields: ['sample_rate', 'cvr_rate'], sampler: all });
  t.deepEqual(JSON.parse(msg!).sample_rate, { ctr: 0.5, cvr: 0.25 });
  t.throws(() => deepInsightMessages(result(1), { modelName: 'm', targets: ['ctr'], sampleRateFields: 'sample_rate' as never, sampler: all }), {
    instanceOf: ConfigError,
    message: 'sample_rates_list error!',
  });
});

test('writeDeepInsightV2 checks shapes and needs the uid extra field', (t) => {
  const base = { modelName: 'm', reqTimes: [1], labels: [[1]], preds: [[0.5]], sampleRates: [[1]], targets: ['a'], sampler: all };
  t.throws(() => writeDeepInsightV2({ ...base, extraFieldsKeys: [], extraFieldsValues: [] }), { instanceOf: ConfigError, message: /uid extra field/ });
  t.throws(() => writeDeepInsightV2({ ...base, targets: ['a', 'b'], extraFieldsKeys: ['uid'], extraFieldsValues: [[1n] as never] }), { instanceOf: ConfigError, message: /2 targets/ });
  t.throws(() => writeDeepInsightV2({ ...base, reqTimes: [1, 2], extraFieldsKeys: ['uid'], extraFieldsValues: [BigUint64Array.of(1n, 2n)] }), {
    instanceOf: ConfigError,
    message: /labels\[a\] has 1 values, the batch has 2 rows/,
  });
});

test('float32 values are written with their shortest decimal', (t) => {
  t.is(float32Number(Math.fround(0.3)), 0.3);
  t.is(float32Number(Math.fround(1 / 3)), 0.33333334);
  t.is(float32Number(0), 0);
});

test('deepInsight operator: a stream of message arrays, steps without sampled rows skipped (virtual time for train_time)', (t) => {
  const scheduler = new TestScheduler((a, b) => t.deepEqual(a, b));
  scheduler.run(({ cold, expectObservable }) => {
    const unsampled = { sampler: (uid: bigint) => uid !== 1n && uid !== 2n };
    const source = cold('a 999ms b|', { a: result(2), b: result(3) });
    const out = source.pipe(deepInsight({ modelName: 'm', target: 'cvr', scheduler, ...unsampled }));
    // step a: uids 1 and BIG → BIG sampled; step b: uids 1, 2, BIG → BIG sampled; train_time 0 then 1
    expectObservable(out).toBe('a 999ms b|', {
      a: [expectedCvr(BIG_UID, 1_664_236_801, 0)],
      b: [expectedCvr(BIG_UID, 1_664_236_802, 1)],
    });
  });
  function expectedCvr(uid: bigint, reqTime: number, trainTime: number): string {
    return JSON.stringify({
      model_name: 'm', uid: uid.toString(), req_time: reqTime, train_time: trainTime, sample_ratio: 0.01, targets: ['cvr'],
      predict: { cvr: 0.05 }, label: { cvr: 0 }, sample_rate: { cvr: 0.5 },
    });
  }
});

test('deepInsight composes with the sinks: messages of every step, in order', async (t) => {
  const out = await lastValueFrom(from([result(2), result(1)]).pipe(deepInsight({ modelName: 'm', target: 'ctr', sampler: all }), toArray()));
  t.deepEqual(out.map((a) => a.length), [2, 1]);
});
