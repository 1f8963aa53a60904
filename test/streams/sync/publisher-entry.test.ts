/**
 * The sync publisher from the package entries, as a user attaches it to a
 * training pipeline running steps in two worker threads: what lands on the
 * topic (librdkafka mock cluster) is every row training touched, with the
 * trainer's final values as the newest version, in messages of at most maxRows
 * rows, and the dense weights.
 */
import test from 'ava';
import Kafka from 'node-rdkafka';
import { lastValueFrom } from 'rxjs';
import { TrainingPipeline, syntheticCtrSource } from 'monolith-ts';
import { SyncPublisher, decodeSyncMessage, type SyncMessage } from 'monolith-ts/kafka';
import { startMockKafka } from '../sinks/kafka-mock.js';

async function readAll(bootstrap: string, topic: string, count: number): Promise<{ partition: number; msg: SyncMessage }[]> {
  const consumer = new Kafka.KafkaConsumer({ 'group.id': 'sync-entry-test', 'metadata.broker.list': bootstrap, 'enable.auto.commit': false } as Kafka.ConsumerGlobalConfig, {});
  const cb = <T>(fn: (done: (err: unknown, v: T) => void) => void) => new Promise<T>((res, rej) => fn((err, v) => (err ? rej(err) : res(v))));
  await cb((d) => consumer.connect({ timeout: 10_000 }, d));
  try {
    const md = await cb<Kafka.Metadata>((d) => consumer.getMetadata({ topic, timeout: 10_000 }, d));
    consumer.assign(md.topics.find((x) => x.name === topic)!.partitions.map((p) => ({ topic, partition: p.id, offset: 0 })));
    consumer.setDefaultConsumeTimeout(100);
    const got: { partition: number; msg: SyncMessage }[] = [];
    const deadline = Date.now() + 20_000;
    while (got.length < count) {
      if (Date.now() > deadline) throw new Error(`read ${got.length} of ${count} messages`);
      for (const m of await cb<Kafka.Message[]>((d) => consumer.consume(100, d))) got.push({ partition: m.partition, msg: decodeSyncMessage(m.value!) });
    }
    return got;
  } finally {
    await new Promise<void>((r) => consumer.disconnect(() => r()));
  }
}

test('a SyncPublisher hook publishes every updated row (latest version = the trainer value) and the dense weights', async (t) => {
  const kafka = await startMockKafka();
  try {
    const pub = await SyncPublisher.open({ brokers: kafka.bootstrap, topic: 'sync', maxRows: 50, flushIntervalMs: 20, denseEverySteps: 3, publisher: 'trainer-a' });
    const p = await TrainingPipeline.create({
      model: { url: new URL('../../workers/fixtures/entry-model.js', import.meta.url).href, options: { seed: 1 } },
      source: syntheticCtrSource({ seed: 5, sparseSlots: 4, vocabSize: 30, batchSize: 32, batches: 8 }),
      workers: 2,
      hooks: [pub.operator()],
    });
    await lastValueFrom(p.run());
    await p.close();
    await pub.close();
    const got = await readAll(kafka.bootstrap, 'sync', pub.counts.rowMessages + pub.counts.denseMessages);
    t.true(pub.counts.denseMessages >= 3, `dense every 3 of 8 steps, then at the end: ${pub.counts.denseMessages}`);

    // Newest value per (table, id); versions never go down within a partition.
    const newest = new Map<string, { version: number; values: number[] }>();
    const lastVersion = new Map<number, number>();
    for (const { partition, msg } of got) {
      t.is(msg.modelName, p.spec.name);
      t.is(msg.publisher, 'trainer-a');
      t.true(msg.version >= (lastVersion.get(partition) ?? 0));
      lastVersion.set(partition, msg.version);
      if (msg.kind !== 'rows') continue;
      t.true(msg.ids.length / 2 <= 50, 'maxRows bounds a message');
      for (let i = 0; i < msg.ids.length / 2; i++) {
        const key = `${msg.table}/${msg.ids[2 * i]}/${msg.ids[2 * i + 1]}`;
        const prev = newest.get(key);
        if (!prev || msg.version >= prev.version) newest.set(key, { version: msg.version, values: Array.from(msg.values.subarray(i * msg.dim, (i + 1) * msg.dim)) });
      }
    }
    let rows = 0;
    for (const [name, table] of Object.entries(p.tables)) {
      const entries: [number, number][] = [];
      for (let s = 0; s < table.shards.length; s++) table.forEachEntry(s, (lo, hi) => void entries.push([lo, hi]));
      for (const [lo, hi] of entries) {
        rows++;
        const want = Array.from(table.lookupOnly(Uint32Array.of(lo, hi)));
        t.deepEqual(newest.get(`${name}/${lo}/${hi}`)?.values, want, `${name} id ${hi}:${lo}`);
      }
    }
    t.is(newest.size, rows, 'every row the trainer holds was published, nothing else');
    const lastDense = got.map((g) => g.msg).filter((m) => m.kind === 'dense').at(-1)!;
    t.is(lastDense.kind, 'dense');
    if (lastDense.kind === 'dense') t.deepEqual(lastDense.params.map((x) => Array.from(x.values)), p.dense.weights.map((w) => Array.from(w)));
  } finally {
    await kafka.close();
  }
});
