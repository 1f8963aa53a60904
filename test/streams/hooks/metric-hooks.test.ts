import test from 'ava';
import { from, lastValueFrom, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { ConfigError } from '../../../src/errors.js';
import { MemoryMetricsClient } from '../../../src/metrics/memory-client.js';
import { setDefaultMetricsClient } from '../../../src/metrics/default-client.js';
import { customMetrics } from '../../../src/streams/hooks/custom-metrics.js';
import { stepLossMetric } from '../../../src/streams/hooks/step-loss-metric.js';
import { throughputMetric } from '../../../src/streams/hooks/throughput-metric.js';
import { step } from './helpers.js';

const S = 1000;

test('throughputMetric: run_start_elapsed_time.all at start, then run_steps.all and seconds per step every runEveryNSecs (virtual time)', (t) => {
  const scheduler = new TestScheduler((a, b) => t.deepEqual(a, b));
  scheduler.run(({ cold, expectObservable }) => {
    // starts at t=100 s (virtual clock starts at 0: shift by a start time in the past instead)
    const client = new MemoryMetricsClient(() => scheduler.now());
    const values = { a: step(11), b: step(12), c: step(13), d: step(14), e: step(20) };
    // a at 1 s, b at 10 s, c at 30 s, d at 31 s, e at 75 s
    const source = cold(`${1 * S}ms a ${9 * S - 1}ms b ${20 * S - 1}ms c ${1 * S - 1}ms d ${44 * S - 1}ms e |`, values);
    expectObservable(source.pipe(throughputMetric({ modelName: 'ctr', startTimeSecs: -42, clusterType: 'online', runEveryNSecs: 30, client, scheduler }))).toBe(
      `${1 * S}ms a ${9 * S - 1}ms b ${20 * S - 1}ms c ${1 * S - 1}ms d ${44 * S - 1}ms e |`,
      values,
    );
    scheduler.flush();
    const tags = { model_name: 'ctr', cluster_type: 'online' };
    t.deepEqual(
      client.points.map(({ kind, name, value, tags: tg, time }) => ({ kind, name, value, tags: tg, time })),
      [
        { kind: 'timer', name: 'run_start_elapsed_time.all', value: 42, tags, time: 0 },
        // 30 s after the start: steps 11..13 were applied since (global step 10 before the first batch)
        { kind: 'counter', name: 'run_steps.all', value: 3, tags, time: 30 * S },
        { kind: 'timer', name: 'run_steps_elapsed_time.all', value: 10, tags, time: 30 * S },
        // 45 s later, 7 more steps
        { kind: 'counter', name: 'run_steps.all', value: 7, tags, time: 75 * S },
        { kind: 'timer', name: 'run_steps_elapsed_time.all', value: 45 / 7, tags, time: 75 * S },
      ],
    );
  });
});

test('throughputMetric: an interval without new steps emits a zero counter and no timer (no division by zero)', (t) => {
  const scheduler = new TestScheduler((a, b) => t.deepEqual(a, b));
  scheduler.run(({ cold }) => {
    const client = new MemoryMetricsClient(() => scheduler.now());
    // the same global step reported twice, 40 s apart (e.g. eval results re-emitted)
    cold(`a ${40 * S - 1}ms b ${40 * S - 1}ms c|`, { a: step(5), b: step(6), c: step(6) })
      .pipe(throughputMetric({ modelName: 'm', client, scheduler, runEveryNSecs: 30 }))
      .subscribe();
    scheduler.flush();
    t.deepEqual(
      client.points.map((p) => [p.name, p.value]),
      [
        ['run_steps.all', 2],
        ['run_steps_elapsed_time.all', 20],
        ['run_steps.all', 0],
      ],
    );
    t.true(client.points.every((p) => Number.isFinite(p.value)));
    t.is(client.named('run_start_elapsed_time.all').length, 0, 'no start time given: no start timer');
  });
});

test('stepLossMetric emits step_loss per step that has a loss; values pass through unchanged', async (t) => {
  const client = new MemoryMetricsClient();
  const results = [step(1, { loss: 0.5 }), step(2, { mode: 'predict', loss: undefined }), step(3, { loss: 0.25 })];
  const out = await lastValueFrom(from(results).pipe(stepLossMetric({ client }), toArray()));
  t.deepEqual(out, results);
  t.deepEqual(client.points.map((p) => [p.kind, p.name, p.value]), [['store', 'step_loss', 0.5], ['store', 'step_loss', 0.25]]);
});

test('hooks without a client use the process default client', async (t) => {
  const client = new MemoryMetricsClient();
  const previous = setDefaultMetricsClient(client);
  t.teardown(() => setDefaultMetricsClient(previous));
  await lastValueFrom(from([step(1, { loss: 2 })]).pipe(stepLossMetric()));
  t.deepEqual(client.points.map((p) => p.value), [2]);
});

test('customMetrics validates scalar float32/int32 specs with the seed messages', (t) => {
  t.throws(() => customMetrics({ metrics: { auc: { dtype: 'float32', shape: [2] } } }), { instanceOf: ConfigError, message: /The metric tensor should be a scalar!/ });
  t.throws(() => customMetrics({ metrics: { n: { dtype: 'int64', shape: [] } } }), {
    instanceOf: ConfigError,
    message: /The dtype of a metric tensor should be either tf.float or tf.int32!/,
  });
  t.throws(() => customMetrics({ metrics: {} }), { instanceOf: ConfigError, message: 'At least one metric tensor should be offered!' });
  t.notThrows(() => customMetrics({ metrics: { a: { dtype: 'float32', shape: [] }, b: { dtype: 'int32', shape: [] } } }));
});

test('customMetrics emits each declared metric of every step as a float store', async (t) => {
  const client = new MemoryMetricsClient();
  await lastValueFrom(
    from([step(1, { metrics: { auc: 0.75, clicks: 3, ignored: 9 } }), step(2, { metrics: { auc: 0.5 } })]).pipe(
      customMetrics({ metrics: { auc: { dtype: 'float32', shape: [] }, clicks: { dtype: 'int32', shape: [] } }, client }),
    ),
  );
  t.deepEqual(client.points.map((p) => [p.kind, p.name, p.value]), [['store', 'auc', 0.75], ['store', 'clicks', 3], ['store', 'auc', 0.5]]);
});
