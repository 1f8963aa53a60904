import test from 'ava';
import { from, lastValueFrom, toArray } from 'rxjs';
import { kafkaMetricSink } from '../../../src/streams/sinks/kafka-metric-sink.js';
import { KProducer } from '../../../src/streams/sinks/kafka-producer.js';
import { readMessages, startMockKafka } from './kafka-mock.js';

test('kafkaMetricSink sends every non-empty message to the mock broker; a consumer reads them back and the counters match', async (t) => {
  const kafka = await startMockKafka();
  t.teardown(() => kafka.close());
  const batches = [['{"uid":"1"}', '', '{"uid":"2"}'], [], ['{"uid":"3"}'], ['', '']];
  let counts: { total: number; success: number; failed: number } | undefined;
  const out = await lastValueFrom(
    from(batches).pipe(
      kafkaMetricSink({ env: { KAFKA_BROKER_LIST: kafka.bootstrap, KAFKA_TOPIC_NAME: 'deep_insight' }, onClose: (c) => (counts = c) }),
      toArray(),
    ),
  );
  t.deepEqual(out, batches, 'values pass through unchanged');
  t.deepEqual(counts, { total: 3, success: 3, failed: 0 });
  const read = await readMessages(kafka.bootstrap, 'deep_insight', 3);
  t.deepEqual(read.sort(), ['{"uid":"1"}', '{"uid":"2"}', '{"uid":"3"}']);
});

test('options take precedence over KAFKA_BROKER_LIST / KAFKA_TOPIC_NAME; without either the sink passes values through and sends nothing', async (t) => {
  const kafka = await startMockKafka();
  t.teardown(() => kafka.close());
  let counts: { total: number } | undefined;
  await lastValueFrom(
    from([['a'], ['b']]).pipe(
      kafkaMetricSink({ brokers: kafka.bootstrap, topic: 'by_option', env: { KAFKA_BROKER_LIST: '127.0.0.1:1', KAFKA_TOPIC_NAME: 'by_env' }, onClose: (c) => (counts = c) }),
    ),
  );
  t.is(counts?.total, 2);
  t.deepEqual((await readMessages(kafka.bootstrap, 'by_option', 2)).sort(), ['a', 'b']);

  let closed = false;
  const out = await lastValueFrom(from([['x']]).pipe(kafkaMetricSink({ env: {}, onClose: () => (closed = true) }), toArray()));
  t.deepEqual(out, [['x']]);
  t.false(closed, 'no producer was created');
});

test('KProducer: send drops null, undefined and empty messages and wraps a single message', async (t) => {
  const kafka = await startMockKafka();
  t.teardown(() => kafka.close());
  const p = new KProducer({ brokers: kafka.bootstrap, topic: 'filtering' });
  p.send(null);
  p.send(undefined);
  p.send([]);
  p.send('');
  p.send(['', null, undefined, 'one', new Uint8Array([0x74, 0x77, 0x6f])]);
  p.send('three');
  t.is(p.total, 3);
  const counts = await p.close();
  t.deepEqual(counts, { total: 3, success: 3, failed: 0 });
  t.deepEqual((await readMessages(kafka.bootstrap, 'filtering', 3)).sort(), ['one', 'three', 'two']);
  t.throws(() => p.send('late'), { message: /send after close/ });
});

test('broker gone mid-run: deliveries fail, the failed counter rises, nothing throws and close returns', async (t) => {
  const kafka = await startMockKafka();
  const p = new KProducer({ brokers: kafka.bootstrap, topic: 'gone', config: { 'message.timeout.ms': 1500 }, flushTimeoutMs: 5000 });
  t.true(await p.connected);
  p.send(['before']);
  await kafka.close();
  p.send(['after-1', 'after-2']);
  const counts = await p.close();
  t.is(counts.total, 3);
  t.true(counts.failed >= 2, `failed ${counts.failed}`);
  t.is(counts.success + counts.failed, 3);
});

test('no broker at all: the sink counts every message as failed and the stream still completes', async (t) => {
  let counts: { total: number; success: number; failed: number } | undefined;
  const out = await lastValueFrom(
    from([['m1', 'm2'], ['m3']]).pipe(
      kafkaMetricSink({ brokers: '127.0.0.1:1', topic: 'nowhere', connectTimeoutMs: 1000, config: { 'message.timeout.ms': 1000 }, onClose: (c) => (counts = c) }),
      toArray(),
    ),
  );
  t.is(out.length, 2);
  t.deepEqual(counts, { total: 3, success: 0, failed: 3 });
});
