import type { MonoTypeOperatorFunction } from 'rxjs';
import { log } from '../../util/log.js';
import { passThrough } from '../hooks/pass-through.js';
import { KProducer, type KProducerCounts, type KProducerOptions, type KafkaMessage } from './kafka-producer.js';

export interface KafkaMetricSinkOptions<T> extends Partial<Omit<KProducerOptions, 'brokers' | 'topic'>> {
  /** The messages carried by one value (default: the value itself, a message or an array of them). */
  messages?: (value: T) => KafkaMessage | readonly (KafkaMessage | null | undefined)[] | null | undefined;
  /** Default `KAFKA_BROKER_LIST`. */
  brokers?: string;
  /** Default `KAFKA_TOPIC_NAME`. */
  topic?: string;
  env?: Readonly<Record<string, string | undefined>>;
  /** Receives the final counts when the producer has closed. */
  onClose?: (counts: KProducerCounts) => void;
}

/**
 * KafkaMetricHook: sends each value's messages to a Kafka topic through a
 * KProducer, passing values through unchanged; on completion flushes and
 * closes the producer before completing. Without brokers or topic (options
 * or `KAFKA_BROKER_LIST` / `KAFKA_TOPIC_NAME`) it only logs that and passes
 * values through, as the seed does.
 */
export function kafkaMetricSink<T>(opts: KafkaMetricSinkOptions<T> = {}): MonoTypeOperatorFunction<T> {
  const env = opts.env ?? process.env;
  const extract = opts.messages ?? ((v: T) => v as unknown as KafkaMessage | KafkaMessage[]);
  return passThrough<T>(() => {
    const brokers = opts.brokers ?? env.KAFKA_BROKER_LIST;
    const topic = opts.topic ?? env.KAFKA_TOPIC_NAME;
    if (!brokers || !topic) {
      log.info(`kafkaMetricSink: no kafka (brokers: ${brokers}, topic: ${topic}); messages are not sent`);
      return {};
    }
    const producer = new KProducer({ ...opts, brokers, topic });
    const close = async () => {
      const counts = await producer.close();
      opts.onClose?.(counts);
    };
    return {
      next(value) {
        producer.send(extract(value));
      },
      complete: close,
      error: () => close().catch(() => undefined),
      teardown() {
        void producer.close();
      },
    };
  });
}
