import test from 'ava';
import Kafka from 'node-rdkafka';
import { lastValueFrom, take, tap, toArray } from 'rxjs';
import type { SourceBatch } from '../../../src/batch/batch.js';
import { FormatError } from '../../../src/errors.js';
import { sortHeader } from '../../../src/io/record-file.js';
import { concatBatches } from '../../../src/streams/parse/batch-ops.js';
import { RecordParser } from '../../../src/streams/parse/record-parser.js';
import { kafkaSource, type KafkaSourceOptions } from '../../../src/streams/sources/kafka-source.js';
import { OffsetTracker } from '../../../src/streams/sources/offset-tracker.js';
import { SyntheticCtr } from '../../../src/streams/sources/synthetic-ctr.js';
import { plain } from '../parse/wire-helpers.js';

// librdkafka's mock cluster: a client configured with `test.mock.num.brokers`
// starts an in-process Kafka broker on loopback and talks to it. Other clients
// reach the same broker through the address the first client's metadata reports.
const cb = <T>(fn: (done: (err: any, v: T) => void) => void) => new Promise<T>((res, rej) => fn((err, v) => (err ? rej(err) : res(v))));

async function mockCluster(): Promise<{ producer: Kafka.Producer; brokers: string }> {
  const producer = new Kafka.Producer({ 'test.mock.num.brokers': 1, 'client.id': 'mock-host' } as Kafka.ProducerGlobalConfig);
  await cb((done) => producer.connect({}, done));
  const md = await cb<Kafka.Metadata>((done) => producer.getMetadata({ timeout: 5000 }, done));
  producer.setPollInterval(10);
  return { producer, brokers: md.brokers.map((b) => `${b.host}:${b.port}`).join(',') };
}

async function produce(producer: Kafka.Producer, topic: string, values: Uint8Array[]): Promise<void> {
  for (const v of values) producer.produce(topic, 0, Buffer.from(v), null);
  await new Promise<void>((res, rej) => producer.flush(5000, (err) => (err ? rej(err) : res())));
}

async function committed(brokers: string, groupId: string, topic: string): Promise<number | undefined> {
  const c = new Kafka.KafkaConsumer({ 'bootstrap.servers': brokers, 'group.id': groupId, 'enable.auto.commit': false }, {});
  await cb<unknown>((done) => c.connect({}, done));
  try {
    const tps = await cb<Kafka.TopicPartitionOffset[]>((done) => c.committed([{ topic, partition: 0 }], 5000, done));
    return tps[0]?.offset;
  } finally {
    await new Promise<void>((res) => c.disconnect(() => res()));
  }
}

// The mock coordinator only reassigns a left member's partitions after its session times
// out (45 s by default); 3 s keeps the tests fast and stays above the mock's 3 s initial
// rebalance delay, below which members expire before their first join completes.
const fastGroup = { 'session.timeout.ms': 3000, 'heartbeat.interval.ms': 300 };

const uids = (sbs: SourceBatch[]) => sbs.flatMap((s) => Array.from(s.batch.lineId[0]!.values as BigUint64Array, Number));

test.serial('Kafka source on the librdkafka mock cluster: batches, commit on ack only, un-acked batches redelivered to the next group member', async (t) => {
  const { producer, brokers } = await mockCluster();
  try {
    const gen = new SyntheticCtr({ seed: 5, vocabSize: 100 });
    const rows = Array.from({ length: 10 }, () => gen.sampleRow());
    await produce(producer, 'clicks', rows.map((r, i) => gen.toInstance(r, i)));
    const base: KafkaSourceOptions = { brokers, groupId: 'trainers', topics: 'clicks', variant: 'instance', parse: gen.parseConfig, batchSize: 3, maxWaitMs: 300, consumerConfig: fastGroup };

    // First member: reads 3+3+3+1 rows, applies (acks) only the first two batches.
    let closedA!: () => void;
    const closedAP = new Promise<void>((res) => (closedA = res));
    // Acks happen while the source runs (as the graph does): batch 1 first, then batch 0.
    const a = await lastValueFrom(
      kafkaSource({ ...base, onClosed: closedA }).pipe(
        take(4),
        tap({
          next: (() => {
            let held: SourceBatch | undefined;
            let i = 0;
            return (s: SourceBatch) => {
              if (i === 0) held = s;
              if (i === 1) {
                s.ack!(); // out of order: nothing can be committed yet
                held!.ack!();
              }
              i++;
            };
          })(),
        }),
        toArray(),
      ),
    );
    t.deepEqual(a.map((s) => s.batch.rows), [3, 3, 3, 1]);
    t.deepEqual(uids(a), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const local = new RecordParser(gen.parseConfig, { variant: 'instance' }).parse(rows.map((r, i) => gen.toInstance(r, i)));
    t.deepEqual(plain(concatBatches(a.map((s) => s.batch))), plain(local), 'content equals the produced Instances');
    await closedAP;
    t.is(await committed(brokers, 'trainers', 'clicks'), 6, 'only the acked prefix is committed');

    // Second member of the group: gets exactly the un-acked rows again.
    let closedB!: () => void;
    const closedBP = new Promise<void>((res) => (closedB = res));
    const b = await lastValueFrom(kafkaSource({ ...base, onClosed: closedB }).pipe(take(2), tap((s) => s.ack!()), toArray()));
    t.deepEqual(uids(b), [6, 7, 8, 9]);
    await closedBP;
    t.is(await committed(brokers, 'trainers', 'clicks'), 10);
  } finally {
    await new Promise<void>((res) => producer.disconnect(() => res()));
  }
});

test.serial('Kafka source: record-framed messages holding several Instances; a bad message is an Observable error naming topic/partition@offset', async (t) => {
  const { producer, brokers } = await mockCluster();
  try {
    const gen = new SyntheticCtr({ seed: 6, vocabSize: 100 });
    const frame = (payloads: Uint8Array[]) =>
      Buffer.concat(payloads.flatMap((p) => [sortHeader(true, false, false), Buffer.from(new BigUint64Array([BigInt(p.length)]).buffer), Buffer.from(p)]));
    const inst = (i: number) => gen.toInstance(gen.sampleRow(), i);
    await produce(producer, 'framed', [frame([inst(0), inst(1)]), frame([inst(2), inst(3), inst(4)])]);
    const got = await lastValueFrom(
      kafkaSource({ brokers, groupId: 'g2', topics: ['framed'], variant: 'instance', parse: gen.parseConfig, batchSize: 4, framing: 'record', maxWaitMs: 200 }).pipe(take(2), tap((s) => s.ack!()), toArray()),
    );
    t.deepEqual(got.map((s) => s.batch.rows), [4, 1]);
    t.deepEqual(uids(got), [0, 1, 2, 3, 4]);
    // the batch of 4 ended inside message 1, so acking it alone commits only up to message 1 (not past it)
    t.is(await committed(brokers, 'g2', 'framed'), 2);

    await produce(producer, 'broken', [inst(0), Uint8Array.of(0x0a, 0x7f, 0x01)]);
    let closed = false;
    const err = await t.throwsAsync(
      lastValueFrom(kafkaSource({ brokers, groupId: 'g3', topics: 'broken', variant: 'instance', parse: gen.parseConfig, batchSize: 4, onClosed: () => (closed = true) })),
      { instanceOf: FormatError },
    );
    t.regex(err!.message, /kafka:broken\/0@1, byte 1, field Instance\.fid: length 127 runs past/);
    t.true(closed, 'the consumer was closed');
  } finally {
    await new Promise<void>((res) => producer.disconnect(() => res()));
  }
});

test.serial('Kafka source unsubscribed while idle and polling: the consumer leaves the group and disconnects within a poll', async (t) => {
  // Before the fix the generator, polling an empty topic, never reached a yield, so its finally never ran: this timed out.
  t.timeout(30_000);
  const { producer, brokers } = await mockCluster();
  try {
    const gen = new SyntheticCtr({ seed: 7, vocabSize: 100 });
    await produce(producer, 'quiet', [gen.toInstance(gen.sampleRow(), 0)]);
    let closed!: () => void;
    const closedP = new Promise<void>((res) => (closed = res));
    const first = new Promise<SourceBatch>((resolve, reject) => {
      const sub = kafkaSource({ brokers, groupId: 'idle', topics: 'quiet', variant: 'instance', parse: gen.parseConfig, batchSize: 1, pollTimeoutMs: 50, consumerConfig: fastGroup, onClosed: closed }).subscribe({
        next: (s) => {
          s.ack!();
          // The source resumes at once and polls the (now empty) topic; unsubscribe once it is waiting there.
          setImmediate(() => {
            sub.unsubscribe();
            resolve(s);
          });
        },
        error: reject,
      });
    });
    t.is((await first).batch.rows, 1);
    await closedP;
    t.is(await committed(brokers, 'idle', 'quiet'), 1);
  } finally {
    await new Promise<void>((res) => producer.disconnect(() => res()));
  }
});

test('offset tracker: commits only the acked prefix, the highest offset per partition', (t) => {
  const tr = new OffsetTracker();
  const a = tr.add([{ topic: 't', partition: 0, offset: 3 }]);
  const b = tr.add([{ topic: 't', partition: 0, offset: 6 }, { topic: 't', partition: 1, offset: 2 }]);
  const c = tr.add([{ topic: 't', partition: 1, offset: 5 }]);
  t.deepEqual(tr.ack(b), []);
  t.deepEqual(tr.ack(a), [{ topic: 't', partition: 0, offset: 6 }, { topic: 't', partition: 1, offset: 2 }]);
  t.deepEqual(tr.ack(a), [], 'acking twice is harmless');
  t.is(tr.pending, 1);
  t.deepEqual(tr.ack(c), [{ topic: 't', partition: 1, offset: 5 }]);
});

test('kafkaSource validates its options', (t) => {
  const parse = { sparse: [] };
  t.throws(() => kafkaSource({ brokers: '', groupId: 'g', topics: 't', variant: 'instance', parse, batchSize: 1 }), { message: /brokers/ });
  t.throws(() => kafkaSource({ brokers: 'x:1', groupId: '', topics: 't', variant: 'instance', parse, batchSize: 1 }), { message: /groupId/ });
  t.throws(() => kafkaSource({ brokers: 'x:1', groupId: 'g', topics: [], variant: 'instance', parse, batchSize: 1 }), { message: /topic/ });
  t.throws(() => kafkaSource({ brokers: 'x:1', groupId: 'g', topics: 't', variant: 'instance', parse, batchSize: 0 }), { message: /batchSize/ });
});
