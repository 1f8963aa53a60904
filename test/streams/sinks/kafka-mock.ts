import Kafka from 'node-rdkafka';

/** A librdkafka mock cluster (a real Kafka protocol broker on loopback) held by one client. */
export interface MockKafka {
  bootstrap: string;
  /** Stops the broker. */
  close(): Promise<void>;
}

export function startMockKafka(): Promise<MockKafka> {
  const holder = new Kafka.Producer({ 'test.mock.num.brokers': 1, 'bootstrap.servers': 'mock:9092' } as Kafka.ProducerGlobalConfig);
  return new Promise((resolve, reject) => {
    holder.connect({ timeout: 10_000 }, (err, metadata) => {
      if (err) return reject(err);
      const broker = metadata.brokers[0]!;
      resolve({
        bootstrap: `${broker.host}:${broker.port}`,
        close: () => new Promise((r) => holder.disconnect(5_000, () => r())),
      });
    });
  });
}

/** Reads `count` messages of `topic` from the beginning of every partition (assigned directly: no group join). */
export function readMessages(bootstrap: string, topic: string, count: number, timeoutMs = 20_000): Promise<string[]> {
  const consumer = new Kafka.KafkaConsumer(
    { 'group.id': `test-${topic}`, 'metadata.broker.list': bootstrap, 'enable.auto.commit': false } as Kafka.ConsumerGlobalConfig,
    { 'auto.offset.reset': 'earliest' },
  );
  return new Promise((resolve, reject) => {
    const got: string[] = [];
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      consumer.disconnect(() => (err ? reject(err) : resolve(got)));
    };
    const timer = setTimeout(() => finish(new Error(`read ${got.length} of ${count} messages of ${topic} in ${timeoutMs} ms`)), timeoutMs);
    consumer.on('data', (m) => {
      got.push(m.value!.toString('utf8'));
      if (got.length === count) finish();
    });
    consumer.connect({ timeout: 10_000 }, (err) => {
      if (err) return finish(new Error(err.message));
      consumer.getMetadata({ topic, timeout: 10_000 }, (mdErr, md) => {
        if (mdErr) return finish(new Error(mdErr.message));
        const partitions = md.topics.find((x) => x.name === topic)?.partitions ?? [];
        consumer.assign(partitions.map((p) => ({ topic, partition: p.id, offset: 0 })));
        consumer.consume();
      });
    });
  });
}
